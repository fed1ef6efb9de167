from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import aclosing

import httpx
import pytest

from payment.cards import CardNumber
from payment.clients import HttpPaymentProvider
from payment.money import Money
from payment.results import (
    Charged,
    ChargesFound,
    Declined,
    FoundCharge,
    NoAnswer,
    RefundMade,
    Refused,
)

CARD = CardNumber("4242424242424242")
PRICE = Money(1299, "GBP")
Handler = Callable[[httpx.Request], httpx.Response]


def problem(status: int, title: str) -> httpx.Response:
    return httpx.Response(status, json={"title": title, "status": status, "detail": "why"})


async def charge_with(handler: Handler, *, api_key: str | None = None) -> object:
    provider = HttpPaymentProvider(
        "http://provider", timeout=1.0, api_key=api_key, transport=httpx.MockTransport(handler)
    )
    async with aclosing(provider):
        return await provider.charge(idempotency_key="o-1", amount=PRICE, card=CARD, reference="o-1")


async def test_a_charge_is_sent_with_its_key_its_card_and_the_api_key() -> None:
    """The request carries the Idempotency-Key, the amount in minor units, the card number and the API key."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"id": "ch_1", "status": "succeeded", "decline_code": None})

    assert await charge_with(answer, api_key="sk_test") == Charged("ch_1")
    (request,) = seen
    assert (request.method, request.url.path) == ("POST", "/charges")
    assert request.headers["Idempotency-Key"] == "o-1"
    assert request.headers["Authorization"] == "Bearer sk_test"
    body = json.loads(request.content)
    assert body == {"amount_minor": 1299, "currency": "GBP", "card_number": CARD.digits, "reference": "o-1"}


@pytest.mark.parametrize(
    ("response", "result"),
    [
        (httpx.Response(200, json={"id": "ch_1", "status": "succeeded"}), Charged("ch_1")),
        (
            httpx.Response(201, json={"id": "ch_1", "status": "declined", "decline_code": "expired_card"}),
            Declined("ch_1", "expired_card"),
        ),
        (problem(503, "Service Unavailable"), NoAnswer("503 Service Unavailable: why", maybe_done=False)),
        (problem(429, "Too Many Requests"), NoAnswer("429 Too Many Requests: why", maybe_done=False)),
        (problem(500, "Internal Server Error"), NoAnswer("500 Internal Server Error: why", maybe_done=True)),
        (problem(409, "Idempotency key in use"), NoAnswer("409 Idempotency key in use: why", maybe_done=True)),
        (problem(422, "Request is not valid"), Refused("422 Request is not valid: why")),
        (problem(401, "Unauthorized"), Refused("401 Unauthorized: why")),
        (httpx.Response(201, text="<html>gateway</html>"), NoAnswer("201 with an unreadable charge", maybe_done=True)),
    ],
)
async def test_each_answer_becomes_its_result(response: httpx.Response, result: object) -> None:
    """Successes become charges; 503/429 are known not done, other 5xx may be; other 4xx are refusals."""
    assert await charge_with(lambda _: response) == result


@pytest.mark.parametrize(
    ("error", "maybe_done"),
    [
        (httpx.ConnectError("refused"), False),
        (httpx.ConnectTimeout("no connection"), False),
        (httpx.ReadTimeout("no answer"), True),
        (httpx.RemoteProtocolError("dropped"), True),
    ],
)
async def test_a_call_without_an_answer_says_whether_it_may_have_been_carried_out(
    error: httpx.HTTPError, maybe_done: bool
) -> None:
    """A connection never made surely charged nothing; a call that was sent and went unanswered may have."""

    def fail(request: httpx.Request) -> httpx.Response:
        raise error

    result = await charge_with(fail)
    assert isinstance(result, NoAnswer)
    assert result.maybe_done is maybe_done


async def test_refunds_and_look_ups_are_read_from_their_answers() -> None:
    """A refund is sent under its key for the charge's amount; a look-up lists the reference's charges."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "POST":
            return httpx.Response(201, json={"id": "re_1", "charge_id": "ch_1", "amount_minor": 1299})
        items = [{"id": "ch_1", "status": "succeeded"}, {"id": "ch_2", "status": "declined"}]
        return httpx.Response(200, json={"items": items})

    provider = HttpPaymentProvider("http://provider", timeout=1.0, transport=httpx.MockTransport(answer))
    async with aclosing(provider):
        refunded = await provider.refund(charge_id="ch_1", idempotency_key="o-1:refund", amount=PRICE)
        found = await provider.charges_for("o-1")
    assert refunded == RefundMade("re_1")
    assert found == ChargesFound((FoundCharge("ch_1", succeeded=True), FoundCharge("ch_2", succeeded=False)))
    assert (seen[0].url.path, seen[0].headers["Idempotency-Key"]) == ("/charges/ch_1/refunds", "o-1:refund")
    assert json.loads(seen[0].content) == {"amount_minor": 1299}
    assert (seen[1].url.path, seen[1].url.params["reference"]) == ("/charges", "o-1")


class CountedTransport(httpx.MockTransport):
    """A mock network that counts how often its client closed it."""

    closed = 0

    async def aclose(self) -> None:
        self.closed += 1


async def test_one_client_is_kept_until_closed_and_a_call_after_opens_another() -> None:
    """Calls share one client (its connections stay open between them); aclose closes it, and a later call
    opens a new one instead of failing."""
    transport = CountedTransport(lambda _: httpx.Response(200, json={"items": []}))
    provider = HttpPaymentProvider("http://provider", timeout=1.0, transport=transport)
    assert await provider.charges_for("o-1") == ChargesFound(())
    assert await provider.charges_for("o-2") == ChargesFound(())
    assert transport.closed == 0
    await provider.aclose()
    assert transport.closed == 1
    assert await provider.charges_for("o-3") == ChargesFound(())
    await provider.aclose()
    await provider.aclose()  # closing twice closes nothing more
    assert transport.closed == 2
