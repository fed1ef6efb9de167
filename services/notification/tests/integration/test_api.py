from __future__ import annotations

import httpx
import pytest
from paved.testing import TestTokens

from notification.domain import NoticeKind
from notification.store import DatabaseUnitOfWork
from notification.use_cases import Notifications

from ..unit.fakes import FakeMailer
from .seed import message_id, seed


async def test_a_customer_reads_their_own_messages_newest_first(
    client: httpx.AsyncClient, uow: DatabaseUnitOfWork, tokens: TestTokens
) -> None:
    """/me/messages lists the token's customer's messages only, newest first, without admin details."""
    await seed(uow, "acc_ann", "acc_bob", "acc_ann")
    response = await client.get("/me/messages", headers=tokens.bearer("acc_ann", "customer"))
    assert response.status_code == 200
    page = response.json()
    assert [m["order_id"] for m in page["items"]] == ["ord-3", "ord-1"]
    assert page["next_cursor"] is None
    first = page["items"][0]
    assert first["subject"] == "Your order ord-3 is on its way" and first["status"] == "queued"
    assert "recipient" not in first and "event_id" not in first and "last_error" not in first


async def test_a_customers_messages_page_through_without_gaps(
    client: httpx.AsyncClient, uow: DatabaseUnitOfWork, tokens: TestTokens
) -> None:
    """Following next_cursor visits each of the customer's messages once."""
    written = await seed(uow, *["acc_ann"] * 7)
    headers = tokens.bearer("acc_ann", "customer")
    seen: list[str] = []
    params: dict[str, int] = {"limit": 3}
    while True:
        page = (await client.get("/me/messages", params=params, headers=headers)).json()
        seen += [m["id"] for m in page["items"]]
        if page["next_cursor"] is None:
            break
        params["after"] = page["next_cursor"]
    assert seen == [e.id for e in reversed(written)]


async def test_the_messages_sent_become_sent_for_the_customer(
    client: httpx.AsyncClient,
    notifications: Notifications,
    uow: DatabaseUnitOfWork,
    mailer: FakeMailer,
    tokens: TestTokens,
) -> None:
    """Once the sender has handed a message to the mailer, the customer sees it as sent, with when."""
    await seed(uow, "acc_ann")
    assert (await notifications.send_due()).sent == 1
    [message] = (await client.get("/me/messages", headers=tokens.bearer("acc_ann", "customer"))).json()["items"]
    assert message["status"] == "sent" and message["sent_at"] is not None
    assert mailer.subjects_to("acc_ann") == [message["subject"]]


@pytest.mark.parametrize(
    ("who", "status"),
    [("nobody", 401), ("forged", 401), ("admin", 403), ("client", 403)],
)
async def test_me_is_for_a_customers_own_token(
    client: httpx.AsyncClient, tokens: TestTokens, who: str, status: int
) -> None:
    """No token, a forged one, an admin's without the customer scope or a service's: none reads /me/messages."""
    headers = {
        "nobody": {},
        "forged": TestTokens().bearer("acc_ann", "customer"),
        "admin": tokens.bearer("acc_admin", "admin"),
        "client": tokens.bearer("order", "customer", client=True),
    }[who]
    response = await client.get("/me/messages", headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


async def test_an_admin_lists_everyones_messages_and_filters_them(
    client: httpx.AsyncClient, uow: DatabaseUnitOfWork, notifications: Notifications, admin: dict[str, str]
) -> None:
    """/messages lists all customers' messages with sending details; recipient and status narrow it."""
    await seed(uow, "acc_ann", "acc_bob")
    everyone = (await client.get("/messages", headers=admin)).json()["items"]
    assert [(m["recipient"], m["event_id"], m["attempts"]) for m in everyone] == [
        ("acc_bob", "evt-2", 0),
        ("acc_ann", "evt-1", 0),
    ]
    bob = (await client.get("/messages", params={"recipient": "acc_bob"}, headers=admin)).json()["items"]
    assert [m["recipient"] for m in bob] == ["acc_bob"]
    await notifications.send_due()
    sent = (await client.get("/messages", params={"status": "sent"}, headers=admin)).json()["items"]
    queued = (await client.get("/messages", params={"status": "queued"}, headers=admin)).json()["items"]
    assert len(sent) == 2 and queued == []


async def test_an_admin_reads_one_message(
    client: httpx.AsyncClient, uow: DatabaseUnitOfWork, admin: dict[str, str]
) -> None:
    """/messages/{id} shows the whole message; an id nobody has is a 404 problem naming it."""
    [email] = await seed(uow, "acc_ann", kind=NoticeKind.ORDER_PLACED)
    found = (await client.get(f"/messages/{email.id}", headers=admin)).json()
    assert found["body"] == email.body and found["recipient"] == "acc_ann" and found["kind"] == "order_placed"
    missing = await client.get(f"/messages/{message_id(999)}", headers=admin)
    assert missing.status_code == 404
    assert missing.json()["title"] == "Message not found" and message_id(999) in missing.json()["detail"]


@pytest.mark.parametrize("path", ["/messages", f"/messages/{message_id(1)}", "/admin/outbox"])
@pytest.mark.parametrize(("who", "status"), [("nobody", 401), ("customer", 403)])
async def test_admin_pages_need_the_admin_scope(
    client: httpx.AsyncClient, uow: DatabaseUnitOfWork, tokens: TestTokens, path: str, who: str, status: int
) -> None:
    """Without a token granting 'admin', no one reads other customers' messages, not even their own this way."""
    await seed(uow, "acc_ann")
    headers = {} if who == "nobody" else tokens.bearer("acc_ann", "customer")
    response = await client.get(path, headers=headers)
    assert response.status_code == status
    assert "ord-1" not in response.text


async def test_the_outbox_page_shows_the_latest_messages_escaped(
    client: httpx.AsyncClient, uow: DatabaseUnitOfWork, admin: dict[str, str]
) -> None:
    """The admins' HTML page lists messages newest first, with what came from events as text, not markup."""
    await seed(uow, "acc_ann", "acc_bob", order_id="<script>alert('x')</script>")
    response = await client.get("/admin/outbox", headers=admin)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    page = response.text
    assert "<script>" not in page
    assert "Your order &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;2 is on its way" in page
    assert page.index("acc_bob") < page.index("acc_ann")
