from __future__ import annotations

import asyncio

import httpx
from paved import Envelope
from paved.testing import BrokerProbe, TestTokens, eventually

from loyalty.contract import COMMANDS, EVENTS, AwardPoints, Money, RevokePoints

from .conftest import REPLIES, REPLY_SUBJECT

CONSUMER = "loyalty-commands"
# The commands are sent as envelopes of the test's own (with a reply subject), on their messages' subjects, as
# order (the only sender loyalty takes commands from) sends them.
AWARD_POINTS = AwardPoints.message_subject
REVOKE_POINTS = RevokePoints.message_subject


def award(customer_id: str, order_id: str = "o-1", amount_minor: int = 1299) -> Envelope:
    command = AwardPoints(
        order_id=order_id, customer_id=customer_id, amount=Money(amount_minor=amount_minor, currency="GBP")
    )
    return command.envelope(reply_to=REPLY_SUBJECT, sender="order")


def revoke(customer_id: str, order_id: str = "o-1") -> Envelope:
    return RevokePoints(order_id=order_id, customer_id=customer_id).envelope(reply_to=REPLY_SUBJECT, sender="order")


async def handled(probe: BrokerProbe) -> None:
    assert await eventually(lambda: probe.all_handled(stream=COMMANDS.name, consumer=CONSUMER))


async def replies_to(probe: BrokerProbe, *commands: Envelope, count: int) -> list[Envelope]:
    """The replies to ``commands``, once ``count`` have arrived (and a moment for a wrong extra one)."""
    correlation_ids = {command.correlation_id for command in commands}

    async def arrived() -> list[Envelope]:
        found = await probe.messages_in(REPLIES.name, correlation_ids=correlation_ids)
        return found if len(found) >= count else []

    await eventually(arrived)
    await asyncio.sleep(0.3)
    return await probe.messages_in(REPLIES.name, correlation_ids=correlation_ids)


async def events_of(probe: BrokerProbe, *commands: Envelope) -> list[Envelope]:
    return await probe.messages_in(EVENTS.name, correlation_ids={command.correlation_id for command in commands})


async def balance(client: httpx.AsyncClient, tokens: TestTokens, customer_id: str) -> int:
    points = await client.get("/me/points", headers=tokens.bearer(customer_id, "customer"))
    return int(points.json()["balance"])


async def test_an_award_is_answered_announced_and_counted(
    client: httpx.AsyncClient, tokens: TestTokens, probe: BrokerProbe, customer_id: str
) -> None:
    """AwardPoints over the broker: PointsAwarded comes back on the reply subject and out on LOYALTY_EVENTS."""
    command = award(customer_id, amount_minor=1299)
    await probe.publish(command, subject=AWARD_POINTS)
    [reply] = await replies_to(probe, command, count=1)
    assert (reply.type, reply.causation_id) == ("loyalty.PointsAwarded", command.id)
    assert (reply.data["customer_id"], reply.data["points"], reply.data["balance"]) == (customer_id, 12, 12)
    [event] = await eventually(lambda: events_of(probe, command))
    assert event.type == "loyalty.PointsAwarded" and event.data == reply.data
    assert await balance(client, tokens, customer_id) == 12


async def test_a_duplicate_delivery_has_one_effect(
    client: httpx.AsyncClient, tokens: TestTokens, probe: BrokerProbe, customer_id: str
) -> None:
    """The same message delivered twice (a copy past the broker's de-duplication): one award, one reply, one event."""
    command = award(customer_id)
    await probe.publish(command, subject=AWARD_POINTS)
    await probe.publish(command, subject=AWARD_POINTS, dedup_id=f"{command.id}:copy")
    await handled(probe)
    assert len(await replies_to(probe, command, count=1)) == 1
    assert len(await events_of(probe, command)) == 1
    assert await balance(client, tokens, customer_id) == 12


