from __future__ import annotations

from .values import Start

# Nothing listens on port 1: a service that needed a broker would not start, or not be ready, here.
NO_BROKER = "nats://127.0.0.1:1"


async def test_the_processor_is_ready_on_its_database_alone(start: Start) -> None:
    """The processor uses no broker: it starts and is ready with none reachable, its readiness checking its database."""
    async with start(broker_url=NO_BROKER) as client:
        ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "up"}}
