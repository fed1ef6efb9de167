from __future__ import annotations

import pytest
from paved import Envelope
from paved.messaging import Command, Consumer
from paved.testing import RecordingOutbox, handling_of

from loyalty import handlers
from loyalty.contract import AwardPoints, Money, RevokePoints
from loyalty.use_cases import PointsBook

from .fakes import Announced, FakeLedger, ManualClock

REPLIES = "orders.replies"


class Commands:
    """The loyalty command handlers over a fake ledger; replies go to a recording outbox (the outbound edge)."""

    def __init__(self) -> None:
        self.ledger = FakeLedger()
        self.announced = Announced()
        self.consumer = Consumer(name="loyalty-commands", stream="LOYALTY_COMMANDS")
        book = PointsBook(self.ledger, announce=self.announced, clock=ManualClock())
        handlers.register(self.consumer, open_book=lambda _: book)
        self.outbox = RecordingOutbox()

    async def handle(self, command: Command, *, reply_to: str | None = REPLIES) -> Envelope:
        """Handle ``command`` as the consumer does; returns its envelope."""
        handling = handling_of(command, outbox=self.outbox, reply_to=reply_to)
        await self.consumer.handlers[type(command)](handling, command)
        return handling.envelope

    def replies(self) -> list[tuple[str, Envelope]]:
        """(subject, envelope) of each message written, in order: the announcements go to the fake, so only replies."""
        return [(sent.subject, sent.envelope) for sent in self.outbox.sent]


def award(order_id: str = "o-1", amount_minor: int = 1299) -> AwardPoints:
    amount = Money(amount_minor=amount_minor, currency="GBP")
    return AwardPoints(order_id=order_id, customer_id="acc_ann", amount=amount)


async def test_award_points_answers_points_awarded_to_the_asker() -> None:
    """The reply goes to the command's reply subject, caused by and correlated with the command."""
    commands = Commands()
    command = await commands.handle(award())
    [(subject, reply)] = commands.replies()
    assert subject == REPLIES
    assert (reply.type, reply.causation_id, reply.correlation_id) == (
        "loyalty.PointsAwarded",
        command.id,
        command.correlation_id,
    )
    assert reply.data | {"awarded_at": None} == {
        "order_id": "o-1",
        "customer_id": "acc_ann",
        "points": 12,
        "balance": 12,
        "awarded_at": None,
    }


async def test_a_repeated_award_is_answered_as_the_first() -> None:
    """The same order in a second message gets the same answer, and the balance counts it once."""
    commands = Commands()
    await commands.handle(award())
    await commands.handle(award())
    first, second = (reply for _, reply in commands.replies())
    assert first.data == second.data
    assert commands.ledger.balances == {"acc_ann": 12}


async def test_an_award_after_its_revocation_is_answered_points_revoked() -> None:
    """A late award is told where the order stands: revoked, never awarded, nothing earned."""
    commands = Commands()
    await commands.handle(RevokePoints(order_id="o-1", customer_id="acc_ann"))
    await commands.handle(award())
    replies = [reply for _, reply in commands.replies()]
    assert [r.type for r in replies] == ["loyalty.PointsRevoked", "loyalty.PointsRevoked"]
    assert replies[1].data["was_awarded"] is False and replies[1].data["points"] == 0
    assert commands.ledger.balances == {"acc_ann": 0}


async def test_revoke_points_answers_what_was_taken_back() -> None:
    """Revoking an awarded order answers PointsRevoked with its points and the balance after."""
    commands = Commands()
    await commands.handle(award("o-1", 1299))
    await commands.handle(award("o-2", 500))
    await commands.handle(RevokePoints(order_id="o-1", customer_id="acc_ann"))
    _, reply = commands.replies()[-1]
    assert (reply.type, reply.data["points"], reply.data["balance"], reply.data["was_awarded"]) == (
        "loyalty.PointsRevoked",
        12,
        5,
        True,
    )


async def test_no_reply_when_none_is_asked() -> None:
    """A command without a reply subject is carried out and answered with nothing."""
    commands = Commands()
    await commands.handle(award(), reply_to=None)
    assert commands.replies() == []
    assert commands.ledger.balances == {"acc_ann": 12}


@pytest.mark.parametrize("reply_to", ["nowhere", "orders.replies.extra", "ORDERS.replies", "_inbox.x"])
async def test_a_reply_subject_no_stream_holds_is_refused_before_any_effect(reply_to: str) -> None:
    """A reply that would stall the outbox is refused (to be retried, then parked), and nothing is awarded."""
    commands = Commands()
    with pytest.raises(handlers.UnroutableReplyError):
        await commands.handle(award(), reply_to=reply_to)
    assert commands.ledger.balances == {}
    assert commands.replies() == []
