"""The loyalty use cases: award and revoke an order's points, in the transaction of the message that asks."""

from __future__ import annotations

from paved import Clock, utc_now
from paved.messaging import Announce

from loyalty.domain import Money, OrderEntries, PointsAccount
from loyalty.ports import Ledger


class PointsBook:
    """Awards and revocations in one transaction of the ledger, each announced in that transaction."""

    def __init__(self, ledger: Ledger, *, announce: Announce[OrderEntries], clock: Clock = utc_now) -> None:
        self.ledger = ledger
        self.announce = announce
        self.clock = clock

    async def award(self, *, order_id: str, customer_id: str, amount: Money) -> OrderEntries:
        """Award an order's points once; where the order stands afterwards (awarded, or revoked first)."""
        # The account first: holding it serialises every change to this customer, so the order's
        # entries read next cannot change before this transaction ends.
        account = await self.ledger.account(customer_id)
        order = account.award(await self.ledger.order(customer_id, order_id), amount, at=self.clock())
        await self._keep(account, order)
        return order

    async def revoke(self, *, order_id: str, customer_id: str) -> OrderEntries:
        """Take an order's points back once (recording it even if none were awarded); where it stands."""
        account = await self.ledger.account(customer_id)
        order = account.revoke(await self.ledger.order(customer_id, order_id), at=self.clock())
        await self._keep(account, order)
        return order

    async def _keep(self, account: PointsAccount, order: OrderEntries) -> None:
        if not account.recorded:
            return  # a repeat, or an award after its revocation: nothing new to store or announce
        await self.ledger.record(account)
        account.recorded.clear()
        await self.announce(order)
