"""The fulfilment saga, orchestrated by order: reserve stock, take payment, award points, dispatch.

Order sends each step's command with a deadline and continues from the answer, in whichever instance
the answer reaches: everything it continues from is in its database (the order, and which command was
sent for which order and step). What to do at each answer is the order's own rule
(``order.lifecycle``); this module loads the order, applies the answer, and carries out what the order
decided: the commands to send, the facts to publish, and forgetting the card once payment can no
longer be asked for. Issue 5 turns this into paved's general saga engine.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from order.domain import Send, Step
from order.facts import RejectionReason
from order.lifecycle import Order
from order.ports import SentCommand, Store

Clock = Callable[[], datetime]
"""What time it is, timezone-aware UTC; tests pass one of their own."""


def utc_now() -> datetime:
    """The system's time, in UTC."""
    return datetime.now(UTC)


class Fulfilment:
    """Carries each order forward from its partners' answers and deadlines, in the caller's transaction."""

    def __init__(self, *, clock: Clock = utc_now, max_attempts: int = 3) -> None:
        self.clock = clock
        self.max_attempts = max_attempts

    async def carry_out(self, store: Store, order: Order, commands: list[Send]) -> None:
        """Send what ``order`` needs sent and publish what it recorded (it is saved by the caller)."""
        for command in commands:
            await store.send(order, command)
        for fact in order.facts:
            await store.announce(fact)
        order.facts.clear()
        if not order.payment_may_be_asked:
            # The card was kept only to be sent to payment; from here on it is only a liability.
            await store.cards.forget(order.id)

    async def _load(self, store: Store, order_id: str) -> tuple[Order, datetime]:
        # Held until the transaction ends: answers for one order, and its customer's cancellation,
        # may be handled at the same moment by different instances.
        return await store.orders.get(order_id, for_update=True), self.clock()

    async def _save(self, store: Store, order: Order, commands: list[Send]) -> None:
        await store.orders.save(order)
        await self.carry_out(store, order, commands)

    # -- the warehouse -----------------------------------------------------------------------------

    async def stock_reserved(self, store: Store, sent: SentCommand) -> None:
        """The warehouse holds the stock (only an answer to ReserveStock reserves)."""
        order, now = await self._load(store, sent.order_id)
        if sent.step is Step.RESERVE_STOCK:
            await self._save(store, order, order.stock_reserved(at=now))

    async def out_of_stock(self, store: Store, sent: SentCommand, *, shortages: str) -> None:
        """The warehouse could not hold every line."""
        order, now = await self._load(store, sent.order_id)
        await self._save(store, order, order.out_of_stock(shortages, at=now))

    async def stock_released(self, store: Store, sent: SentCommand, *, detail: str) -> None:
        """The warehouse holds nothing for the order: released as asked, or lapsed before dispatch."""
        order, now = await self._load(store, sent.order_id)
        if sent.step is Step.DISPATCH_ORDER:
            await self._save(store, order, order.stock_lapsed(detail, at=now))
        else:
            await self._save(store, order, order.stock_released(at=now))

    async def dispatched(self, store: Store, sent: SentCommand) -> None:
        """The warehouse sent the parcel."""
        order, now = await self._load(store, sent.order_id)
        await self._save(store, order, order.dispatched(at=now))

    # -- payment -----------------------------------------------------------------------------------

    async def payment_taken(self, store: Store, sent: SentCommand) -> None:
        """Payment charged the card."""
        order, now = await self._load(store, sent.order_id)
        await self._save(store, order, order.payment_taken(at=now))

    async def payment_refused(self, store: Store, sent: SentCommand, *, reason: RejectionReason, detail: str) -> None:
        """Payment declined the card, or failed."""
        order, now = await self._load(store, sent.order_id)
        await self._save(store, order, order.payment_refused(reason, detail, at=now))

    async def payment_refunded(self, store: Store, sent: SentCommand) -> None:
        """Payment gave the money back."""
        order, now = await self._load(store, sent.order_id)
        await self._save(store, order, order.payment_refunded(at=now))

    async def nothing_to_refund(self, store: Store, sent: SentCommand, *, reason: str) -> None:
        """Payment took nothing for the order, so there is nothing to give back."""
        order, now = await self._load(store, sent.order_id)
        await self._save(store, order, order.nothing_to_refund(reason, at=now))

    # -- loyalty -----------------------------------------------------------------------------------

    async def points_awarded(self, store: Store, sent: SentCommand, *, points: int) -> None:
        """Loyalty awarded the order's points."""
        order, now = await self._load(store, sent.order_id)
        await self._save(store, order, order.points_awarded(points, at=now))

    async def points_revoked(self, store: Store, sent: SentCommand) -> None:
        """Loyalty took the order's points back."""
        order, now = await self._load(store, sent.order_id)
        await self._save(store, order, order.points_revoked(at=now))

    # -- no answer ---------------------------------------------------------------------------------

    async def timed_out(self, store: Store, sent: SentCommand) -> None:
        """A command got no answer by its deadline: the order decides whether to ask again."""
        order, now = await self._load(store, sent.order_id)
        commands = order.timed_out(sent.step, sent.attempt, max_attempts=self.max_attempts, at=now)
        await self._save(store, order, commands)

    # -- the customer ------------------------------------------------------------------------------

    async def cancel(self, store: Store, order: Order) -> None:
        """Cancel ``order`` (loaded for update by the caller, who checked it is the customer's)."""
        await self._save(store, order, order.cancel(at=self.clock()))
