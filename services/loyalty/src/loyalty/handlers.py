"""The commands the loyalty service handles: AwardPoints and RevokePoints.

Each is handled in the consumer's transaction, which also records the message as processed (so a
redelivery of the same message has no second effect) and holds the outbox rows of its event and reply.
The ledger makes each command idempotent per order besides: the same order sent again in a new message
changes nothing, and is answered as the first was.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from paved.messaging import Consumer, Handling

from loyalty.announcements import event_of
from loyalty.contract import AwardPoints, RevokePoints
from loyalty.domain import Money
from loyalty.partners import COMMANDS_FROM
from loyalty.use_cases import PointsBook

OpenBook = Callable[[Handling], PointsBook]
"""The use cases in a handled message's transaction, announcing as caused by that message."""

# paved's reply subjects are "<service>.replies", each captured by the asker's own stream. A reply to any
# other subject reaches no stream (paved's relay parks it unsent, and the asker never hears) or a stream
# where it does not belong (another's events, loyalty's own commands): such a command is refused before any
# effect (retried, then parked with the reason), so the outbox only ever holds replies that can arrive.
REPLY_SUBJECT = re.compile(r"[a-z][a-z0-9-]{0,30}\.replies")


class UnroutableReplyError(Exception):
    """A command asked to be answered on a subject that is not a paved reply subject."""

    def __init__(self, reply_to: str) -> None:
        super().__init__(f"cannot answer on {reply_to!r}: replies go to '<service>.replies'")


def _check_reply_subject(handling: Handling) -> None:
    reply_to = handling.envelope.reply_to
    if reply_to is not None and not REPLY_SUBJECT.fullmatch(reply_to):
        raise UnroutableReplyError(reply_to)


def register(commands: Consumer, *, open_book: OpenBook) -> None:
    """Handle the loyalty commands from ``commands``, with the use cases ``open_book`` gives."""

    @commands.handles(AwardPoints, senders=COMMANDS_FROM)
    async def award_points(handling: Handling, command: AwardPoints) -> None:
        _check_reply_subject(handling)
        amount = Money(command.amount.amount_minor, command.amount.currency)
        book = open_book(handling)
        order = await book.award(order_id=command.order_id, customer_id=command.customer_id, amount=amount)
        await handling.reply(event_of(order))  # only if the sender asked for an answer

    @commands.handles(RevokePoints, senders=COMMANDS_FROM)
    async def revoke_points(handling: Handling, command: RevokePoints) -> None:
        _check_reply_subject(handling)
        order = await open_book(handling).revoke(order_id=command.order_id, customer_id=command.customer_id)
        await handling.reply(event_of(order))  # only if the sender asked for an answer
