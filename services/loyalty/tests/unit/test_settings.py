from __future__ import annotations

import pytest
from pydantic import ValidationError

from loyalty.settings import LoyaltySettings


def test_the_partition_count_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """PAVED_LOYALTY_PARTITIONS sets the count; without it the ledger has 16 partitions."""
    assert LoyaltySettings().loyalty_partitions == 16
    monkeypatch.setenv("PAVED_LOYALTY_PARTITIONS", "64")
    assert LoyaltySettings().loyalty_partitions == 64


@pytest.mark.parametrize("partitions", [0, -1, 1025])
def test_a_partition_count_out_of_range_is_refused_at_start(partitions: int) -> None:
    """No partitions, or more than a thousand, is a start-up error naming the setting."""
    with pytest.raises(ValidationError, match="loyalty_partitions"):
        LoyaltySettings(loyalty_partitions=partitions)
