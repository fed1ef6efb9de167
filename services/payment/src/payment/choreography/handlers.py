"""The messages the payment service takes for choreographed orders: KeepCard, and the warehouse's and order's events.

Every such event is read, whichever way the order is fulfilled (nothing in it says which): the card
keeper acts only for an order that sent its card (KeepCard), and only notes it for any other. Like a
command, each is handled in the consumer's transaction, which records it as processed.
"""

from __future__ import annotations

from paved.messaging import Consumer, Handling

from payment.contract import KeepCard
from payment.handlers import OpenStore, request_of
from payment.partners import COMMANDS_FROM, OrderCancelled, OrderRejected, StockReserved
from payment.use_cases import CardKeeper


def register(
    commands: Consumer, warehouse_events: Consumer, order_events: Consumer, *, keeper: CardKeeper, open_store: OpenStore
) -> None:
    """Handle KeepCard from ``commands`` and react to the events from ``warehouse_events`` and ``order_events``,
    in the stores ``open_store`` gives."""

    @commands.handles(KeepCard, senders=COMMANDS_FROM)
    async def keep_card(handling: Handling, command: KeepCard) -> None:
        await keeper.keep_card(open_store(handling), request_of(command), handling.envelope.asker)

    @warehouse_events.handles(StockReserved)
    async def stock_reserved(handling: Handling, event: StockReserved) -> None:
        await keeper.stock_reserved(open_store(handling), event.order_id, handling.envelope.asker)

    async def order_ended(handling: Handling, event: OrderCancelled | OrderRejected) -> None:
        await keeper.order_ended(open_store(handling), event.order_id, handling.envelope.asker)

    order_events.handles(OrderCancelled)(order_ended)
    order_events.handles(OrderRejected)(order_ended)
