"""Structured JSON logs: one line per event, carrying service, version and the current ids."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from paved import context


def _add_ids(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    if (rid := context.request_id.get()) is not None:
        event.setdefault("request_id", rid)
    if (cid := context.correlation_id.get()) is not None:
        event.setdefault("correlation_id", cid)
    return event


def configure_logging(*, service: str, version: str, level: str = "INFO") -> None:
    """Send structlog's and the standard library's logs to stdout as JSON lines."""

    def add_service(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
        event.setdefault("service", service)
        event.setdefault("version", version)
        return event

    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_service,
        _add_ids,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
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
