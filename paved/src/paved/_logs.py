"""Structured JSON logs: one line per event, carrying service, version and the current ids."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from paved import _context as context


def _add_ids(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    if (rid := context.request_id.get()) is not None:
        event.setdefault("request_id", rid)
    if (cid := context.correlation_id.get()) is not None:
        event.setdefault("correlation_id", cid)
    return event


def _add_logger_name(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    event.setdefault("logger_name", event["_record"].name)
    return event


def configure_logging(*, service: str, version: str, level: str = "INFO", stream: TextIO | None = None) -> None:
    """Send structlog's and the standard library's logs to ``stream`` (stdout) as JSON lines."""
    stream = stream or sys.stdout

    def add_service(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
        event.setdefault("service", service)
        event.setdefault("version", version)
        return event

    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_service,
        _add_ids,
    ]
    # paved's own events skip the standard library's machinery (structlog's fast path: a filtering
    # logger writing straight to stdout); other libraries' records are formatted alike below.
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, structlog.processors.JSONRenderer()],
        logger_factory=structlog.WriteLoggerFactory(file=stream),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        # Not cached: module-level loggers must follow a later configure_logging (tests call it again).
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, _add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
