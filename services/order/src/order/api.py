"""order's HTTP API: whose orders they are comes from the access token, never from the request."""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response, status
from paved import CurrentPrincipal, Problem, Provided, callers

from order.contract import (
    IDEMPOTENCY_KEY_PATTERN,
    ORDER_ID_PATTERN,
    DeliveryAddressOut,
    HistoryEntryOut,
    Money,
    OrderHistory,
    OrderLineOut,
    OrderOut,
    OrderPage,
    PlaceOrder,
)
from order.domain import CardNumber, FulfilmentStyle, OrderRequest, RequestedLine
from order.domain import Money as DomainMoney
from order.lifecycle import HistoryEntry, Order
from order.ports import OrderCursor
from order.use_cases import Orders, Reader

CUSTOMER_SCOPE = "customer"
ADMIN_SCOPE = "admin"
# Identity's account ids, as the customer service accepts them; they are also safe in a URL path.
CUSTOMER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")
IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
IDEMPOTENCY_KEY_FIELD = "header.Idempotency-Key"

# Who may call (deny by default, docs/zero-trust.md): the storefront, for the customer whose token it
# forwards; an admin's look at any order comes from the operators' tools.
router = APIRouter(prefix="/orders", tags=["orders"], dependencies=[callers("web-bff", operators=True)])


CurrentOrders = Annotated[Orders, Provided(Orders)]


def _forbidden(detail: str) -> Problem:
    challenge = f'Bearer error="insufficient_scope", scope="{CUSTOMER_SCOPE}"'
    return Problem(403, "Forbidden", detail, headers={"WWW-Authenticate": challenge})


async def signed_in_customer(principal: CurrentPrincipal) -> str:
    """The customer the access token was issued to: the only one whose orders the request may touch."""
    if principal.kind != "account" or not principal.has_scopes(CUSTOMER_SCOPE):
        raise _forbidden("orders are placed with a customer's own access token (scope 'customer')")
    if not CUSTOMER_ID.fullmatch(principal.subject):
        raise _forbidden("the access token's subject is not a customer id")
    return principal.subject


SignedInCustomer = Annotated[str, Depends(signed_in_customer)]


async def order_reader(principal: CurrentPrincipal) -> Reader:
    """A customer reads their own orders; a token with the admin scope reads anyone's."""
    if principal.has_scopes(ADMIN_SCOPE):
        return Reader(principal.subject, is_admin=True)
    return Reader(await signed_in_customer(principal))


OrderReader = Annotated[Reader, Depends(order_reader)]
OrderId = Annotated[str, Path(pattern=ORDER_ID_PATTERN, description="the order's id")]


def _invalid(field: str, message: str, *, status_code: int = 422) -> Problem:
    """A problem in the shape of paved's validation problems: clients find the field where they always do."""
    return Problem(
        status_code, "Request is not valid", f"{field}: {message}", errors=[{"field": field, "message": message}]
    )


def _idempotency_key(value: str | None) -> str:
    # 400, as draft-ietf-httpapi-idempotency-key-header has it for a missing or malformed key.
    if value is None:
        raise _invalid(
            IDEMPOTENCY_KEY_FIELD, "required: a unique key per order, sent again with each retry", status_code=400
        )
    if not IDEMPOTENCY_KEY.fullmatch(value):
        raise _invalid(IDEMPOTENCY_KEY_FIELD, "1 to 255 printable ASCII characters, e.g. a UUID", status_code=400)
    return value


def _money(money: DomainMoney) -> Money:
    return Money(amount_minor=money.amount_minor, currency=money.currency)


def order_out(order: Order) -> OrderOut:
    """The order as the API shows it."""
    delivery = order.delivery
    return OrderOut(
        id=order.id,
        customer_id=order.customer_id,
        status=order.status.value,
        lines=[
            OrderLineOut(
                sku=line.sku,
                title=line.title,
                artist=line.artist,
                quantity=line.quantity,
                unit_price=_money(line.unit_price),
                total=_money(line.total),
            )
            for line in order.lines
        ],
        total=_money(order.total),
        delivery_address=DeliveryAddressOut(
            address_id=delivery.address_id,
            name=delivery.name,
            lines=list(delivery.lines),
            city=delivery.city,
            postcode=delivery.postcode,
            country=delivery.country,
        ),
        card_last4=order.card_last4,
        fulfilment=order.fulfilment.value,
        points_awarded=order.points,
        placed_at=order.placed_at,
        updated_at=order.updated_at,
    )


def _entry(entry: HistoryEntry) -> HistoryEntryOut:
    return HistoryEntryOut(at=entry.at, status=entry.status.value, event=entry.event, reason=entry.reason)


def _cursor_of(order: Order) -> str:
    raw = json.dumps([order.placed_at.isoformat(), order.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _parse_cursor(cursor: str) -> OrderCursor:
    try:
        placed_at, order_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        when = datetime.fromisoformat(placed_at)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise _invalid("query.after", "not a cursor this API gave out (use a page's next_cursor)") from None
    if when.tzinfo is None or not isinstance(order_id, str):
        raise _invalid("query.after", "not a cursor this API gave out (use a page's next_cursor)")
    return OrderCursor(placed_at=when, order_id=order_id)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Place an order (201); a retry with the same Idempotency-Key and body gets the same order (200)",
    responses={200: {"model": OrderOut, "description": "a retry: the order the first request placed"}},
)
async def place_order(
    body: PlaceOrder,
    customer_id: SignedInCustomer,
    orders: CurrentOrders,
    response: Response,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", description="unique per order")] = None,
) -> OrderOut:
    request = OrderRequest(
        customer_id=customer_id,
        idempotency_key=_idempotency_key(idempotency_key),
        lines=tuple(RequestedLine(line.sku, line.quantity) for line in body.lines),
        delivery_address_id=body.delivery_address_id,
        card=CardNumber(body.payment.card_number.get_secret_value()),
        fulfilment=FulfilmentStyle(body.fulfilment) if body.fulfilment else None,
    )
    placed = await orders.place(request)
    if not placed.created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"{router.prefix}/{placed.order.id}"
    return order_out(placed.order)


@router.get("", summary="The signed-in customer's orders, newest first, a page at a time")
async def list_orders(
    customer_id: SignedInCustomer,
    orders: CurrentOrders,
    after: Annotated[str | None, Query(max_length=200, description="the `next_cursor` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> OrderPage:
    cursor = _parse_cursor(after) if after is not None else None
    # One more than asked tells whether there is a next page without counting.
    found = await orders.of_customer(customer_id, after=cursor, limit=limit + 1)
    page = found[:limit]
    return OrderPage(
        items=[order_out(order) for order in page],
        next_cursor=_cursor_of(page[-1]) if len(found) > limit else None,
    )


@router.get("/{order_id}", summary="One order: the customer's own, or any for an admin")
async def get_order(order_id: OrderId, reader: OrderReader, orders: CurrentOrders) -> OrderOut:
    return order_out(await orders.get(order_id, reader=reader))


@router.get("/{order_id}/history", summary="Everything that happened to an order, oldest first")
async def order_history(order_id: OrderId, reader: OrderReader, orders: CurrentOrders) -> OrderHistory:
    entries = await orders.history(order_id, reader=reader)
    return OrderHistory(order_id=order_id, items=[_entry(entry) for entry in entries])


@router.post("/{order_id}/cancel", summary="Cancel an order until its payment is taken; 409 after")
async def cancel_order(order_id: OrderId, customer_id: SignedInCustomer, orders: CurrentOrders) -> OrderOut:
    return order_out(await orders.cancel(order_id, customer_id=customer_id))
