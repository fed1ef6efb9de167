"""The warehouse's HTTP API: parse, call a use case, answer with the contract's models.

Each use case runs in a transaction of its own; errors are the domain's, answered as problems where the
service maps them (``app.py``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from paved import Provided, callers, require_scopes

from warehouse.announcements import lines_out
from warehouse.contract import (
    ID_PATTERN,
    SKU_PATTERN,
    Delivery,
    ReservationOut,
    ReservationRequest,
    Sku,
    StockAccount,
    StockLevel,
    StockLevels,
)
from warehouse.domain import Line, Reservation, Stock
from warehouse.use_cases import Warehouse

# Who may change stock and reservations, in one place: an access token with the admin scope.
STAFF_ONLY = [require_scopes("admin"), callers(operators=True)]

# Who may call (deny by default, docs/zero-trust.md): the storefront asks what is in stock; the staff
# routes take the operators' tools.
router = APIRouter(dependencies=[callers("web-bff")])

WarehouseDep = Annotated[Warehouse, Provided(Warehouse)]
SkuPath = Annotated[str, Path(pattern=SKU_PATTERN, description="the catalog's stock-keeping id")]
OrderIdPath = Annotated[str, Path(pattern=ID_PATTERN, description="the order's id")]
ReceiptIdPath = Annotated[str, Path(pattern=ID_PATTERN, description="the delivery's receipt id")]


def _level(stock: Stock) -> StockLevel:
    return StockLevel(sku=stock.sku, available=stock.available)


def _account(stock: Stock) -> StockAccount:
    return StockAccount(
        sku=stock.sku,
        received=stock.received,
        on_hand=stock.on_hand,
        available=stock.available,
        reserved=stock.reserved,
        dispatched=stock.dispatched,
    )


def _out(reservation: Reservation) -> ReservationOut:
    return ReservationOut(
        order_id=reservation.order_id,
        status=reservation.status.value,
        lines=list(lines_out(reservation.lines)),
        reserved_at=reservation.reserved_at,
        expires_at=reservation.expires_at,
        picked_at=reservation.picked_at,
        released_at=reservation.released_at,
        dispatched_at=reservation.dispatched_at,
    )


@router.get("/stock/{sku}", tags=["stock"], summary="How many units of a SKU can be reserved now")
async def get_stock(sku: SkuPath, warehouse: WarehouseDep) -> StockLevel:
    [stock] = await warehouse.levels([sku])
    return _level(stock)


@router.get("/stock", tags=["stock"], summary="How many units of each SKU can be reserved now")
async def list_stock(
    sku: Annotated[list[Sku], Query(min_length=1, max_length=100, description="a SKU; repeat for more")],
    warehouse: WarehouseDep,
) -> StockLevels:
    return StockLevels(items=[_level(stock) for stock in await warehouse.levels(sku)])


@router.get("/stock/{sku}/account", tags=["stock"], dependencies=STAFF_ONLY, summary="Where every unit is (staff)")
async def get_account(sku: SkuPath, warehouse: WarehouseDep) -> StockAccount:
    [stock] = await warehouse.levels([sku])
    return _account(stock)


@router.put(
    "/stock/{sku}/receipts/{receipt_id}",
    tags=["stock"],
    dependencies=STAFF_ONLY,
    status_code=status.HTTP_201_CREATED,
    summary="Book a delivery into stock, once per receipt id (staff)",
    responses={200: {"description": "the receipt was booked before; nothing changed"}},
)
async def receive_stock(
    sku: SkuPath,
    receipt_id: ReceiptIdPath,
    delivery: Delivery,
    warehouse: WarehouseDep,
    response: Response,
) -> StockAccount:
    stock, new = await warehouse.receive(receipt_id=receipt_id, sku=sku, quantity=delivery.quantity)
    if not new:
        response.status_code = status.HTTP_200_OK
    return _account(stock)


@router.post(
    "/reservations",
    tags=["reservations"],
    dependencies=STAFF_ONLY,
    status_code=status.HTTP_201_CREATED,
    summary="Hold all of an order's lines, or none (staff)",
    responses={200: {"description": "the order was reserved before, with these lines; its reservation as it stands"}},
)
async def reserve_stock(asked: ReservationRequest, warehouse: WarehouseDep, response: Response) -> ReservationOut:
    lines = [Line(line.sku, line.quantity) for line in asked.lines]
    reservation, new = await warehouse.reserve(
        order_id=asked.order_id, lines=lines, ttl=timedelta(seconds=asked.ttl_seconds)
    )
    response.headers["Location"] = f"/reservations/{reservation.order_id}"
    if not new:
        response.status_code = status.HTTP_200_OK
    return _out(reservation)


@router.get(
    "/reservations/{order_id}", tags=["reservations"], dependencies=STAFF_ONLY, summary="An order's reservation"
)
async def get_reservation(order_id: OrderIdPath, warehouse: WarehouseDep) -> ReservationOut:
    return _out(await warehouse.reservation(order_id))


@router.post(
    "/reservations/{order_id}/release",
    tags=["reservations"],
    dependencies=STAFF_ONLY,
    summary="Put an order's held stock back on the shelf; again changes nothing (staff)",
)
async def release_stock(order_id: OrderIdPath, warehouse: WarehouseDep) -> ReservationOut:
    return _out(await warehouse.release(order_id))


@router.post(
    "/reservations/{order_id}/pick",
    tags=["reservations"],
    dependencies=STAFF_ONLY,
    summary="Mark an order picked: its hold no longer lapses (staff)",
)
async def pick_order(order_id: OrderIdPath, warehouse: WarehouseDep) -> ReservationOut:
    return _out(await warehouse.pick(order_id))


@router.post(
    "/reservations/{order_id}/dispatch",
    tags=["reservations"],
    dependencies=STAFF_ONLY,
    summary="Send an order's units to the customer (staff)",
)
async def dispatch_order(order_id: OrderIdPath, warehouse: WarehouseDep) -> ReservationOut:
    return _out(await warehouse.dispatch(order_id))
