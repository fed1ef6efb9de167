"""The processor's HTTP API: charges and refunds behind idempotency keys, and the misbehaviour configured.

Each request first meets its fate (latency, then perhaps a 500/503 having done nothing); a request fated
to time out does its work, commits it, and only then sleeps past the caller's deadline, which is the case
a client must survive: the money moved, and the answer never came.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from paved import CurrentDatabase, Problem

from payment_provider.behaviour import Failure, Fate, Fates
from payment_provider.contract import (
    CHARGE_ID_PATTERN,
    IDEMPOTENCY_KEY,
    KEY_PATTERN,
    REPLAYED,
    ChargeList,
    ChargeOut,
    NewCharge,
    NewRefund,
    Reference,
    RefundOut,
)
from payment_provider.domain import (
    CardNumber,
    Charge,
    ChargeRequest,
    Refund,
    check_refund_replay,
)
from payment_provider.settings import ProviderSettings
from payment_provider.store import ChargeRepository

log = structlog.get_logger(logger_name="payment_provider.api")

_api_key = HTTPBearer(auto_error=False, scheme_name="ApiKey", description="The processor's secret API key")


def _settings(request: Request) -> ProviderSettings:
    return request.app.state.paved.settings  # type: ignore[no-any-return]


async def require_api_key(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_api_key)]
) -> None:
    """Refuse the request unless it carries the API key, when one is configured."""
    expected = _settings(request).provider_api_key
    if expected is None:
        return
    if credentials is None or not secrets.compare_digest(
        credentials.credentials.encode(), expected.get_secret_value().encode()
    ):
        raise Problem(
            401, "Unauthorized", "send 'Authorization: Bearer <API key>'", headers={"WWW-Authenticate": "Bearer"}
        )


async def _meet_fate(request: Request) -> Fate:
    fates: Fates = request.app.state.fates
    fate = fates.draw()
    if fate.delay_seconds:
        await asyncio.sleep(fate.delay_seconds)
    if fate.failure is Failure.ERROR:
        phrase = HTTPStatus(fate.error_status).phrase
        raise Problem(fate.error_status, phrase, "the processor failed (as configured); nothing was done")
    return fate


CurrentFate = Annotated[Fate, Depends(_meet_fate)]
IdempotencyKey = Annotated[str, Header(alias=IDEMPOTENCY_KEY, pattern=KEY_PATTERN, description="one per operation")]
ChargeId = Annotated[str, Path(pattern=CHARGE_ID_PATTERN, description="the id the processor gave the charge")]

router = APIRouter(prefix="/charges", tags=["charges"], dependencies=[Depends(require_api_key)])


async def _linger(fate: Fate, request: Request) -> None:
    if fate.failure is Failure.TIMEOUT:
        await asyncio.sleep(request.app.state.fates.behaviour.timeout_seconds)


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _refund_out(refund: Refund, currency: str) -> RefundOut:
    return RefundOut(
        id=refund.id,
        charge_id=refund.charge_id,
        amount_minor=refund.amount_minor,
        currency=currency,
        created_at=refund.created_at,
    )


def _charge_out(charge: Charge) -> ChargeOut:
    return ChargeOut(
        id=charge.id,
        status=charge.status.value,
        decline_code=charge.decline_code,
        amount_minor=charge.amount_minor,
        currency=charge.currency,
        card_last4=charge.card_last4,
        reference=charge.reference,
        refunded_minor=charge.refunded_minor,
        refunds=[_refund_out(refund, charge.currency) for refund in charge.refunds],
        created_at=charge.created_at,
    )


def _replayed(response: Response) -> None:
    response.status_code = status.HTTP_200_OK
    response.headers[REPLAYED] = "true"


@router.post("", status_code=status.HTTP_201_CREATED, summary="Charge a card (declined cards are charges too)")
async def create_charge(
    new: NewCharge, key: IdempotencyKey, fate: CurrentFate, db: CurrentDatabase, request: Request, response: Response
) -> ChargeOut:
    asked = ChargeRequest(
        amount_minor=new.amount_minor, currency=new.currency, card=CardNumber(new.card_number), reference=new.reference
    )
    async with db.transaction() as session:
        charges = ChargeRepository(session)
        charge = await charges.by_key(key)
        if charge is not None:
            charge.check_replay(asked)
            _replayed(response)
        else:
            charge = Charge.decide(
                charge_id=_new_id("ch"),
                idempotency_key=key,
                request=asked,
                declined_cards=_settings(request).provider_declined_cards,
                at=datetime.now(UTC),
            )
            await charges.add(charge)
    replayed = response.status_code == status.HTTP_200_OK
    # The last four digits identify the card to a person reading the log; the number never appears.
    log.info(
        "charge answered",
        charge_id=charge.id,
        status=charge.status.value,
        card_last4=charge.card_last4,
        replayed=replayed,
    )
    await _linger(fate, request)
    return _charge_out(charge)


@router.get("", summary="The charges made with a reference, oldest first")
async def list_charges(reference: Annotated[Reference, Query()], _: CurrentFate, db: CurrentDatabase) -> ChargeList:
    async with db.read() as session:
        found = await ChargeRepository(session).by_reference(reference, limit=100)
    return ChargeList(items=[_charge_out(charge) for charge in found])


@router.get("/{charge_id}", summary="One charge, with its refunds")
async def get_charge(charge_id: ChargeId, _: CurrentFate, db: CurrentDatabase) -> ChargeOut:
    async with db.read() as session:
        return _charge_out(await ChargeRepository(session).get(charge_id))


@router.post("/{charge_id}/refunds", status_code=status.HTTP_201_CREATED, summary="Give money back from a charge")
async def refund_charge(
    charge_id: ChargeId,
    key: IdempotencyKey,
    fate: CurrentFate,
    db: CurrentDatabase,
    request: Request,
    response: Response,
    new: NewRefund | None = None,
) -> RefundOut:
    amount = new.amount_minor if new is not None else None
    async with db.transaction() as session:
        charges = ChargeRepository(session)
        charge = await charges.get(charge_id, for_update=True)
        refund = await charges.refund_by_key(key)
        if refund is not None:
            check_refund_replay(refund, charge_id=charge_id, amount_minor=amount)
            _replayed(response)
        else:
            refund = charge.refund(
                refund_id=_new_id("re"), idempotency_key=key, amount_minor=amount, at=datetime.now(UTC)
            )
            await charges.add_refund(refund)
    log.info("refund answered", refund_id=refund.id, charge_id=charge_id, amount_minor=refund.amount_minor)
    await _linger(fate, request)
    return _refund_out(refund, charge.currency)
