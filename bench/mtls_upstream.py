"""The upstream of bench/mtls.py: a paved Service with one cheap route that only the bench's caller may call
(with mutual TLS on, the allow-list is checked on every call; without it, nothing is)."""

from __future__ import annotations

import paved
from fastapi import APIRouter


def create_service() -> paved.Service:
    service = paved.Service(name="shelf", version="bench", database=False)
    router = APIRouter()

    @router.get("/album", dependencies=[paved.callers("bench")])
    async def album() -> dict[str, object]:
        return {"sku": "ALB-00001", "title": "Blue Train", "price": {"amount_minor": 1999}}

    service.include_router(router)
    return service
