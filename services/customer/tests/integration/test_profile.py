from __future__ import annotations

import asyncio

import httpx
import pytest
from paved import Envelope
from paved.testing import BrokerProbe, TestTokens, eventually

ANN = {"display_name": "Ann Smith", "email": "ann@example.com"}


async def test_the_first_put_registers_and_later_ones_update(client: httpx.AsyncClient, ann: dict[str, str]) -> None:
    """PUT creates the profile (201, Location) and then updates it (200); GET returns what was saved."""
    created = await client.put("/me/profile", json=ANN, headers=ann)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/me/profile"
    assert created.json()["customer_id"] == "acc_ann"
    updated = await client.put("/me/profile", json=ANN | {"display_name": "Ann Jones"}, headers=ann)
    assert updated.status_code == 200
    assert updated.json()["registered_at"] == created.json()["registered_at"]
    fetched = await client.get("/me/profile", headers=ann)
    assert fetched.json() == updated.json()
    assert fetched.json()["display_name"] == "Ann Jones"


async def test_no_profile_yet_is_a_404_problem(client: httpx.AsyncClient, ann: dict[str, str]) -> None:
    """Before the first PUT there is no profile, said as a problem that tells what to do."""
    response = await client.get("/me/profile", headers=ann)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "PUT /me/profile" in response.json()["detail"]


async def test_each_customer_sees_only_their_own_profile(
    client: httpx.AsyncClient, ann: dict[str, str], bob: dict[str, str]
) -> None:
    """Bob's token reads Bob's profile, whatever Ann saved."""
    await client.put("/me/profile", json=ANN, headers=ann)
    assert (await client.get("/me/profile", headers=bob)).status_code == 404
    await client.put("/me/profile", json={"display_name": "Bob", "email": "bob@example.com"}, headers=bob)
    assert (await client.get("/me/profile", headers=bob)).json()["email"] == "bob@example.com"
    assert (await client.get("/me/profile", headers=ann)).json()["email"] == "ann@example.com"


@pytest.mark.parametrize(
    ("subject", "scopes", "client_token", "status"),
    [
        (None, (), False, 401),
        ("acc_admin", ("admin",), False, 403),
        ("order", ("customer", "customers:read"), True, 403),
        ("ann with spaces", ("customer",), False, 403),
    ],
)
async def test_me_is_for_a_customers_own_token(
    client: httpx.AsyncClient,
    tokens: TestTokens,
    subject: str | None,
    scopes: tuple[str, ...],
    client_token: bool,
    status: int,
) -> None:
    """No token is 401; an admin's, a service client's, or one whose subject is no customer id is 403."""
    headers = tokens.bearer(subject, *scopes, client=client_token) if subject else {}
    response = await client.put("/me/profile", json=ANN, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_forged_token_is_refused(client: httpx.AsyncClient) -> None:
    """A token signed by another key is 401, whatever subject it claims."""
    forged = TestTokens().bearer("acc_ann", "customer")
    assert (await client.get("/me/profile", headers=forged)).status_code == 401


async def test_registering_publishes_customer_registered_once(
    client: httpx.AsyncClient, ann: dict[str, str], broker_url: str
) -> None:
    """The first PUT's CustomerRegistered reaches CUSTOMER_EVENTS; an update publishes nothing."""
    created = await client.put("/me/profile", json=ANN, headers=ann)
    updated = await client.put("/me/profile", json=ANN | {"display_name": "Ann J"}, headers=ann)
    requests = {created.headers["x-correlation-id"], updated.headers["x-correlation-id"]}

    async def published() -> list[Envelope]:
        return await BrokerProbe(broker_url).messages_in("CUSTOMER_EVENTS", correlation_ids=requests)

    [event] = await eventually(published)
    await asyncio.sleep(0.3)  # time for a wrong second event to show up
    assert await published() == [event]
    assert event.type == "customer.CustomerRegistered" and event.version == 1
    assert event.correlation_id == created.headers["x-correlation-id"]
    assert event.data == {
        "customer_id": "acc_ann",
        "display_name": "Ann Smith",
        "email": "ann@example.com",
        "registered_at": created.json()["registered_at"],
    }


async def test_concurrent_first_puts_register_once(
    client: httpx.AsyncClient, ann: dict[str, str], broker_url: str
) -> None:
    """Two first PUTs at once (two browser tabs): one registers (201), the other updates (200), one event."""
    responses = await asyncio.gather(*(client.put("/me/profile", json=ANN, headers=ann) for _ in range(2)))
    assert sorted(r.status_code for r in responses) == [200, 201]
    requests = {r.headers["x-correlation-id"] for r in responses}

    async def published() -> list[Envelope]:
        return await BrokerProbe(broker_url).messages_in("CUSTOMER_EVENTS", correlation_ids=requests)

    assert len(await eventually(published)) == 1
    await asyncio.sleep(0.3)
    assert len(await published()) == 1
