from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path

import pytest

from payment.cards import CardNumber
from payment.clients import HttpPaymentProvider
from payment.money import Money
from payment.results import (
    Charged,
    ChargesFound,
    Declined,
    FoundCharge,
    NoAnswer,
    RefundMade,
    Refused,
)

from .processes import ProviderProcess, free_port
from .values import DECLINED_CARD, GOOD_CARD, new_order_id

PRICE = Money(1299, "GBP")


@pytest.fixture
async def adapter(provider: ProviderProcess) -> AsyncIterator[HttpPaymentProvider]:
    """The HTTP adapter, talking to the real payment-provider over the network."""
    http = HttpPaymentProvider(provider.url, timeout=5.0)
    async with aclosing(http):
        yield http


async def test_a_charge_is_made_once_per_key(adapter: HttpPaymentProvider, provider: ProviderProcess) -> None:
    """Charging twice under one key gets the same charge back; the processor holds one."""
    order_id = new_order_id()
    first = await adapter.charge(idempotency_key=order_id, amount=PRICE, card=CardNumber(GOOD_CARD), reference=order_id)
    again = await adapter.charge(idempotency_key=order_id, amount=PRICE, card=CardNumber(GOOD_CARD), reference=order_id)
    assert isinstance(first, Charged)
    assert again == first
    assert [charge["id"] for charge in provider.charges(order_id)] == [first.charge_id]


async def test_a_declined_card_is_declined_with_its_code(adapter: HttpPaymentProvider) -> None:
    """The processor's declined test card comes back Declined, with its code."""
    order_id = new_order_id()
    result = await adapter.charge(
        idempotency_key=order_id, amount=PRICE, card=CardNumber(DECLINED_CARD), reference=order_id
    )
    assert isinstance(result, Declined)
    assert result.code == "card_declined"


async def test_a_number_the_processor_refuses_is_refused(adapter: HttpPaymentProvider) -> None:
    """A number failing the Luhn check is refused by the processor (422): retrying cannot help."""
    order_id = new_order_id()
    result = await adapter.charge(
        idempotency_key=order_id, amount=PRICE, card=CardNumber("4242424242424241"), reference=order_id
    )
    assert isinstance(result, Refused)
    assert result.reason.startswith("422")
    assert "4242424242424241" not in result.reason


async def test_a_refund_is_made_once_per_key_and_the_charges_are_found(adapter: HttpPaymentProvider) -> None:
    """A refund sent twice under one key is one refund; the look-up finds the reference's charges."""
    order_id = new_order_id()
    charged = await adapter.charge(
        idempotency_key=order_id, amount=PRICE, card=CardNumber(GOOD_CARD), reference=order_id
    )
    assert isinstance(charged, Charged)
    key = f"{order_id}:refund"
    first = await adapter.refund(charge_id=charged.charge_id, idempotency_key=key, amount=PRICE)
    again = await adapter.refund(charge_id=charged.charge_id, idempotency_key=key, amount=PRICE)
    assert isinstance(first, RefundMade)
    assert again == first
    assert await adapter.charges_for(order_id) == ChargesFound((FoundCharge(charged.charge_id, succeeded=True),))
    assert await adapter.charges_for(new_order_id()) == ChargesFound(())


async def test_a_processor_that_is_not_there_surely_charged_nothing() -> None:
    """Nothing listens at the address: no answer, and surely nothing done."""
    http = HttpPaymentProvider(f"http://127.0.0.1:{free_port()}", timeout=2.0)
    async with aclosing(http):
        result = await http.charge(idempotency_key="o-1", amount=PRICE, card=CardNumber(GOOD_CARD), reference="o-1")
    assert isinstance(result, NoAnswer)
    assert not result.maybe_done


async def test_a_processor_that_times_out_may_have_charged(
    tmp_path: Path, broker_url: str, provider_template: Path
) -> None:
    """The processor charges and holds its answer past the deadline: no answer, and maybe done (it was)."""
    slow = ProviderProcess(tmp_path, broker_url=broker_url)
    slow.migrate(template=provider_template)
    slow.start(timeout_rate=1.0, timeout_seconds=60)
    try:
        http = HttpPaymentProvider(slow.url, timeout=0.5)
        async with aclosing(http):
            result = await http.charge(idempotency_key="o-1", amount=PRICE, card=CardNumber(GOOD_CARD), reference="o-1")
        assert isinstance(result, NoAnswer)
        assert result.maybe_done
        assert result.reason.startswith("ReadTimeout")
    finally:
        slow.stop()
