from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from paved import Asker

from payment.cards import CardNumber
from payment.domain import Payment
from payment.money import Money
from payment.retries import RetryPolicy
from payment.use_cases import CardKeeper, Cashier, TakeRequest

from .fakes import (
    GOOD_CARD,
    FakeProvider,
    FakeStore,
    FakeUnitOfWork,
    FakeVault,
    ManualClock,
)

POLICY = RetryPolicy(
    charge_attempts=3,
    first_retry=timedelta(seconds=1),
    longest_retry=timedelta(seconds=30),
    look_up_after=timedelta(seconds=60),
)
LEASE = timedelta(seconds=20)
PRICE = Money(1299, "GBP")
_ids = itertools.count(1)


def asker(*, reply_to: str | None = "orders.replies") -> Asker:
    """A new command's sender (a new message id each time, as a retried command has)."""
    n = next(_ids)
    return Asker(id=f"m-{n}", correlation_id=f"c-{n}", reply_to=reply_to, traceparent=None)


@dataclass
class Till:
    """The cashier and card keeper on fakes, and what a test does with it: send commands and events, let the
    worker run."""

    clock: ManualClock = field(default_factory=ManualClock)
    provider: FakeProvider = field(default_factory=FakeProvider)
    vault: FakeVault = field(default_factory=FakeVault)
    uow: FakeUnitOfWork = field(default_factory=FakeUnitOfWork)

    def __post_init__(self) -> None:
        self.cashier = Cashier(
            uow=self.uow, provider=self.provider, vault=self.vault, policy=POLICY, lease=LEASE, clock=self.clock
        )
        self.keeper = CardKeeper(cashier=self.cashier, vault=self.vault, clock=self.clock)

    async def take(
        self, order_id: str = "o-1", *, card: CardNumber = GOOD_CARD, amount: Money = PRICE, by: Asker | None = None
    ) -> Asker:
        """A TakePayment handled, as its handler would: in a transaction of its own."""
        by = by or asker()
        request = TakeRequest(order_id=order_id, customer_id="customer-1", amount=amount, card=card)
        async with self.uow.write() as store:
            await self.cashier.take(store, request, by)
        return by

    async def refund(self, order_id: str = "o-1", *, by: Asker | None = None) -> Asker:
        """A RefundPayment handled, in a transaction of its own."""
        by = by or asker()
        async with self.uow.write() as store:
            await self.cashier.refund(store, order_id, by)
        return by

    async def keep_card(
        self, order_id: str = "o-1", *, card: CardNumber = GOOD_CARD, amount: Money = PRICE, by: Asker | None = None
    ) -> Asker:
        """A KeepCard handled (it asks no reply), in a transaction of its own."""
        by = by or asker(reply_to=None)
        request = TakeRequest(order_id=order_id, customer_id="customer-1", amount=amount, card=card)
        async with self.uow.write() as store:
            await self.keeper.keep_card(store, request, by)
        return by

    async def stock_reserved(self, order_id: str = "o-1", *, by: Asker | None = None) -> Asker:
        """A warehouse.StockReserved event handled, in a transaction of its own."""
        by = by or asker(reply_to=None)
        async with self.uow.write() as store:
            await self.keeper.stock_reserved(store, order_id, by)
        return by

    async def order_ended(self, order_id: str = "o-1", *, by: Asker | None = None) -> Asker:
        """An order.OrderCancelled or OrderRejected event handled, in a transaction of its own."""
        by = by or asker(reply_to=None)
        async with self.uow.write() as store:
            await self.keeper.order_ended(store, order_id, by)
        return by

    async def work(self) -> int:
        """One round of the worker at the clock's time: every due step claimed and advanced; how many."""
        claims = await self.cashier.claim(limit=100)
        for claim in claims:
            await self.cashier.advance(claim)
        return len(claims)

    async def work_until_settled(self, *, rounds: int = 50) -> None:
        """Run the worker, moving the clock to each next step, until nothing is left to do."""
        for _ in range(rounds):
            if await self.work():
                continue
            due_in = await self.cashier.next_due()
            if due_in is None:
                return
            self.clock.advance(seconds=max(due_in, 0))
        raise AssertionError(f"still not settled after {rounds} rounds")

    @property
    def store(self) -> FakeStore:
        """The fake store as the last transaction left it."""
        return self.uow.store

    def payment(self, order_id: str = "o-1") -> Payment:
        return self.uow.store.payments.rows[order_id]


@pytest.fixture
def till() -> Till:
    return Till()
