"""The events the payment service reacts to, for choreographed orders: the warehouse's and order's.

Every such event is read, whichever way the order is fulfilled (nothing in it says which): the card
keeper acts only for an order that sent its card (KeepCard), and only notes it for any other. Like a
command, each is handled in the consumer's transaction, which records it as processed.
"""

from __future__ import annotations

from paved.messaging import Consumer, Handling

from payment.card_keeper import CardKeeper
from payment.handlers import OpenStore, asker_of
from payment.partners import OrderCancelled, OrderRejected, StockReserved


def register(warehouse_events: Consumer, order_events: Consumer, *, keeper: CardKeeper, open_store: OpenStore) -> None:
    """React to the events from ``warehouse_events`` and ``order_events``, in the stores ``open_store`` gives."""

    @warehouse_events.handles(StockReserved)
    async def stock_reserved(handling: Handling, event: StockReserved) -> None:
        await keeper.stock_reserved(open_store(handling), event.order_id, asker_of(handling))

    async def order_ended(handling: Handling, event: OrderCancelled | OrderRejected) -> None:
        await keeper.order_ended(open_store(handling), event.order_id, asker_of(handling))

    order_events.handles(OrderCancelled)(order_ended)
    order_events.handles(OrderRejected)(order_ended)
