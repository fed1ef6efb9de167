from __future__ import annotations

import httpx
import pytest
from paved.testing import TestTokens

from loyalty.app import create_service
from loyalty.partitioning import PartitionCountChangedError
from loyalty.settings import LoyaltySettings
from loyalty.store import DatabaseLedger

from . import ledger


async def test_a_new_customer_has_no_points(client: httpx.AsyncClient, tokens: TestTokens, customer_id: str) -> None:
    """Every customer has a balance: zero, with no entries, before their first order."""
    response = await client.get("/me/points", headers=tokens.bearer(customer_id, "customer"))
    assert response.status_code == 200
    assert response.json() == {"customer_id": customer_id, "balance": 0, "entries": []}


async def test_my_points_show_the_balance_and_the_newest_entries_first(
    service_ledger: DatabaseLedger, client: httpx.AsyncClient, tokens: TestTokens, customer_id: str
) -> None:
    """Awards and a revocation are listed newest first, each with the balance after it; limit shortens the list."""
    await ledger.award(service_ledger, customer_id, "o-1", 1299)
    await ledger.award(service_ledger, customer_id, "o-2", 550)
    await ledger.revoke(service_ledger, customer_id, "o-1")
    me = tokens.bearer(customer_id, "customer")
    statement = (await client.get("/me/points", headers=me)).json()
    assert statement["balance"] == 5
    assert [(e["number"], e["order_id"], e["kind"], e["points"], e["balance_after"]) for e in statement["entries"]] == [
        (3, "o-1", "revoke", 12, 5),
        (2, "o-2", "award", 5, 17),
        (1, "o-1", "award", 12, 12),
    ]
    assert statement["entries"][1]["amount"] == {"amount_minor": 550, "currency": "GBP"}
    assert statement["entries"][0]["amount"] is None
    newest = (await client.get("/me/points", params={"limit": 1}, headers=me)).json()
    assert newest["balance"] == 5 and [e["number"] for e in newest["entries"]] == [3]


async def test_each_customer_reads_only_their_own_points(
    service_ledger: DatabaseLedger, client: httpx.AsyncClient, tokens: TestTokens, customer_id: str
) -> None:
    """Another customer's token shows that customer's balance, never this one's."""
    await ledger.award(service_ledger, customer_id, "o-1", 1299)
    other = (await client.get("/me/points", headers=tokens.bearer("acc_someone_else", "customer"))).json()
    assert other == {"customer_id": "acc_someone_else", "balance": 0, "entries": []}


async def test_an_admin_reads_any_customers_points(
    service_ledger: DatabaseLedger, client: httpx.AsyncClient, admin: dict[str, str], customer_id: str
) -> None:
    """With the admin scope, /customers/{id}/points is that customer's statement."""
    await ledger.award(service_ledger, customer_id, "o-1", 1299)
    response = await client.get(f"/customers/{customer_id}/points", headers=admin)
    assert response.status_code == 200
    assert response.json()["balance"] == 12


@pytest.mark.parametrize(
    ("path", "subject", "scopes", "client_token", "status"),
    [
        ("/me/points", None, (), False, 401),
        ("/me/points", "acc_admin", ("admin",), False, 403),
        ("/me/points", "order", ("customer",), True, 403),
        ("/customers/acc_ann/points", "acc_ann", ("customer",), False, 403),
        ("/customers/acc_ann/points", None, (), False, 401),
    ],
)
async def test_who_may_read_what(
    client: httpx.AsyncClient,
    tokens: TestTokens,
    path: str,
    subject: str | None,
    scopes: tuple[str, ...],
    client_token: bool,
    status: int,
) -> None:
    """/me is for a customer's own token; another customer's points are for admins: else 401 or 403 problems."""
    headers = tokens.bearer(subject, *scopes, client=client_token) if subject else {}
    response = await client.get(path, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/me/points", {"limit": 0}, "query.limit"),
        ("/me/points", {"limit": 101}, "query.limit"),
        ("/me/points", {"limit": "all"}, "query.limit"),
        ("/customers/not a customer id/points", {}, "path.customer_id"),
    ],
)
async def test_bad_parameters_name_the_parameter(
    client: httpx.AsyncClient,
    tokens: TestTokens,
    admin: dict[str, str],
    path: str,
    params: dict[str, int | str],
    field: str,
) -> None:
    """Out-of-range or mistyped parameters are 422 problems naming them."""
    headers = admin if path.startswith("/customers") else tokens.bearer("acc_ann", "customer")
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


async def test_another_partition_count_on_the_same_ledger_does_not_start(
    service_ledger: DatabaseLedger, settings: LoyaltySettings, customer_id: str
) -> None:
    """Restarted with another PAVED_LOYALTY_PARTITIONS, the service refuses to start rather than misplace customers."""
    await ledger.award(service_ledger, customer_id, "o-1", 1299)
    moved = create_service(settings.model_copy(update={"loyalty_partitions": settings.loyalty_partitions * 2}))
    with pytest.raises(PartitionCountChangedError, match="re-partition"):
        async with moved.running():
            pass
