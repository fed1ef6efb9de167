"""The loyalty service's settings: paved's, plus how many partitions its ledger has.

From ``PAVED_*`` variables, read once at start-up, e.g. ``PAVED_LOYALTY_PARTITIONS=16``.
"""

from __future__ import annotations

from paved import ServiceSettings
from pydantic import Field


class LoyaltySettings(ServiceSettings):
    """Everything the loyalty service is told at start-up."""

    # More partitions than databases will ever hold them: a partition moves whole to another database,
    # while a new count re-hashes every customer. The first start records the count; a later start with
    # another one is refused (PartitionCountChangedError).
    loyalty_partitions: int = Field(default=16, ge=1, le=1024)
