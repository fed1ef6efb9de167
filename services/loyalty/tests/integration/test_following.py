"""loyalty follows order's and payment's streams without declaring them: on the in-process broker, no NATS."""

from __future__ import annotations

from pathlib import Path

from paved import Envelope
from paved.messaging import Outgoing, connected
from paved.testing import eventually, memory_broker_for_test, migrated_database

from loyalty import contract
from loyalty.app import create_service
from loyalty.partners import FulfilmentRequested, PaymentTaken
from loyalty.settings import LoyaltySettings
from loyalty.store import DatabaseLedger

from .conftest import MIGRATIONS, PARTITIONS, PARTNER_STREAMS


def sent_as_the_owner_does(message: FulfilmentRequested | PaymentTaken) -> Outgoing:
    """``message`` as its owner's outbox relay puts it on the broker, correlated by its order."""
    envelope = message.envelope(correlation_id=message.order_id)
    assert message.message_subject is not None
    return Outgoing(envelope.id, message.message_subject, envelope.to_bytes(), envelope.headers())


async def test_loyalty_started_before_its_partners_declared_their_streams_takes_their_events(tmp_path: Path) -> None:
    """Its consumers wait for ORDER_EVENTS and PAYMENT_EVENTS, bind once the owners declare them, and what was
    published meanwhile awards the choreographed order's points, announced once on LOYALTY_EVENTS."""
    requested = FulfilmentRequested.model_validate(
        {
            "order_id": "ord_1",
            "customer_id": "acc_ann",
            "total": {"amount_minor": 1299, "currency": "GBP"},
            "requested_at": "2026-12-01T09:00:00Z",
        }
    )
    taken = PaymentTaken(order_id="ord_1", customer_id="acc_ann")
    async with migrated_database("sqlite", migrations=MIGRATIONS, name="loyalty", folder=tmp_path) as url:
        with memory_broker_for_test() as broker:
            settings = LoyaltySettings(database_url=url, broker_url=broker.url, loyalty_partitions=PARTITIONS)
            service = create_service(settings)
            async with service.running():
                assert {"ORDER_EVENTS", "PAYMENT_EVENTS"}.isdisjoint(broker.streams), "loyalty declared a partner's"
                async with connected(broker.url) as owners:
                    await owners.declare(PARTNER_STREAMS, [])
                    await owners.publish([sent_as_the_owner_does(requested), sent_as_the_owner_does(taken)])
                ledger = service.registry.get(DatabaseLedger)

                async def balance() -> int:
                    return (await ledger.statement("acc_ann", limit=10)).balance

                assert await eventually(balance, timeout=10) == 12

                async def announced() -> list[Envelope]:
                    stored = broker.streams[contract.EVENTS.name].messages.values()
                    return [Envelope.from_bytes(message.data) for message in stored]

                [event] = await eventually(announced, timeout=10)
                assert (event.type, event.correlation_id, event.data["points"]) == (
                    "loyalty.PointsAwarded",
                    "ord_1",
                    12,
                )
