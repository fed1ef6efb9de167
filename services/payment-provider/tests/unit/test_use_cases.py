from __future__ import annotations

from datetime import UTC, datetime

import pytest

from payment_provider.domain import (
    CardNumber,
    ChargeNotFoundError,
    ChargeRequest,
    ChargeStatus,
    IdempotencyKeyReusedError,
    RefundExceedsChargeError,
)
from payment_provider.use_cases import Processor

from .fakes import FakeUnitOfWork

AT = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
DECLINED = {"4000000000000002": "card_declined"}


def request(*, card: str = "4242424242424242", amount_minor: int = 1299, reference: str = "o-1") -> ChargeRequest:
    return ChargeRequest(amount_minor=amount_minor, currency="GBP", card=CardNumber(card), reference=reference)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def processor(uow: FakeUnitOfWork) -> Processor:
    return Processor(uow=uow, declined_cards=DECLINED, clock=lambda: AT)


async def test_a_charge_is_made_once_per_key_and_replayed_after(processor: Processor, uow: FakeUnitOfWork) -> None:
    """The first request under a key makes a charge at the clock's time; the same request again replays it."""
    first = await processor.charge(idempotency_key="k-1", request=request())
    again = await processor.charge(idempotency_key="k-1", request=request())
    assert (first.replayed, again.replayed) == (False, True)
    assert first.charge.id.startswith("ch_") and first.charge.created_at == AT
    assert again.charge == first.charge
    assert list(uow.charges.charges) == [first.charge.id]


async def test_a_key_reused_for_another_charge_is_refused(processor: Processor, uow: FakeUnitOfWork) -> None:
    """Another amount under a used key is refused, and no second charge is made."""
    await processor.charge(idempotency_key="k-1", request=request())
    with pytest.raises(IdempotencyKeyReusedError):
        await processor.charge(idempotency_key="k-1", request=request(amount_minor=1))
    assert len(uow.charges.charges) == 1


async def test_a_configured_card_is_declined(processor: Processor) -> None:
    """A card the processor is configured to decline makes a declined charge with its code."""
    declined = await processor.charge(idempotency_key="k-1", request=request(card="4000000000000002"))
    assert (declined.charge.status, declined.charge.decline_code) == (ChargeStatus.DECLINED, "card_declined")


async def test_a_refund_is_made_once_per_key_with_its_charges_currency(processor: Processor) -> None:
    """A refund under a key gives money back once; the same key again replays it, and the charge shows it."""
    charge = (await processor.charge(idempotency_key="k-1", request=request())).charge
    first = await processor.refund(charge_id=charge.id, idempotency_key="r-1", amount_minor=299)
    again = await processor.refund(charge_id=charge.id, idempotency_key="r-1", amount_minor=None)
    assert (first.replayed, again.replayed, first.currency) == (False, True, "GBP")
    assert again.refund == first.refund and first.refund.id.startswith("re_")
    assert (await processor.find_charge(charge.id)).refunded_minor == 299


async def test_refunds_refused_change_nothing(processor: Processor) -> None:
    """A key reused for another amount, or more than is left, is refused and nothing more is refunded."""
    charge = (await processor.charge(idempotency_key="k-1", request=request())).charge
    await processor.refund(charge_id=charge.id, idempotency_key="r-1", amount_minor=299)
    with pytest.raises(IdempotencyKeyReusedError):
        await processor.refund(charge_id=charge.id, idempotency_key="r-1", amount_minor=300)
    with pytest.raises(RefundExceedsChargeError):
        await processor.refund(charge_id=charge.id, idempotency_key="r-2", amount_minor=1001)
    with pytest.raises(ChargeNotFoundError):
        await processor.refund(charge_id="ch_none", idempotency_key="r-3", amount_minor=None)
    assert (await processor.find_charge(charge.id)).refunded_minor == 299


async def test_charges_are_listed_by_reference(processor: Processor) -> None:
    """The charges of one reference are listed, and no other's."""
    mine = await processor.charge(idempotency_key="k-1", request=request(reference="o-1"))
    await processor.charge(idempotency_key="k-2", request=request(reference="o-2"))
    assert [c.id for c in await processor.charges_with_reference("o-1")] == [mine.charge.id]
