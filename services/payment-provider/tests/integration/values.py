"""Values and helpers the processor's integration tests share."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx

Start = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]

GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
NOT_A_CARD = "4242424242424241"  # the check digit is wrong


def charge_body(*, amount_minor: int = 1299, card: str = GOOD_CARD, reference: str = "o-1") -> dict[str, Any]:
    return {"amount_minor": amount_minor, "currency": "GBP", "card_number": card, "reference": reference}


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}
