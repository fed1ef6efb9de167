"""The storefront's page: an HTML shell and its script, which calls the BFF's JSON API with ``fetch``.

The page keeps the basket (in the browser's storage) and the tokens (for the tab's session); the BFF
keeps nothing. Its script and styles are files of their own, never inline, so the page's Content
Security Policy can refuse every script that is not one of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import Response
from paved import callers

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
ASSETS = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/storefront.js": ("storefront.js", "text/javascript; charset=utf-8"),
    "/storefront.css": ("storefront.css", "text/css; charset=utf-8"),
}


def _serving(body: bytes, media_type: str) -> Callable[[], Awaitable[Response]]:
    async def serve() -> Response:
        return Response(body, media_type=media_type, headers=SECURITY_HEADERS)

    return serve


def router() -> APIRouter:
    """Routes serving the page's files, read once, when the service is built."""
    static = files("web_bff") / "static"
    # The storefront's own page, for every browser.
    serving = APIRouter(include_in_schema=False, dependencies=[callers(public=True)])
    for path, (name, media_type) in ASSETS.items():
        serving.add_api_route(path, _serving((static / name).read_bytes(), media_type), methods=["GET"])
    return serving
