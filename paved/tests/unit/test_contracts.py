"""Message types: the subject each knows, and a consumer's one handler per type."""

from __future__ import annotations

import pytest

from paved import Asker
from paved.messaging import Command, Consumer, Event, Handling, Reply
from paved.testing import RecordingOutbox, handling_of


class PriceChanged(Event, type="catalog.PriceChanged", version=1):
    sku: str


class ReserveStock(Command, type="warehouse.ReserveStock", version=1):
    order_id: str


class StockReserved(Reply, type="warehouse.StockReserved", version=1):
    order_id: str


class Legacy(Event, type="orders.OrderPlaced", version=1, subject="orders.placed"):
    order_id: str


def test_a_message_knows_its_subject_from_its_type() -> None:
    """An event goes on ``<owner>.events.<kebab-name>``, a command on ``<owner>.commands.<kebab-name>``,
    a reply on none of its own; ``subject=`` names another."""
    assert PriceChanged.message_subject == "catalog.events.price-changed"
    assert ReserveStock.message_subject == "warehouse.commands.reserve-stock"
    assert StockReserved.message_subject is None
    assert Legacy.message_subject == "orders.placed"


def test_a_type_without_an_owner_is_refused() -> None:
    """A type name must say whose it is (``owner.Name``): the subject and the stream's owner come from it."""
    with pytest.raises(TypeError, match="owner"):

        class Nameless(Event, type="Nameless"):
            pass


def test_a_consumer_has_one_handler_per_type_and_takes_their_subjects() -> None:
    """A second handler of the same type is refused, and a consumer without subjects takes its types' subjects."""
    consumer = Consumer(name="c", stream="S")

    @consumer.handles(PriceChanged)
    async def first(handling: Handling, event: PriceChanged) -> None: ...

    with pytest.raises(ValueError, match=r"already handles catalog\.PriceChanged v1"):

        @consumer.handles(PriceChanged)
        async def second(handling: Handling, event: PriceChanged) -> None: ...

    assert consumer.subject_filter() == ["catalog.events.price-changed"]
    assert Consumer(name="d", stream="S", subjects=["catalog.>"]).subject_filter() == ["catalog.>"]


async def test_a_reply_goes_where_it_was_asked_or_nowhere() -> None:
    """A handled command's reply goes to its sender's reply subject, caused by the command; a command sent
    without a reply subject gets no reply at all."""
    outbox = RecordingOutbox()
    asked = handling_of(ReserveStock(order_id="o-1"), outbox=outbox, reply_to="order.replies")
    sent = await asked.reply(StockReserved(order_id="o-1"))
    assert sent is not None and sent.causation_id == asked.envelope.id
    assert [s.subject for s in outbox.sent] == ["order.replies"]
    unasked = handling_of(ReserveStock(order_id="o-2"), outbox=outbox)
    assert await unasked.reply(StockReserved(order_id="o-2")) is None
    assert len(outbox.sent) == 1


async def test_a_kept_asker_is_answered_later_with_the_commands_ids() -> None:
    """An Asker kept with work answers later as the command's own reply would: same correlation, caused by it."""
    outbox = RecordingOutbox()
    handled = handling_of(ReserveStock(order_id="o-3"), outbox=outbox, reply_to="order.replies", correlation_id="ord-3")
    asker: Asker = handled.envelope.asker  # kept with the work, in the service's own table
    answer = await outbox.reply(handled.session, asker, StockReserved(order_id="o-3"))
    assert answer is not None
    assert (answer.correlation_id, answer.causation_id) == ("ord-3", handled.envelope.id)
