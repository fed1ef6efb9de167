"""The processor's HTTP API: charges and refunds behind idempotency keys, and the misbehaviour configured.

Each request first meets its fate (latency, then perhaps a 500/503 having done nothing); a request fated
to time out does its work, commits it, and only then sleeps past the caller's deadline, which is the case
a client must survive: the money moved, and the answer never came.
"""

from __future__ import annotations

import asyncio
import secrets
from http import HTTPStatus
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from paved import Problem, Provided, callers

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
from payment_provider.domain import CardNumber, Charge, ChargeRequest, Refund
from payment_provider.settings import ProviderSettings
from payment_provider.use_cases import Processor

_api_key = HTTPBearer(auto_error=False, scheme_name="ApiKey", description="The processor's secret API key")

CurrentProcessor = Annotated[Processor, Provided(Processor)]
"""The processor's use cases, for an endpoint's parameters."""


async def require_api_key(
    settings: Annotated[ProviderSettings, Provided(ProviderSettings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_api_key)],
) -> None:
    """Refuse the request unless it carries the API key, when one is configured."""
    expected = settings.provider_api_key
    if expected is None:
        return
    if credentials is None or not secrets.compare_digest(
        credentials.credentials.encode(), expected.get_secret_value().encode()
    ):
        raise Problem(
            401, "Unauthorized", "send 'Authorization: Bearer <API key>'", headers={"WWW-Authenticate": "Bearer"}
        )


async def _meet_fate(fates: Annotated[Fates, Provided(Fates)]) -> Fate:
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

# Who may call (deny by default, docs/zero-trust.md): payment, with its API key; the operators' tools too.
router = APIRouter(
    prefix="/charges",
    tags=["charges"],
    dependencies=[Depends(require_api_key), callers("payment", operators=True)],
)


async def _linger(fate: Fate) -> None:
    if fate.linger_seconds:
        await asyncio.sleep(fate.linger_seconds)


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
    new: NewCharge, key: IdempotencyKey, fate: CurrentFate, processor: CurrentProcessor, response: Response
) -> ChargeOut:
    asked = ChargeRequest(
        amount_minor=new.amount_minor, currency=new.currency, card=CardNumber(new.card_number), reference=new.reference
    )
    charged = await processor.charge(idempotency_key=key, request=asked)
    if charged.replayed:
        _replayed(response)
    await _linger(fate)
    return _charge_out(charged.charge)


@router.get("", summary="The charges made with a reference, oldest first")
async def list_charges(
    reference: Annotated[Reference, Query()], _: CurrentFate, processor: CurrentProcessor
) -> ChargeList:
    found = await processor.charges_with_reference(reference)
    return ChargeList(items=[_charge_out(charge) for charge in found])


@router.get("/{charge_id}", summary="One charge, with its refunds")
async def get_charge(charge_id: ChargeId, _: CurrentFate, processor: CurrentProcessor) -> ChargeOut:
    return _charge_out(await processor.find_charge(charge_id))


@router.post("/{charge_id}/refunds", status_code=status.HTTP_201_CREATED, summary="Give money back from a charge")
async def refund_charge(
    charge_id: ChargeId,
    key: IdempotencyKey,
    fate: CurrentFate,
    processor: CurrentProcessor,
    response: Response,
    new: NewRefund | None = None,
) -> RefundOut:
    amount = new.amount_minor if new is not None else None
    refunded = await processor.refund(charge_id=charge_id, idempotency_key=key, amount_minor=amount)
    if refunded.replayed:
        _replayed(response)
    await _linger(fate)
    return _refund_out(refunded.refund, refunded.currency)