async def test_the_same_order_in_two_messages_is_awarded_once_and_answered_alike(
    client: httpx.AsyncClient, tokens: TestTokens, probe: BrokerProbe, customer_id: str
) -> None:
    """AwardPoints sent again for the same order (a new message) changes nothing and gets the first answer."""
    first, again = award(customer_id), award(customer_id)
    await probe.publish(first, subject=AWARD_POINTS)
    await probe.publish(again, subject=AWARD_POINTS)
    replies = await replies_to(probe, first, again, count=2)
    assert [r.causation_id for r in replies] == [first.id, again.id]
    assert replies[0].data == replies[1].data
    assert [e.causation_id for e in await events_of(probe, first, again)] == [first.id]
    assert await balance(client, tokens, customer_id) == 12


async def test_a_revocation_that_overtakes_its_award_keeps_the_points_away(
    client: httpx.AsyncClient, tokens: TestTokens, probe: BrokerProbe, customer_id: str
) -> None:
    """RevokePoints first is recorded as revoking nothing; the award after it earns nothing and is told so."""
    early, late = revoke(customer_id), award(customer_id)
    await probe.publish(early, subject=REVOKE_POINTS)
    await handled(probe)
    await probe.publish(late, subject=AWARD_POINTS)
    replies = await replies_to(probe, early, late, count=2)
    assert [r.type for r in replies] == ["loyalty.PointsRevoked"] * 2
    assert all(r.data["was_awarded"] is False and r.data["points"] == 0 for r in replies)
    assert [e.type for e in await events_of(probe, early, late)] == ["loyalty.PointsRevoked"]
    statement = (await client.get("/me/points", headers=tokens.bearer(customer_id, "customer"))).json()
    assert statement["balance"] == 0
    assert [(e["kind"], e["points"]) for e in statement["entries"]] == [("revoke", 0)]


async def test_a_refund_takes_back_the_orders_points(
    client: httpx.AsyncClient, tokens: TestTokens, probe: BrokerProbe, customer_id: str
) -> None:
    """Award two orders, revoke one: its points go, the other's stay, and the events come out in order."""
    first, second, refund = award(customer_id, "o-1", 1299), award(customer_id, "o-2", 500), revoke(customer_id, "o-1")
    await probe.publish(first, subject=AWARD_POINTS)
    await probe.publish(second, subject=AWARD_POINTS)
    await probe.publish(refund, subject=REVOKE_POINTS)
    replies = await replies_to(probe, first, second, refund, count=3)
    assert [(r.type, r.data["balance"]) for r in replies] == [
        ("loyalty.PointsAwarded", 12),
        ("loyalty.PointsAwarded", 17),
        ("loyalty.PointsRevoked", 5),
    ]
    events = await eventually(lambda: events_of(probe, first, second, refund))
    assert [e.causation_id for e in events] == [first.id, second.id, refund.id]
    assert await balance(client, tokens, customer_id) == 5


async def test_a_malformed_command_is_parked_and_the_next_one_is_handled(
    client: httpx.AsyncClient, tokens: TestTokens, probe: BrokerProbe, customer_id: str
) -> None:
    """An AwardPoints without a customer goes to the dead letters naming the field; the consumer goes on."""
    broken = Envelope(
        type="loyalty.AwardPoints", correlation_id="c-broken", data={"order_id": "o-9", "amount": {"amount_minor": 100}}
    )
    await probe.publish(broken, subject=AWARD_POINTS)
    good = award(customer_id)
    await probe.publish(good, subject=AWARD_POINTS)
    assert len(await replies_to(probe, good, count=1)) == 1

    async def parked() -> list[str]:
        letters = await probe.dead_letters()
        return [letter.reason for letter in letters if Envelope.from_bytes(letter.body).id == broken.id]

    [reason] = await eventually(parked)
    assert "customer_id" in reason and "currency" in reason
    assert await balance(client, tokens, customer_id) == 12
