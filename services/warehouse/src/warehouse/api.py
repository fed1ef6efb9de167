"""The warehouse's HTTP API: parse, run an operation in one transaction, answer with the contract's models.

Errors are the domain's, answered as problems where the service maps them (``app.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from paved import CurrentDatabase, CurrentOutbox, Database, Service, require_scopes
from paved.messaging import Outbox
from sqlalchemy.ext.asyncio import AsyncSession

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
from warehouse.operations import Warehouse

OpenWarehouse = Callable[[AsyncSession, Outbox], Warehouse]
"""The warehouse's operations over a transaction, announcing to the outbox."""

# Who may change stock and reservations, in one place: today the admin token; when paved.auth has JWT
# scopes, this line becomes the scope check and no endpoint changes.
STAFF_ONLY = [require_scopes("admin")]

router = APIRouter()

SkuPath = Annotated[str, Path(pattern=SKU_PATTERN, description="the catalog's stock-keeping id")]
OrderIdPath = Annotated[str, Path(pattern=ID_PATTERN, description="the order's id")]
ReceiptIdPath = Annotated[str, Path(pattern=ID_PATTERN, description="the delivery's receipt id")]


async def _open_warehouse(request: Request) -> OpenWarehouse:
    return request.app.state.open_warehouse  # type: ignore[no-any-return]


Opener = Annotated[OpenWarehouse, Depends(_open_warehouse)]


def install(service: Service, *, open_warehouse: OpenWarehouse) -> None:
    """Serve the warehouse's HTTP API from ``service``, its operations opened by ``open_warehouse``."""
    service.app.state.open_warehouse = open_warehouse
    service.include_router(router)


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


async def _current_stock(db: Database, outbox: Outbox, open_warehouse: OpenWarehouse, skus: list[str]) -> list[Stock]:
    """The stock of ``skus``, read without a lock unless lapsed holds on them must be let go first."""
    async with db.read() as session:
        warehouse = open_warehouse(session, outbox)
        if not await warehouse.has_lapsed_holds(skus):
            return await warehouse.levels(skus)
    # Lazy expiry: a hold on these SKUs lapsed and nothing has put its stock back yet; do it now, so
    # that no read shows stock held for an order that no longer has it.
    async with db.transaction() as session:
        warehouse = open_warehouse(session, outbox)
        await warehouse.expire_lapsed(skus)
        return await warehouse.levels(skus)


@router.get("/stock/{sku}", tags=["stock"], summary="How many units of a SKU can be reserved now")
async def get_stock(sku: SkuPath, db: CurrentDatabase, outbox: CurrentOutbox, opener: Opener) -> StockLevel:
    [stock] = await _current_stock(db, outbox, opener, [sku])
    return _level(stock)


@router.get("/stock", tags=["stock"], summary="How many units of each SKU can be reserved now")
async def list_stock(
    sku: Annotated[list[Sku], Query(min_length=1, max_length=100, description="a SKU; repeat for more")],
    db: CurrentDatabase,
    outbox: CurrentOutbox,
    opener: Opener,
) -> StockLevels:
    return StockLevels(items=[_level(stock) for stock in await _current_stock(db, outbox, opener, sku)])


@router.get("/stock/{sku}/account", tags=["stock"], dependencies=STAFF_ONLY, summary="Where every unit is (staff)")
async def get_account(sku: SkuPath, db: CurrentDatabase, outbox: CurrentOutbox, opener: Opener) -> StockAccount:
    [stock] = await _current_stock(db, outbox, opener, [sku])
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
    db: CurrentDatabase,
    outbox: CurrentOutbox,
    opener: Opener,
    response: Response,
) -> StockAccount:
    async with db.transaction() as session:
        stock, new = await opener(session, outbox).receive(receipt_id=receipt_id, sku=sku, quantity=delivery.quantity)
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
async def reserve_stock(
    asked: ReservationRequest, db: CurrentDatabase, outbox: CurrentOutbox, opener: Opener, response: Response
) -> ReservationOut:
    lines = [Line(line.sku, line.quantity) for line in asked.lines]
    async with db.transaction() as session:
        reservation, new = await opener(session, outbox).reserve(
            order_id=asked.order_id, lines=lines, ttl=timedelta(seconds=asked.ttl_seconds)
        )
    response.headers["Location"] = f"/reservations/{reservation.order_id}"
    if not new:
        response.status_code = status.HTTP_200_OK
    return _out(reservation)


@router.get(
    "/reservations/{order_id}", tags=["reservations"], dependencies=STAFF_ONLY, summary="An order's reservation"
)
async def get_reservation(
    order_id: OrderIdPath, db: CurrentDatabase, outbox: CurrentOutbox, opener: Opener
) -> ReservationOut:
    async with db.read() as session:
        warehouse = opener(session, outbox)
        reservation = await warehouse.find(order_id)
        lapsed = warehouse.has_lapsed(reservation)
    if lapsed:
        # Lazy expiry: say "expired" only once the stock is back on the shelf.
        async with db.transaction() as session:
            reservation = await opener(session, outbox).refresh(order_id)
    return _out(reservation)


@router.post(
    "/reservations/{order_id}/release",
    tags=["reservations"],
    dependencies=STAFF_ONLY,
    summary="Put an order's held stock back on the shelf; again changes nothing (staff)",
)
async def release_stock(
    order_id: OrderIdPath, db: CurrentDatabase, outbox: CurrentOutbox, opener: Opener
) -> ReservationOut:
    async with db.transaction() as session:
        return _out(await opener(session, outbox).release(order_id))


@router.post(
    "/reservations/{order_id}/pick",
    tags=["reservations"],
    dependencies=STAFF_ONLY,
    summary="Mark an order picked: its hold no longer lapses (staff)",
)
async def pick_order(
    order_id: OrderIdPath, db: CurrentDatabase, outbox: CurrentOutbox, opener: Opener
) -> ReservationOut:
    async with db.transaction() as session:
        return _out(await opener(session, outbox).pick(order_id))


@router.post(
    "/reservations/{order_id}/dispatch",
    tags=["reservations"],
    dependencies=STAFF_ONLY,
    summary="Send an order's units to the customer (staff)",
)
async def dispatch_order(
    order_id: OrderIdPath, db: CurrentDatabase, outbox: CurrentOutbox, opener: Opener
) -> ReservationOut:
    async with db.transaction() as session:
        return _out(await opener(session, outbox).dispatch(order_id))
