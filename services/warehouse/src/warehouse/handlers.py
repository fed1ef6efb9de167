"""The commands the warehouse handles: ReserveStock, ReleaseStock, DispatchOrder.

Each is handled in the consumer's transaction, which also records the message as processed (so a
redelivery has no second effect) and holds the outbox rows of the reply and the events. A command that
gives a reply subject is answered with where the order's stock stands after it (see ``contract``); a
refusal the asker can act on (out of stock, expired, released, dispatched, unknown order) is an
answer, not a failure. Anything else fails the handler: the message is retried, then parked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import assert_never

from paved.messaging import Consumer, Handling, Reply

from warehouse.announcements import lines_out, shortages_out
from warehouse.contract import (
    DispatchOrder,
    OrderDispatched,
    OutOfStock,
    ReleaseStock,
    ReservationNotFound,
    ReserveStock,
    StockReleased,
    StockReserved,
)
from warehouse.domain import (
    AlreadyDispatchedError,
    Line,
    OutOfStockError,
    ReleaseReason,
    Reservation,
    ReservationExpiredError,
    ReservationNotFoundError,
    ReservationReleasedError,
    ReservationStatus,
)
from warehouse.partners import COMMANDS_FROM
from warehouse.use_cases import Warehouse

WarehouseFor = Callable[[Handling], Warehouse]
"""The warehouse's use cases in a handled message's transaction, announcing as caused by that message."""

# Refusals after which the reservation's state is itself the answer: it was let go, or it has left.
_SETTLED = (ReservationExpiredError, ReservationReleasedError, AlreadyDispatchedError)


def where_it_stands(reservation: Reservation) -> Reply:
    """The answer that says where an order's stock stands: held, back on the shelf, or dispatched."""
    lines = lines_out(reservation.lines)
    match reservation.status:
        case ReservationStatus.HELD | ReservationStatus.PICKED:
            return StockReserved(order_id=reservation.order_id, lines=lines, expires_at=reservation.expires_at)
        case ReservationStatus.RELEASED | ReservationStatus.EXPIRED:
            assert reservation.released_at is not None
            reason: ReleaseReason = "expired" if reservation.status is ReservationStatus.EXPIRED else "released"
            return StockReleased(
                order_id=reservation.order_id, lines=lines, reason=reason, released_at=reservation.released_at
            )
        case ReservationStatus.DISPATCHED:
            assert reservation.dispatched_at is not None
            return OrderDispatched(order_id=reservation.order_id, lines=lines, dispatched_at=reservation.dispatched_at)
        case _:
            assert_never(reservation.status)


async def _act_on_reservation(
    handling: Handling, warehouse: Warehouse, order_id: str, act: Callable[[str], Awaitable[Reservation]]
) -> None:
    try:
        reservation = await act(order_id)
    except ReservationNotFoundError:
        await handling.reply(ReservationNotFound(order_id=order_id))
        return
    except _SETTLED:
        # Nothing the refusal tried was done; a lapse it found was settled and commits with this answer.
        reservation = await warehouse.reservation(order_id)
    await handling.reply(where_it_stands(reservation))


def register(commands: Consumer, *, warehouse_for: WarehouseFor) -> None:
    """Handle the warehouse's commands from ``commands``, with the use cases ``warehouse_for`` gives."""

    @commands.handles(ReserveStock, senders=COMMANDS_FROM)
    async def reserve_stock(handling: Handling, command: ReserveStock) -> None:
        warehouse = warehouse_for(handling)
        try:
            reservation, _ = await warehouse.reserve(
                order_id=command.order_id,
                lines=[Line(line.sku, line.quantity) for line in command.lines],
                ttl=timedelta(seconds=command.ttl_seconds),
            )
        except OutOfStockError as short:
            await handling.reply(OutOfStock(order_id=command.order_id, shortages=shortages_out(short.shortages)))
            return
        await handling.reply(where_it_stands(reservation))

    @commands.handles(ReleaseStock, senders=COMMANDS_FROM)
    async def release_stock(handling: Handling, command: ReleaseStock) -> None:
        warehouse = warehouse_for(handling)
        await _act_on_reservation(handling, warehouse, command.order_id, warehouse.release)

    @commands.handles(DispatchOrder, senders=COMMANDS_FROM)
    async def dispatch_order(handling: Handling, command: DispatchOrder) -> None:
        warehouse = warehouse_for(handling)
        await _act_on_reservation(handling, warehouse, command.order_id, warehouse.dispatch)
