"""The upstreams of bench/resilience.py, each in a process of its own.

- ``tiny``: a Starlette app with one cheap JSON route on uvicorn (uvloop, httptools), so that the caller, not
  the upstream, is what limits the rate: the client's cost per call is what shows.
- ``create_service``: a paved Service (``python -m paved serve``, as a shop runs one) with one route,
  ``GET /work``, that costs a fixed amount of CPU (``BENCH_SERVICE_MS``, default 4 ms) in four slices with
  an ``await`` between them, as a handler does between its queries: requests are in flight together, so
  paved's shedding (``max_in_flight``, ``queue_seconds``) works as in a real service. Its capacity is one
  core's worth of that work; what it sheds still costs it the HTTP parsing, the middleware and the log
  line, so a retry storm eats into it. ``BENCH_LOOP=asyncio`` serves it on asyncio's loop instead of
  uvloop.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

import paved
import uvicorn
from fastapi import APIRouter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SLICES = 4


def tiny() -> Starlette:
    """The cheap upstream of the client-cost bench: one small JSON answer."""

    async def album(_: Request) -> JSONResponse:
        return JSONResponse({"sku": "ALB-00001", "title": "Blue Train", "price": {"amount_minor": 1999}})

    return Starlette(routes=[Route("/album", album)])


def busy(seconds: float) -> None:
    """Spin for ``seconds`` of this thread's CPU: the same work whatever else the machine runs."""
    ends = time.thread_time() + seconds
    while time.thread_time() < ends:
        pass


def create_service() -> paved.Service:
    """The overloaded upstream: a paved Service with its default shedding and one CPU-bound route."""
    if os.environ.get("BENCH_LOOP") == "asyncio":
        # uvicorn's loop "auto" (what paved serves with) takes uvloop when it can import it: hidden, it
        # falls back to asyncio's own loop, all else equal (bench/README.md says why this is measured).
        sys.modules["uvloop"] = None  # type: ignore[assignment]
    service = paved.Service(name="worker", version="bench", database=False)
    work_seconds = float(os.environ.get("BENCH_SERVICE_MS", "4")) / 1000
    router = APIRouter()

    @router.get("/work")
    async def work() -> dict[str, bool]:
        for _ in range(SLICES):
            busy(work_seconds / SLICES)
            await asyncio.sleep(0)  # where a real handler awaits its database
        return {"done": True}

    service.include_router(router)
    return service


if __name__ == "__main__":
    # python bench/resilience_upstream.py PORT: the tiny upstream, with uvicorn's settings as paved serves.
    uvicorn.run(
        tiny(),
        host="127.0.0.1",
        port=int(sys.argv[1]),
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        timeout_keep_alive=30,
    )
