from __future__ import annotations

from typing import Any

import pytest
from paved import Envelope
from paved.messaging import Handling, PendingRequest

from order import partners
from order.domain import Send, Step
from order.handlers import Continuations, MisdirectedReplyError
from order.lifecycle import OrderStatus
from order.ports import SentCommand
from order.saga import Fulfilment

from .examples import order_in
from .fakes import VISA, Clock, FakeStore


class Stores:
    """Opens the one fake store whatever the transaction, as order opens its store in paved's."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def store_in(self, session: Any, *, caused_by: Envelope | None = None) -> FakeStore:
        return self.store


async def continuations_for(status: OrderStatus, step: Step) -> tuple[Continuations, FakeStore]:
    """Handlers over a store holding ``ord-1`` in ``status``, with command ``cmd-1`` sent for it at ``step``."""
    store = FakeStore()
    order = order_in(status)
    store.orders.rows[order.id] = order
    await store.cards.keep(order.id, VISA)
    store.commands["cmd-1"] = SentCommand(order.id, step, 1)
    return Continuations(uow=Stores(store), fulfilment=Fulfilment(clock=Clock())), store


def handling() -> Handling:
    envelope = Envelope(type="x.Reply", correlation_id="c", data={})
    return Handling(session=None, envelope=envelope, outbox=None)  # type: ignore[arg-type]


def request(request_id: str = "cmd-1") -> PendingRequest:
    return PendingRequest(id=request_id, command_type="warehouse.ReserveStock", correlation_id="c")


async def test_a_reply_continues_the_saga_of_the_order_its_command_was_sent_for() -> None:
    """StockReserved for cmd-1 moves ord-1 on and asks for payment."""
    handlers, store = await continuations_for(OrderStatus.PLACED, Step.RESERVE_STOCK)
    await handlers.stock_reserved(handling(), partners.StockReserved(order_id="ord-1"), request())
    assert (await store.orders.get("ord-1")).status is OrderStatus.STOCK_RESERVED
    assert store.sent == [("ord-1", Send(Step.TAKE_PAYMENT))]


async def test_a_reply_naming_another_order_fails_so_that_it_is_parked() -> None:
    """A partner's mix-up is not taken for an answer: the order stays as it was."""
    handlers, store = await continuations_for(OrderStatus.PLACED, Step.RESERVE_STOCK)
    with pytest.raises(MisdirectedReplyError, match="ord-2"):
        await handlers.stock_reserved(handling(), partners.StockReserved(order_id="ord-2"), request())
    assert (await store.orders.get("ord-1")).status is OrderStatus.PLACED and store.sent == []


async def test_a_reply_to_a_command_order_has_no_record_of_is_ignored() -> None:
    """Nothing to continue: nothing changes, nothing fails."""
    handlers, store = await continuations_for(OrderStatus.PLACED, Step.RESERVE_STOCK)
    await handlers.stock_reserved(handling(), partners.StockReserved(order_id="ord-1"), request("cmd-unknown"))
    assert (await store.orders.get("ord-1")).status is OrderStatus.PLACED


@pytest.mark.parametrize(
    ("reply", "event", "reason"),
    [
        (
            partners.PaymentDeclined(order_id="ord-1", decline_code="do_not_honor"),
            "payment_declined",
            "the card was declined (do_not_honor)",
        ),
        (
            partners.PaymentFailed(order_id="ord-1", reason="provider unavailable"),
            "payment_failed",
            "the payment failed (provider unavailable)",
        ),
    ],
)
async def test_a_refused_payment_is_recorded_with_payments_reason(
    reply: partners.PaymentDeclined | partners.PaymentFailed, event: str, reason: str
) -> None:
    """The history says why, in payment's words when it gives them."""
    handlers, store = await continuations_for(OrderStatus.STOCK_RESERVED, Step.TAKE_PAYMENT)
    refuse = handlers.declined if isinstance(reply, partners.PaymentDeclined) else handlers.failed
    await refuse(handling(), reply, request())  # type: ignore[arg-type]
    last = store.orders.entries["ord-1"][-1]
    assert (last.status, last.event, last.reason) == (OrderStatus.REJECTED, event, reason)


async def test_a_shortage_is_recorded_sku_by_sku() -> None:
    """The rejection says which SKU was short, by how much."""
    handlers, store = await continuations_for(OrderStatus.PLACED, Step.RESERVE_STOCK)
    shortage = partners.Shortage(sku="ALB-00001", requested=2, available=1)
    await handlers.out_of_stock(handling(), partners.OutOfStock(order_id="ord-1", shortages=(shortage,)), request())
    assert store.orders.entries["ord-1"][-1].reason == "not enough stock: ALB-00001 (asked 2, 1 available)"


async def test_nothing_to_refund_is_a_refund_done() -> None:
    """Payment took nothing: the history says why, and nothing is asked again."""
    handlers, store = await continuations_for(OrderStatus.REJECTED, Step.REFUND_PAYMENT)
    reply = partners.NothingToRefund(order_id="ord-1", reason="declined")
    await handlers.nothing_to_refund(handling(), reply, request())
    last = store.orders.entries["ord-1"][-1]
    assert (last.event, last.reason) == ("nothing_to_refund", "declined") and store.sent == []


async def test_a_timeout_continues_the_saga_with_the_commands_step_and_attempt() -> None:
    """An unanswered payment (attempt 1) is asked again as attempt 2."""
    handlers, store = await continuations_for(OrderStatus.STOCK_RESERVED, Step.TAKE_PAYMENT)
    await handlers.timed_out(handling(), request())
    assert store.sent == [("ord-1", Send(Step.TAKE_PAYMENT, 2))]


def test_replies_are_read_tolerantly() -> None:
    """A field a partner adds later does not make order refuse its reply."""
    reply = partners.StockReserved.model_validate(
        {"order_id": "ord-1", "lines": [], "expires_at": "2026-11-26T12:00:00Z"}
    )
    assert reply.order_id == "ord-1"
