"""The loyalty service's tables (its ledger, its choreographed orders), partitioned by customer: the metadata
its migrations read. Only ``store.py`` uses them; nobody else reads them.

Every row carries ``partition_no`` (``partition_of(customer_id)``) as the first column of its primary key,
and every statement names one partition. So PostgreSQL can split each table into physical partitions
(``PARTITION BY LIST (partition_no)``) without a query changing, and a partition can move to a database
of its own whole (docs/loyalty.md).
"""

from __future__ import annotations

from paved import UtcDateTime
from paved.messaging import messaging_tables
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
)

metadata = MetaData()

points_accounts = Table(
    "points_accounts",
    metadata,
    Column("partition_no", SmallInteger, primary_key=True),
    Column("customer_id", String(100), primary_key=True),
    Column("balance", BigInteger, nullable=False),
    Column("entries", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("balance >= 0", name="balance_never_negative"),
)

points_entries = Table(
    "points_entries",
    metadata,
    Column("partition_no", SmallInteger, primary_key=True),
    Column("customer_id", String(100), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("order_id", String(100), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("balance_after", BigInteger, nullable=False),
    Column("amount_minor", BigInteger),
    Column("currency", String(3)),
    Column("recorded_at", UtcDateTime, nullable=False),
    ForeignKeyConstraint(
        ["partition_no", "customer_id"], ["points_accounts.partition_no", "points_accounts.customer_id"]
    ),
    # The database's own guard of "once per order": a bug that tried twice would fail, not double.
    UniqueConstraint("partition_no", "customer_id", "order_id", "kind", name="uq_points_entries_order_kind"),
    CheckConstraint("kind IN ('award', 'revoke')", name="kind_is_known"),
    CheckConstraint("points >= 0", name="points_not_negative"),
    CheckConstraint("balance_after >= 0", name="balance_after_never_negative"),
)

# The orders order announced as choreographed, in their customer's partition like the ledger: the payment
# events that follow name the customer too, so finding the order and awarding it touch one partition.
choreographed_orders = Table(
    "choreographed_orders",
    metadata,
    Column("partition_no", SmallInteger, primary_key=True),
    Column("customer_id", String(100), primary_key=True),
    Column("order_id", String(100), primary_key=True),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("requested_at", UtcDateTime, nullable=False),
    CheckConstraint("amount_minor >= 0", name="total_not_negative"),
)

# A choreographed order's payment event handled before its FulfilmentRequested (they come through two
# consumers): kept, so that the request, when it comes, still awards (or revokes). Rows of orchestrated
# orders' payments are kept too, and never lead to anything.
early_payments = Table(
    "early_payments",
    metadata,
    Column("partition_no", SmallInteger, primary_key=True),
    Column("customer_id", String(100), primary_key=True),
    Column("order_id", String(100), primary_key=True),
    Column("outcome", String(16), primary_key=True),  # taken | refunded
)

# One row: the partition count the ledger was laid out with, claimed by the first write.
ledger_layout = Table(
    "ledger_layout",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("partitions", Integer, nullable=False),
    Column("laid_out_at", UtcDateTime, nullable=False),
)

# paved's outbox and inbox live in the loyalty service's own database, beside its ledger.
messaging = messaging_tables(metadata)
