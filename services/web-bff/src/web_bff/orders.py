"""Checkout and the customer's orders: order's API (with payment's view of an order) shaped for the pages.

Every call here acts for the signed-in customer, with their own access token: order and payment decide
by its subject whose orders they are.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response, status
from paved import Problem

from web_bff.caller import CurrentDownstreams, SignedInCustomer
from web_bff.contract import (
    IDEMPOTENCY_KEY_PATTERN,
    ORDER_ID_PATTERN,
    ORDER_PAGE_PATTERN,
    Checkout,
    OrderDetails,
    OrderList,
    OrderStatusPage,
)
from web_bff.downstream import DownstreamError, DownstreamRefusedError
from web_bff.fanout import or_missing, or_none_if_not_found, together
from web_bff.partners import OrderHistory, OrderRecord, OrderRecords, PaymentRecord
from web_bff.views import history_item, order_details, order_summary, part, payment_summary

router = APIRouter(tags=["orders"])

IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
IDEMPOTENCY_KEY_FIELD = "header.Idempotency-Key"
OrderId = Annotated[str, Path(pattern=ORDER_ID_PATTERN, description="the order's id")]


def _idempotency_key(value: str | None) -> str:
    # 400, as order answers it (draft-ietf-httpapi-idempotency-key-header): checked before order is asked.
    if value is None or not IDEMPOTENCY_KEY.fullmatch(value):
        message = "required: a unique key per order (e.g. a UUID), sent again with each retry"
        raise Problem(
            400,
            "Request is not valid",
            f"{IDEMPOTENCY_KEY_FIELD}: {message}",
            errors=[{"field": IDEMPOTENCY_KEY_FIELD, "message": message}],
        )
    return value


@router.post(
    "/checkout",
    status_code=status.HTTP_201_CREATED,
    summary="Place the basket as an order (201); a retry with the same Idempotency-Key gets the same order (200)",
    responses={200: {"model": OrderDetails, "description": "a retry: the order the first request placed"}},
)
async def checkout(
    body: Checkout,
    customer: SignedInCustomer,
    downstreams: CurrentDownstreams,
    response: Response,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", description="unique per order")] = None,
) -> OrderDetails:
    key = _idempotency_key(idempotency_key)
    order = {
        "lines": [{"sku": line.sku, "quantity": line.quantity} for line in body.lines],
        "delivery_address_id": body.delivery_address_id,
        "payment": {"card_number": body.card_number.get_secret_value()},
    }
    try:
        answer = await downstreams.order.send(
            "POST",
            "/orders",
            json=order,
            headers=customer.headers | {"Idempotency-Key": key},
            read=OrderRecord,
            timeout=downstreams.deadlines.checkout,
        )
    except DownstreamRefusedError:
        raise
    except DownstreamError as exc:
        # Without a clear answer, order may have placed it all the same: the same key again tells, and never
        # places it twice.
        exc.hint = "the order may have been placed: send it again with the same Idempotency-Key"
        raise
    response.status_code = answer.status
    response.headers["Location"] = f"/api/orders/{answer.body.id}"
    return order_details(answer.body)


@router.get("/orders", summary="The signed-in customer's orders, newest first, a page at a time")
async def list_orders(
    customer: SignedInCustomer,
    downstreams: CurrentDownstreams,
    page: Annotated[
        str | None, Query(pattern=ORDER_PAGE_PATTERN, description="the `next_page` of the last page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> OrderList:
    params: dict[str, str | int] = {"limit": limit} | ({"after": page} if page is not None else {})
    found = await downstreams.order.get("/orders", params=params, headers=customer.headers, read=OrderRecords)
    return OrderList(items=[order_summary(order) for order in found.items], next_page=found.next_cursor)


@router.get("/orders/{order_id}", summary="One order for its status page: the order, its history and its payment")
async def order_status(
    order_id: OrderId, customer: SignedInCustomer, downstreams: CurrentDownstreams
) -> OrderStatusPage:
    headers = customer.headers
    async with together() as group:
        order = group.create_task(downstreams.order.get(f"/orders/{order_id}", headers=headers, read=OrderRecord))
        history = group.create_task(
            downstreams.order.get(f"/orders/{order_id}/history", headers=headers, read=OrderHistory)
        )
        # The page shows the order without its payment's state rather than wait long for it.
        payment = group.create_task(
            or_missing(
                or_none_if_not_found(
                    downstreams.payment.get(
                        f"/me/payments/{order_id}",
                        headers=headers,
                        read=PaymentRecord,
                        timeout=downstreams.deadlines.optional,
                    )
                )
            )
        )
    entries = history.result().items
    return OrderStatusPage(
        **dict(order_details(order.result(), history=entries)),
        history=[history_item(entry) for entry in entries],
        payment=part(payment.result(), lambda found: payment_summary(found) if found is not None else None),
    )


@router.post("/orders/{order_id}/cancel", summary="Cancel an order until its payment is taken; 409 after")
async def cancel_order(order_id: OrderId, customer: SignedInCustomer, downstreams: CurrentDownstreams) -> OrderDetails:
    answer = await downstreams.order.send(
        "POST", f"/orders/{order_id}/cancel", headers=customer.headers, read=OrderRecord
    )
    return order_details(answer.body)
