"""In-memory stand-ins for the loyalty service's ports, shared by the unit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from loyalty.domain import ChoreographedOrder, Entry, EntryKind, OrderEntries, PaymentOutcome, PointsAccount, Statement


class FakeLedger:
    """Every customer's entries and balance in memory, kept as the database keeps them."""

    def __init__(self) -> None:
        self.balances: dict[str, int] = {}
        self.entries: dict[str, list[Entry]] = {}

    async def account(self, customer_id: str) -> PointsAccount:
        kept = self.entries.get(customer_id, [])
        return PointsAccount(customer_id, balance=self.balances.get(customer_id, 0), entries=len(kept))

    async def order(self, customer_id: str, order_id: str) -> OrderEntries:
        found = {e.kind: e for e in self.entries.get(customer_id, []) if e.order_id == order_id}
        return OrderEntries(order_id, award=found.get(EntryKind.AWARD), revoke=found.get(EntryKind.REVOKE))

    async def record(self, account: PointsAccount) -> None:
        kept = self.entries.setdefault(account.customer_id, [])
        for entry in account.recorded:
            # The database's unique key and numbering, as constraints the fake enforces too.
            assert (entry.order_id, entry.kind) not in {(e.order_id, e.kind) for e in kept}, "recorded twice"
            assert entry.number == len(kept) + 1, "entries are numbered without gaps"
            kept.append(entry)
        self.balances[account.customer_id] = account.balance

    async def statement(self, customer_id: str, *, limit: int) -> Statement:
        newest = list(reversed(self.entries.get(customer_id, [])))[:limit]
        return Statement(customer_id, self.balances.get(customer_id, 0), newest)


class FakeChoreographedOrders:
    """The choreographed orders in memory, keyed by customer and order as the table is."""

    def __init__(self) -> None:
        self.orders: dict[tuple[str, str], ChoreographedOrder] = {}
        self.early: dict[tuple[str, str], set[PaymentOutcome]] = {}

    async def remember(self, order: ChoreographedOrder) -> None:
        self.orders.setdefault((order.customer_id, order.order_id), order)

    async def find(self, customer_id: str, order_id: str) -> ChoreographedOrder | None:
        return self.orders.get((customer_id, order_id))

    async def note_payment(self, customer_id: str, order_id: str, outcome: PaymentOutcome) -> None:
        self.early.setdefault((customer_id, order_id), set()).add(outcome)

    async def payments_noted(self, customer_id: str, order_id: str) -> set[PaymentOutcome]:
        return set(self.early.get((customer_id, order_id), set()))


class Announced:
    """What the use cases announced: the order's standing after each entry, in order."""

    def __init__(self) -> None:
        self.orders: list[OrderEntries] = []

    async def __call__(self, order: OrderEntries) -> None:
        self.orders.append(order)


class ManualClock:
    """A clock that moves one second per reading."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now
