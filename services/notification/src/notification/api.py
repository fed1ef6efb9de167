"""notification's HTTP API: a customer reads their own messages (whose comes from the access token); admins
read all, as JSON and as a page for people."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import HTMLResponse
from paved import CurrentPrincipal, Problem, Provided, callers, require_scopes

from notification.contract import (
    MESSAGE_ID_PATTERN,
    CustomerMessage,
    CustomerMessagePage,
    MessageOut,
    MessagePage,
    MessageStatus,
)
from notification.domain import Email, EmailStatus
from notification.pages import HEADERS, render_outbox
from notification.partners import CUSTOMER_ID_PATTERN
from notification.ports import EmailFilter
from notification.use_cases import Notifications

CUSTOMER_SCOPE = "customer"
CUSTOMER_ID = re.compile(CUSTOMER_ID_PATTERN)
# Beyond this a cursor cannot be a row's (a 64-bit sequence), and PostgreSQL would refuse to compare it.
MAX_CURSOR = 2**63 - 1

ADMIN = require_scopes("admin")
OPERATORS = callers(operators=True)
"""Admin-only: an access token with the admin scope, verified against identity's published keys."""


NotificationsDep = Annotated[Notifications, Provided(Notifications)]


async def signed_in_customer(principal: CurrentPrincipal) -> str:
    """The customer the access token was issued to: the only one whose messages the request may read."""
    if principal.kind != "account" or not principal.has_scopes(CUSTOMER_SCOPE):
        raise Problem(
            403,
            "Forbidden",
            "/me/messages is for a customer's own access token (an account's, with scope 'customer')",
            headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{CUSTOMER_SCOPE}"'},
        )
    if not CUSTOMER_ID.fullmatch(principal.subject):
        raise Problem(403, "Forbidden", "the access token's subject is not a customer id")
    return principal.subject


SignedInCustomer = Annotated[str, Depends(signed_in_customer)]
After = Annotated[int | None, Query(ge=1, le=MAX_CURSOR, description="the `next_cursor` of the previous page")]
Limit = Annotated[int, Query(ge=1, le=100)]
MessageId = Annotated[str, Path(pattern=MESSAGE_ID_PATTERN, description="the message's id")]

# Who may call (deny by default, docs/zero-trust.md): the storefront; the admin routes, the operators.
router = APIRouter(dependencies=[callers("web-bff")])


def customer_message(email: Email) -> CustomerMessage:
    """The email as its customer sees it."""
    return CustomerMessage(
        id=email.id,
        kind=email.kind.value,
        order_id=email.order_id,
        subject=email.subject,
        body=email.body,
        status=email.status.value,
        created_at=email.created_at,
        sent_at=email.sent_at,
    )


def message_out(email: Email) -> MessageOut:
    """The email as admins see it."""
    return MessageOut(
        **customer_message(email).model_dump(),
        recipient=email.recipient,
        event_id=email.event_id,
        attempts=email.attempts,
        next_attempt_at=email.next_attempt_at,
        last_error=email.last_error,
    )


@router.get(
    "/me/messages", tags=["messages"], summary="The signed-in customer's messages, newest first, a page at a time"
)
async def my_messages(
    customer: SignedInCustomer, notifications: NotificationsDep, after: After = None, limit: Limit = 20
) -> CustomerMessagePage:
    page = await notifications.messages(EmailFilter(recipient=customer), after=after, limit=limit)
    return CustomerMessagePage(items=[customer_message(e) for e in page.emails], next_cursor=page.next_cursor)


@router.get(
    "/messages",
    dependencies=[ADMIN, OPERATORS],
    tags=["messages"],
    summary="Every customer's messages, newest first (admin)",
)
async def list_messages(
    notifications: NotificationsDep,
    recipient: Annotated[str | None, Query(pattern=CUSTOMER_ID_PATTERN, description="a customer's id")] = None,
    status: Annotated[MessageStatus | None, Query()] = None,
    after: After = None,
    limit: Limit = 20,
) -> MessagePage:
    where = EmailFilter(recipient=recipient, status=EmailStatus(status) if status else None)
    page = await notifications.messages(where, after=after, limit=limit)
    return MessagePage(items=[message_out(e) for e in page.emails], next_cursor=page.next_cursor)


@router.get("/messages/{message_id}", dependencies=[ADMIN, OPERATORS], tags=["messages"], summary="One message (admin)")
async def get_message(message_id: MessageId, notifications: NotificationsDep) -> MessageOut:
    return message_out(await notifications.message(message_id))


@router.get(
    "/admin/outbox",
    dependencies=[ADMIN, OPERATORS],
    response_class=HTMLResponse,
    tags=["admin"],
    summary="The latest messages, as a page for people (admin)",
)
async def outbox_page(
    notifications: NotificationsDep,
    status: Annotated[MessageStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> HTMLResponse:
    chosen = EmailStatus(status) if status else None
    page = await notifications.messages(EmailFilter(status=chosen), after=None, limit=limit)
    return HTMLResponse(render_outbox(page.emails, status=chosen), headers=HEADERS)
