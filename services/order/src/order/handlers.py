"""How order continues from its partners' answers and from their silence.

Each answer and each timeout is handled in the transaction paved opened for it (which also records it
as handled, or settles the request as timed out, exactly once). The command it answers is looked up by
its message id, which gives the order and the step; the saga does the rest.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Protocol

import structlog
from paved import Envelope
from paved.messaging import Handling, PendingRequest, Requests
from sqlalchemy.ext.asyncio import AsyncSession

from order import partners
from order.facts import RejectionReason
from order.ports import SentCommand, Store
from order.saga import Fulfilment

log = structlog.get_logger(logger_name="order.handlers")

Continue = Callable[[Store, SentCommand], Awaitable[None]]

COMMANDS = (
    partners.ReserveStock,
    partners.ReleaseStock,
    partners.DispatchOrder,
    partners.TakePayment,
    partners.RefundPayment,
    partners.AwardPoints,
    partners.RevokePoints,
)


class OpensStores(Protocol):
    def store_in(self, session: AsyncSession, *, caused_by: Envelope | None = None) -> Store:
        """order's store in the transaction paved opened for a message."""
        ...


class MisdirectedReplyError(Exception):
    """A reply names another order than the command it answers: a partner's bug, parked for a person."""


def _shortages(reply: partners.OutOfStock) -> str:
    return ", ".join(f"{s.sku} (asked {s.requested}, {s.available} available)" for s in reply.shortages)


def _refusal(reply: partners.PaymentDeclined | partners.PaymentFailed) -> str:
    if isinstance(reply, partners.PaymentDeclined):
        return f"the card was declined ({reply.decline_code})"
    return f"the payment failed ({reply.reason})"


class Continuations:
    """One handler per reply type and one for every timeout, each continuing the saga of its order."""

    def __init__(self, *, uow: OpensStores, fulfilment: Fulfilment) -> None:
        self.uow = uow
        self.saga = fulfilment

    async def _sent(self, handling: Handling, request: PendingRequest) -> tuple[Store, SentCommand] | None:
        store = self.uow.store_in(handling.session, caused_by=handling.envelope)
        sent = await store.sent_command(request.id)
        if sent is None:
            log.warning("answer to a command order has no record of; ignored", request_id=request.id)
            return None
        return store, sent

    async def _answered(
        self, handling: Handling, reply: partners.Answer, request: PendingRequest, then: Continue
    ) -> None:
        found = await self._sent(handling, request)
        if found is None:
            return
        store, sent = found
        if reply.order_id != sent.order_id:
            # Failing leaves the request pending: its deadline then decides, and the reply is parked.
            raise MisdirectedReplyError(
                f"{reply.message_type} for {reply.order_id} answers a command for {sent.order_id}"
            )
        await then(store, sent)

    async def stock_reserved(self, handling: Handling, reply: partners.StockReserved, request: PendingRequest) -> None:
        await self._answered(handling, reply, request, self.saga.stock_reserved)

    async def out_of_stock(self, handling: Handling, reply: partners.OutOfStock, request: PendingRequest) -> None:
        then = partial(self.saga.out_of_stock, shortages=_shortages(reply))
        await self._answered(handling, reply, request, then)

    async def stock_released(self, handling: Handling, reply: partners.StockReleased, request: PendingRequest) -> None:
        then = partial(self.saga.stock_released, detail=f"the warehouse no longer held the stock ({reply.reason})")
        await self._answered(handling, reply, request, then)

    async def no_reservation(
        self, handling: Handling, reply: partners.ReservationNotFound, request: PendingRequest
    ) -> None:
        then = partial(self.saga.stock_released, detail="the warehouse had no reservation for the order")
        await self._answered(handling, reply, request, then)

    async def dispatched(self, handling: Handling, reply: partners.OrderDispatched, request: PendingRequest) -> None:
        await self._answered(handling, reply, request, self.saga.dispatched)

    async def payment_taken(self, handling: Handling, reply: partners.PaymentTaken, request: PendingRequest) -> None:
        await self._answered(handling, reply, request, self.saga.payment_taken)

    async def declined(self, handling: Handling, reply: partners.PaymentDeclined, request: PendingRequest) -> None:
        then = partial(self.saga.payment_refused, reason=RejectionReason.PAYMENT_DECLINED, detail=_refusal(reply))
        await self._answered(handling, reply, request, then)

    async def failed(self, handling: Handling, reply: partners.PaymentFailed, request: PendingRequest) -> None:
        then = partial(self.saga.payment_refused, reason=RejectionReason.PAYMENT_FAILED, detail=_refusal(reply))
        await self._answered(handling, reply, request, then)

    async def refunded(self, handling: Handling, reply: partners.PaymentRefunded, request: PendingRequest) -> None:
        await self._answered(handling, reply, request, self.saga.payment_refunded)

    async def nothing_to_refund(
        self, handling: Handling, reply: partners.NothingToRefund, request: PendingRequest
    ) -> None:
        await self._answered(handling, reply, request, partial(self.saga.nothing_to_refund, reason=reply.reason))

    async def points_awarded(self, handling: Handling, reply: partners.PointsAwarded, request: PendingRequest) -> None:
        await self._answered(handling, reply, request, partial(self.saga.points_awarded, points=reply.points))

    async def points_revoked(self, handling: Handling, reply: partners.PointsRevoked, request: PendingRequest) -> None:
        await self._answered(handling, reply, request, self.saga.points_revoked)

    async def timed_out(self, handling: Handling, request: PendingRequest) -> None:
        found = await self._sent(handling, request)
        if found is not None:
            await self.saga.timed_out(*found)


def register(requests: Requests, *, uow: OpensStores, fulfilment: Fulfilment) -> None:
    """Continue each order's fulfilment from the replies and timeouts of the commands sent with ``requests``."""
    handlers = Continuations(uow=uow, fulfilment=fulfilment)
    requests.on_reply(partners.StockReserved)(handlers.stock_reserved)
    requests.on_reply(partners.OutOfStock)(handlers.out_of_stock)
    requests.on_reply(partners.StockReleased)(handlers.stock_released)
    requests.on_reply(partners.ReservationNotFound)(handlers.no_reservation)
    requests.on_reply(partners.OrderDispatched)(handlers.dispatched)
    requests.on_reply(partners.PaymentTaken)(handlers.payment_taken)
    requests.on_reply(partners.PaymentDeclined)(handlers.declined)
    requests.on_reply(partners.PaymentFailed)(handlers.failed)
    requests.on_reply(partners.PaymentRefunded)(handlers.refunded)
    requests.on_reply(partners.NothingToRefund)(handlers.nothing_to_refund)
    requests.on_reply(partners.PointsAwarded)(handlers.points_awarded)
    requests.on_reply(partners.PointsRevoked)(handlers.points_revoked)
    for command in COMMANDS:
        requests.on_timeout(command)(handlers.timed_out)
