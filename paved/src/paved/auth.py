"""Who may call admin-only endpoints.

Until the identity service issues JWTs, admin calls carry the service's admin bearer token
(``PAVED_ADMIN_TOKEN``; ``paved up`` generates one under ``.paved/secrets/``).
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from paved.problems import Problem

_CHALLENGE = {"WWW-Authenticate": "Bearer"}
_bearer = HTTPBearer(auto_error=False, description="The admin bearer token")


async def require_admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Refuse the request unless it carries the admin token."""
    expected = request.app.state.paved.settings.admin_token
    if expected is None:
        raise Problem(
            401,
            "Unauthorized",
            "this service has no admin token configured (PAVED_ADMIN_TOKEN)",
            headers=_CHALLENGE,
        )
    if credentials is None:
        raise Problem(
            401,
            "Unauthorized",
            "admin endpoint: send 'Authorization: Bearer <admin token>'",
            headers=_CHALLENGE,
        )
    if not hmac.compare_digest(credentials.credentials.encode(), expected.get_secret_value().encode()):
        raise Problem(403, "Forbidden", "the bearer token is not the admin token")


AdminOnly = Depends(require_admin)
