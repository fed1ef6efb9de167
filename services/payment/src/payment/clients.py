"""The card processor over HTTP, through paved's client: every call has a deadline, and every answer, or
the lack of one, becomes one of the results in ``results.py``; nothing here raises for the processor's sake.

Whether an unanswered call may have been carried out (``maybe_done``): not if the connection was never
made, or if the processor said so (503 and 429 are answered before doing anything); otherwise it may have
(a read timeout, a dropped connection, a 500, a 409 for a key still in use by an earlier call).
"""

from __future__ import annotations

from typing import Any

import httpx
import structlog
from paved import DeadlineExceeded, service_client

from payment.cards import CardNumber
from payment.money import Money
from payment.results import (
    Charged,
    ChargeResult,
    ChargesFound,
    Declined,
    FoundCharge,
    LookUpResult,
    NoAnswer,
    RefundMade,
    RefundResult,
    Refused,
)

log = structlog.get_logger(logger_name="payment.clients")

_NOT_DONE_STATUSES = frozenset({429, 503})
_KEY_IN_USE = "Idempotency key in use"
_REASON_LENGTH = 200


def _no_answer(exc: httpx.HTTPError) -> NoAnswer:
    never_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, DeadlineExceeded))
    return NoAnswer(f"{type(exc).__name__}: {exc}"[:_REASON_LENGTH], maybe_done=not never_sent)


def _problem(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
        title, detail = str(body.get("title", "")), str(body.get("detail", ""))
    except (ValueError, AttributeError):
        title, detail = "", ""
    return title, f"{response.status_code} {title}: {detail}".strip(": ")[:_REASON_LENGTH]


def _unanswered_or_refused(response: httpx.Response) -> NoAnswer | Refused:
    title, reason = _problem(response)
    if response.status_code >= 500 or response.status_code == 429:
        return NoAnswer(reason, maybe_done=response.status_code not in _NOT_DONE_STATUSES)
    if response.status_code == 409 and title == _KEY_IN_USE:
        return NoAnswer(reason, maybe_done=True)  # an earlier call with the key is still being carried out
    return Refused(reason)


class HttpPaymentProvider:
    """The payment-provider service (or any processor speaking its API) at ``base_url``, through one kept
    client (and its connections): the service's (``Service.client``: a breaker, a bulkhead, retries of
    what is safe to send again, a charge being keyed), or one opened at the first call and closed by
    ``aclose``. While its circuit is open a call is answered at once with a 503: not carried out.

    Args:
        base_url: where it answers, e.g. ``http://127.0.0.1:8109``.
        timeout: every call's deadline in seconds.
        api_key: its secret key, sent as a bearer token, if it wants one.
        transport: replaces the network, for tests.
        client: the service's client of it, which the service closes.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        api_key: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.transport = transport
        self._auth = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = client
        self._owns_client = client is None

    async def aclose(self) -> None:
        """Close the kept client's connections; a call after this opens a new one."""
        if not self._owns_client:
            return  # the service's: it closes it
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def _send(self, method: str, path: str, *, key: str | None = None, **kwargs: Any) -> httpx.Response:
        if self._client is None:
            self._client = service_client(self.base_url, timeout=self.timeout, transport=self.transport)
        headers = self._auth | ({"Idempotency-Key": key} if key else {})
        return await self._client.request(method, path, headers=headers, timeout=self.timeout, **kwargs)

    async def charge(self, *, idempotency_key: str, amount: Money, card: CardNumber, reference: str) -> ChargeResult:
        """POST /charges under ``idempotency_key``."""
        body = {
            "amount_minor": amount.amount_minor,
            "currency": amount.currency,
            "card_number": card.digits,
            "reference": reference,
        }
        try:
            response = await self._send("POST", "/charges", key=idempotency_key, json=body)
        except httpx.HTTPError as exc:
            result: ChargeResult = _no_answer(exc)
        else:
            result = self._charge_result(response)
        log.info("charge asked", reference=reference, card_last4=card.last4, result=type(result).__name__)
        return result

    def _charge_result(self, response: httpx.Response) -> ChargeResult:
        if not response.is_success:
            return _unanswered_or_refused(response)
        try:
            charge = response.json()
            charge_id, status = str(charge["id"]), charge["status"]
            if status == "succeeded":
                return Charged(charge_id)
            if status == "declined":
                return Declined(charge_id, str(charge.get("decline_code") or "declined"))
        except (ValueError, KeyError, TypeError):
            pass
        # A success whose body does not say what happened: the same key will say it again.
        return NoAnswer(f"{response.status_code} with an unreadable charge", maybe_done=True)

    async def refund(self, *, charge_id: str, idempotency_key: str, amount: Money) -> RefundResult:
        """POST /charges/{charge_id}/refunds under ``idempotency_key``."""
        try:
            response = await self._send(
                "POST", f"/charges/{charge_id}/refunds", key=idempotency_key, json={"amount_minor": amount.amount_minor}
            )
        except httpx.HTTPError as exc:
            return _no_answer(exc)
        if not response.is_success:
            return _unanswered_or_refused(response)
        try:
            return RefundMade(str(response.json()["id"]))
        except (ValueError, KeyError, TypeError):
            return NoAnswer(f"{response.status_code} with an unreadable refund", maybe_done=True)

    async def charges_for(self, reference: str) -> LookUpResult:
        """GET /charges?reference=…"""
        try:
            response = await self._send("GET", "/charges", params={"reference": reference})
        except httpx.HTTPError as exc:
            return _no_answer(exc)
        if not response.is_success:
            return _unanswered_or_refused(response)
        try:
            found = tuple(
                FoundCharge(str(charge["id"]), charge["status"] == "succeeded") for charge in response.json()["items"]
            )
        except (ValueError, KeyError, TypeError):
            return NoAnswer(f"{response.status_code} with an unreadable list of charges", maybe_done=True)
        return ChargesFound(found)
