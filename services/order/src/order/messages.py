"""What order says on the broker: each step's command to its partner, and the facts it publishes.

Commands go through paved's requests (the outbox, with a deadline for the answer), and each is logged
with its order and step in the same transaction, so that its answer or its timeout finds its order in
whichever instance handles it. Facts go through the outbox as order's contract events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from paved import Envelope
from paved.messaging import Command, Event, Outbox, Requests
from sqlalchemy.ext.asyncio import AsyncSession

from order import contract, partners
from order.domain import Money, Send, Step
from order.facts import Fact, OrderCancelled, OrderDispatched, OrderPlaced, OrderRejected
from order.lifecycle import Order
from order.ports import SentCommand
from order.store import CardTable, CommandLog


class CardMissingError(RuntimeError):
    """Payment is to be asked while the order's card is no longer kept: a broken invariant, not a refusal."""


@dataclass(frozen=True)
class Deadlines:
    """How long each partner has to answer."""

    command: timedelta
    payment: timedelta

    def of(self, step: Step) -> timedelta:
        """How long the partner of ``step`` has to answer it."""
        return self.payment if step in (Step.TAKE_PAYMENT, Step.REFUND_PAYMENT) else self.command


def _total(order: Order) -> partners.Money:
    total = order.total
    return partners.Money(amount_minor=total.amount_minor, currency=total.currency)


class Messenger:
    """Sends an order's commands and publishes its facts, in one transaction's session."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        requests: Requests,
        outbox: Outbox,
        log: CommandLog,
        cards: CardTable,
        deadlines: Deadlines,
        clock: Callable[[], datetime],
        caused_by: Envelope | None = None,
    ) -> None:
        self.session = session
        self.requests = requests
        self.outbox = outbox
        self.log = log
        self.cards = cards
        self.deadlines = deadlines
        self.clock = clock
        self.caused_by = caused_by

    async def send(self, order: Order, command: Send) -> None:
        """Send the step's command with its deadline, and log which order and step it is for."""
        message, subject = await self._command(order, command.step)
        envelope = await self.requests.send(
            self.session, message, subject=subject, deadline=self.deadlines.of(command.step), caused_by=self.caused_by
        )
        await self.log.record(envelope.id, SentCommand(order.id, command.step, command.attempt), at=self.clock())

    async def announce(self, fact: Fact) -> None:
        """Publish ``fact`` as order's contract event, in this transaction."""
        event, subject = _published(fact)
        await self.outbox.put(self.session, event.envelope(caused_by=self.caused_by), subject=subject)

    async def _command(self, order: Order, step: Step) -> tuple[Command, str]:
        match step:
            case Step.RESERVE_STOCK:
                lines = tuple(partners.StockLine(sku=line.sku, quantity=line.quantity) for line in order.lines)
                return partners.ReserveStock(order_id=order.id, lines=lines), partners.RESERVE_STOCK_SUBJECT
            case Step.RELEASE_STOCK:
                return partners.ReleaseStock(order_id=order.id), partners.RELEASE_STOCK_SUBJECT
            case Step.DISPATCH_ORDER:
                return partners.DispatchOrder(order_id=order.id), partners.DISPATCH_ORDER_SUBJECT
            case Step.TAKE_PAYMENT:
                card = await self.cards.card_of(order.id)
                if card is None:
                    raise CardMissingError(f"order {order.id} is {order.status} but its card is no longer kept")
                total = order.total
                take = partners.TakePayment(
                    order_id=order.id,
                    customer_id=order.customer_id,
                    amount_minor=total.amount_minor,
                    currency=total.currency,
                    card_number=card.digits,
                )
                return take, partners.TAKE_PAYMENT_SUBJECT
            case Step.REFUND_PAYMENT:
                return partners.RefundPayment(order_id=order.id), partners.REFUND_PAYMENT_SUBJECT
            case Step.AWARD_POINTS:
                award = partners.AwardPoints(order_id=order.id, customer_id=order.customer_id, amount=_total(order))
                return award, partners.AWARD_POINTS_SUBJECT
            case Step.REVOKE_POINTS:
                revoke = partners.RevokePoints(order_id=order.id, customer_id=order.customer_id)
                return revoke, partners.REVOKE_POINTS_SUBJECT


def _price(money: Money) -> contract.Money:
    return contract.Money(amount_minor=money.amount_minor, currency=money.currency)


def _published(fact: Fact) -> tuple[Event, str]:
    """The contract event that tells ``fact``, and its subject."""
    match fact:
        case OrderPlaced():
            lines = [
                contract.PlacedLine(
                    sku=line.sku, title=line.title, quantity=line.quantity, unit_price=_price(line.unit_price)
                )
                for line in fact.lines
            ]
            placed = contract.OrderPlaced(
                order_id=fact.order_id,
                customer_id=fact.customer_id,
                lines=lines,
                total=_price(fact.total),
                placed_at=fact.at,
            )
            return placed, contract.ORDER_PLACED_SUBJECT
        case OrderDispatched():
            dispatched = contract.OrderDispatched(
                order_id=fact.order_id, customer_id=fact.customer_id, total=_price(fact.total), dispatched_at=fact.at
            )
            return dispatched, contract.ORDER_DISPATCHED_SUBJECT
        case OrderRejected():
            rejected = contract.OrderRejected(
                order_id=fact.order_id,
                customer_id=fact.customer_id,
                total=_price(fact.total),
                reason=fact.reason.value,
                detail=fact.detail,
                rejected_at=fact.at,
            )
            return rejected, contract.ORDER_REJECTED_SUBJECT
        case OrderCancelled():
            cancelled = contract.OrderCancelled(
                order_id=fact.order_id,
                customer_id=fact.customer_id,
                total=_price(fact.total),
                reason=fact.reason,
                cancelled_at=fact.at,
            )
            return cancelled, contract.ORDER_CANCELLED_SUBJECT
