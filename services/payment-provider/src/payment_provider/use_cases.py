"""The processor's use cases: charge a card, refund a charge, and look charges up, each one unit of work.

Every charge and refund is made under its idempotency key: the same key with the same request returns the
first answer, marked as replayed, instead of doing it again (also after a restart: it is in the database).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass

import structlog
from paved import Clock, utc_now

from payment_provider.domain import Charge, ChargeRequest, Refund, check_refund_replay
from payment_provider.ports import UnitOfWork

log = structlog.get_logger(logger_name="payment_provider.use_cases")

# The most charges one reference lists: a client's reference (an order) has a handful.
LISTED_PER_REFERENCE = 100


def new_id(prefix: str) -> str:
    """An opaque id such as ``ch_5f0c…``, as a processor gives its charges and refunds."""
    return f"{prefix}_{secrets.token_hex(12)}"


@dataclass(frozen=True)
class Charged:
    """A charge answered: made now, or ``replayed`` from the first request with its key."""

    charge: Charge
    replayed: bool


@dataclass(frozen=True)
class Refunded:
    """A refund answered: made now, or ``replayed``; with the currency of its charge."""

    refund: Refund
    currency: str
    replayed: bool


class Processor:
    """The card processor's use cases over its store, the cards it declines and its clock."""

    def __init__(self, *, uow: UnitOfWork, declined_cards: Mapping[str, str], clock: Clock = utc_now) -> None:
        self.uow = uow
        self.declined_cards = declined_cards
        self.clock = clock

    async def charge(self, *, idempotency_key: str, request: ChargeRequest) -> Charged:
        """Charge the card, or decline it; the first charge of ``idempotency_key`` again if it has one."""
        async with self.uow.write() as charges:
            charge = await charges.by_key(idempotency_key)
            replayed = charge is not None
            if charge is not None:
                charge.check_replay(request)
            else:
                charge = Charge.decide(
                    charge_id=new_id("ch"),
                    idempotency_key=idempotency_key,
                    request=request,
                    declined_cards=self.declined_cards,
                    at=self.clock(),
                )
                await charges.add(charge)
        # The last four digits identify the card to a person reading the log; the number never appears.
        log.info(
            "charge answered",
            charge_id=charge.id,
            status=charge.status.value,
            card_last4=charge.card_last4,
            replayed=replayed,
        )
        return Charged(charge, replayed)

    async def refund(self, *, charge_id: str, idempotency_key: str, amount_minor: int | None) -> Refunded:
        """Give ``amount_minor`` back from the charge (all that is left when None), once per key."""
        async with self.uow.write() as charges:
            charge = await charges.get(charge_id, for_update=True)
            refund = await charges.refund_by_key(idempotency_key)
            replayed = refund is not None
            if refund is not None:
                check_refund_replay(refund, charge_id=charge_id, amount_minor=amount_minor)
            else:
                refund = charge.refund(
                    refund_id=new_id("re"), idempotency_key=idempotency_key, amount_minor=amount_minor, at=self.clock()
                )
                await charges.add_refund(refund)
        log.info("refund answered", refund_id=refund.id, charge_id=charge_id, amount_minor=refund.amount_minor)
        return Refunded(refund, charge.currency, replayed)

    async def find_charge(self, charge_id: str) -> Charge:
        """The charge, with its refunds; ``ChargeNotFoundError`` if there is none."""
        async with self.uow.read() as charges:
            return await charges.get(charge_id)

    async def charges_with_reference(self, reference: str) -> list[Charge]:
        """The charges made with the client's ``reference``, oldest first."""
        async with self.uow.read() as charges:
            return await charges.by_reference(reference, limit=LISTED_PER_REFERENCE)
