"""Errors as RFC 9457 problem responses (``application/problem+json``), mapped in one place."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

PROBLEM_JSON = "application/problem+json"

log = structlog.get_logger(logger_name="paved.problems")


class Problem(Exception):
    """An error that becomes a problem response: raise it from an endpoint or map to it."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        type: str = "about:blank",  # noqa: A002 - the RFC's member name
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type
        self.headers = headers or {}
        self.extensions = extensions

    def response(self, request: Request) -> JSONResponse:
        body: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "instance": request.url.path,
        }
        if self.detail:
            body["detail"] = self.detail
        body.update(self.extensions)
        return JSONResponse(body, status_code=self.status, media_type=PROBLEM_JSON, headers=self.headers)


def _field_path(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location) or "body"


def _validation_problem(errors: list[dict[str, Any]]) -> Problem:
    fields = [{"field": _field_path(tuple(e.get("loc", ()))), "message": e.get("msg", "is not valid")} for e in errors]
    detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    return Problem(422, "Request is not valid", detail, errors=fields)


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return exc.response(request)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return _validation_problem(list(exc.errors())).response(request)


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    title = HTTPStatus(exc.status_code).phrase
    detail = exc.detail if exc.detail != title else None
    response = Problem(exc.status_code, title, detail).response(request)
    response.headers.update(exc.headers or {})
    return response


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error", exc_info=exc, path=request.url.path)
    return Problem(
        500,
        "Internal Server Error",
        "The service failed unexpectedly; its logs have the details under this request id.",
        request_id=request.scope.get("paved.request_id"),
    ).response(request)


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error ``app`` raises a problem response, unexpected ones included."""
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(HTTPException, _on_http)
    app.add_exception_handler(Exception, _on_unexpected)


def map_error(app: FastAPI, error_type: type[Exception], *, status: int, title: str) -> None:
    """Answer ``error_type`` (a domain error) with a problem of ``status``; its message is the detail."""

    async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
        return Problem(status, title, str(exc) or None).response(request)

    app.add_exception_handler(error_type, on_domain_error)
