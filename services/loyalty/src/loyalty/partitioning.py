"""Which partition of the ledger holds a customer's points: a stable hash of their id, modulo the count.

Every row of a customer's (their balance and every entry) lives in one partition, and every command and
query names one customer, so every transaction touches exactly one partition. That is what lets the
partitions move to separate databases later without a distributed transaction (docs/loyalty.md).
"""

from __future__ import annotations

import hashlib


class PartitionCountChangedError(Exception):
    """The configured partition count is not the one the ledger was laid out with.

    Another count sends customers to other partitions: their balances would seem to vanish and their
    orders could be awarded twice. Changing it needs the rows moved first, never just a new setting.
    """

    def __init__(self, *, laid_out: int, configured: int) -> None:
        super().__init__(
            f"the ledger is laid out in {laid_out} partitions, but PAVED_LOYALTY_PARTITIONS is {configured}: "
            "re-partition the ledger before changing the count"
        )
        self.laid_out = laid_out
        self.configured = configured


def partition_of(customer_id: str, *, partitions: int) -> int:
    """The partition (0 to ``partitions - 1``) that holds ``customer_id``'s points.

    SHA-256 rather than Python's ``hash()``, which is salted per process: every instance, every restart
    and any other tool (a router, a migration script, a query by hand) must agree on where a customer is.
    """
    if partitions < 1:
        raise ValueError(f"a ledger has at least one partition, not {partitions}")
    digest = hashlib.sha256(customer_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") % partitions
