from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.partitioning import partition_of


def test_a_customers_partition_never_changes() -> None:
    """Known ids land where they always have: a changed hash would misplace every stored customer."""
    # Worked out apart from the code: `printf acc_ann | sha256sum`, first 16 hex digits, modulo the count.
    assert [partition_of(f"acc_{n}", partitions=16) for n in range(8)] == [6, 15, 13, 15, 10, 4, 14, 11]
    assert partition_of("acc_ann", partitions=1024) == int("cac5e7b92344434e", 16) % 1024 == 846


@given(customer_id=st.text(max_size=100), partitions=st.integers(min_value=1, max_value=1024))
def test_every_customer_has_exactly_one_partition_in_range(customer_id: str, partitions: int) -> None:
    """Any id maps to one partition from 0 to partitions - 1, the same every time it is asked."""
    partition = partition_of(customer_id, partitions=partitions)
    assert 0 <= partition < partitions
    assert partition_of(customer_id, partitions=partitions) == partition


def test_customers_spread_evenly() -> None:
    """16,000 sequential ids fill 16 partitions within 10% of a thousand each: no partition is a hot spot."""
    counts = Counter(partition_of(f"acc_{n:06d}", partitions=16) for n in range(16_000))
    assert set(counts) == set(range(16))
    assert all(900 <= count <= 1100 for count in counts.values()), counts


def test_a_ledger_has_at_least_one_partition() -> None:
    """Zero partitions is refused rather than dividing by it."""
    with pytest.raises(ValueError, match="at least one"):
        partition_of("acc_ann", partitions=0)
