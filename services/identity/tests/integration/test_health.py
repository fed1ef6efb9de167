from __future__ import annotations

import httpx

from identity.app import create_service
from identity.settings import IdentitySettings

from .values import ISSUER

# Nothing listens on port 1: a service that needed a broker would not start, or not be ready, here.
NO_BROKER = "nats://127.0.0.1:1"


async def test_identity_is_ready_on_its_database_alone(settings: IdentitySettings) -> None:
    """identity uses no broker: it starts and is ready with none reachable, its readiness checking its database."""
    service = create_service(settings.model_copy(update={"broker_url": NO_BROKER}))
    async with service.running():
        transport = httpx.ASGITransport(app=service.app)
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
            ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "up"}}
