from __future__ import annotations

import httpx
from paved import Service

from web_bff.app import create_service
from web_bff.settings import WebBffSettings

from .musiccorp import MusicCorp


async def test_the_storefront_page_is_served_with_its_script_and_styles(client: httpx.AsyncClient) -> None:
    """GET / is the HTML shell; its script and styles are files of their own, under a policy allowing only those."""
    page = await client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert '<script type="module" src="/storefront.js">' in page.text
    assert "script-src" not in page.headers["content-security-policy"]  # so default-src 'self' governs scripts
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    script = await client.get("/storefront.js")
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "fetch(`/api${path}`" in script.text
    assert (await client.get("/storefront.css")).headers["content-type"] == "text/css; charset=utf-8"


async def test_the_bff_is_ready_with_no_database_and_no_broker(settings: WebBffSettings, musiccorp: MusicCorp) -> None:
    """The BFF keeps nothing and sends no messages: it starts and is ready with no database or broker to reach."""
    nowhere = settings.model_copy(
        update={"database_url": "postgresql+asyncpg://nobody@127.0.0.1:1/none", "broker_url": "nats://127.0.0.1:1"}
    )
    service = create_service(nowhere, transports=musiccorp.transports())
    transport = httpx.ASGITransport(app=service.app)
    async with service.app.router.lifespan_context(service.app), httpx.AsyncClient(transport=transport) as client:
        response = await client.get("http://bff/health/ready")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "checks": {}}


async def test_stopping_the_bff_closes_its_connections_to_every_service(
    settings: WebBffSettings, musiccorp: MusicCorp
) -> None:
    """The app's lifespan closes each service's kept connections when the process stops."""
    service: Service = create_service(settings, transports=musiccorp.transports())
    async with service.app.router.lifespan_context(service.app):
        assert not any(fake.closed for fake in musiccorp.services.values())
    assert all(fake.closed for fake in musiccorp.services.values())


async def test_a_service_the_bff_was_not_told_of_is_unavailable(settings: WebBffSettings, musiccorp: MusicCorp) -> None:
    """In development the BFF starts without every URL; a call to a service it does not know is a 503 naming it."""
    service = create_service(settings.model_copy(update={"catalog_url": None}), transports=musiccorp.transports())
    transport = httpx.ASGITransport(app=service.app)
    async with service.app.router.lifespan_context(service.app), httpx.AsyncClient(transport=transport) as client:
        response = await client.get("http://bff/api/browse")
    assert response.status_code == 503
    assert response.json()["detail"] == "catalog is not configured here (PAVED_CATALOG_URL is not set)"
