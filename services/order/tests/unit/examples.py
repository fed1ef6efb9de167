"""Orders in every status, brought there the way orders get there: shared by the unit tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from order.domain import CatalogItem, OrderRequest, RequestedLine
from order.lifecycle import Order, OrderStatus

from .fakes import ANNS_ADDRESS, CATALOG, VISA

AT = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def ann_orders(*lines: tuple[str, int], catalog: dict[str, CatalogItem] = CATALOG) -> Order:
    request = OrderRequest(
        customer_id="acc_ann",
        idempotency_key="key-1",
        lines=tuple(RequestedLine(sku, quantity) for sku, quantity in lines),
        delivery_address_id="adr_home",
        card=VISA,
    )
    return Order.place(request, order_id="ord-1", fingerprint="fp", catalog=catalog, delivery=ANNS_ADDRESS, at=AT)


def order_in(status: OrderStatus) -> Order:
    """An order brought to ``status`` the way orders get there."""
    order = ann_orders(("ALB-00001", 2))
    paths: dict[OrderStatus, list[Callable[[Order], object]]] = {
        OrderStatus.PLACED: [],
        OrderStatus.STOCK_RESERVED: [lambda o: o.reserve(at=AT)],
        OrderStatus.PAID: [lambda o: o.reserve(at=AT), lambda o: o.pay(at=AT)],
        OrderStatus.DISPATCHED: [
            lambda o: o.reserve(at=AT),
            lambda o: o.pay(at=AT),
            lambda o: o.dispatch(at=AT),
        ],
        OrderStatus.REJECTED: [lambda o: o.reject_for_shortage("ALB-00001", at=AT)],
        OrderStatus.CANCELLED: [lambda o: o.cancel(at=AT)],
    }
    for step in paths[status]:
        step(order)
    assert order.status is status
    order.facts.clear()
    order.new_history.clear()
    return order
