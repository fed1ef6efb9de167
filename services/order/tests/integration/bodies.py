"""Order requests as the storefront sends them, for the integration tests."""

from __future__ import annotations

import uuid
from typing import Any

VISA = "4242424242424242"


def an_order(*lines: tuple[str, int], address: str = "adr_home", card: str = VISA) -> dict[str, Any]:
    return {
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in (lines or (("ALB-00001", 2),))],
        "delivery_address_id": address,
        "payment": {"card_number": card},
    }


def keyed(headers: dict[str, str], key: str | None = None) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key or str(uuid.uuid4())}
