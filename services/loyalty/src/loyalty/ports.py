"""What the loyalty use cases need from outside, as small Protocols.

``store.py`` implements them over the partitioned tables; the unit tests, in memory (``tests/unit/fakes.py``).
Where an order's points now stand is announced through paved's ``Announce[OrderEntries]`` (an ``Announcer``
over ``announcements.event_of``), if and only if the transaction commits.
"""

from __future__ import annotations

from typing import Protocol

from loyalty.domain import ChoreographedOrder, OrderEntries, PaymentOutcome, PointsAccount, Statement


class Ledger(Protocol):
    """The points ledger within one transaction; each call touches the one customer's partition."""

    async def account(self, customer_id: str) -> PointsAccount:
        """The customer's account (at zero if new), held until the transaction ends."""
        ...

    async def order(self, customer_id: str, order_id: str) -> OrderEntries:
        """What the customer's ledger holds for ``order_id``."""
        ...

    async def record(self, account: PointsAccount) -> None:
        """Store the account's newly recorded entries and its balance."""
        ...

    async def statement(self, customer_id: str, *, limit: int) -> Statement:
        """The customer's balance and their ``limit`` most recent entries, as of one moment."""
        ...


class ChoreographedOrders(Protocol):
    """The orders loyalty knows to be choreographed, within one transaction, each in its customer's partition."""

    async def remember(self, order: ChoreographedOrder) -> None:
        """Keep ``order``, unless its order is kept already (the first word on it stands)."""
        ...

    async def find(self, customer_id: str, order_id: str) -> ChoreographedOrder | None:
        """The customer's choreographed order ``order_id``, or None if loyalty was never told of one."""
        ...

    async def note_payment(self, customer_id: str, order_id: str, outcome: PaymentOutcome) -> None:
        """Keep that the order's payment was ``outcome`` before loyalty heard the order is choreographed."""
        ...

    async def payments_noted(self, customer_id: str, order_id: str) -> set[PaymentOutcome]:
        """What was noted of the order's payment before its request came (nothing, for most orders)."""
        ...
