"""identity's settings: paved's, plus its issuer, token lifetimes, seeded admin and service clients.

All from ``PAVED_*`` variables, read once at start-up, e.g.::

    PAVED_JWT_ISSUER=https://identity.musiccorp.example     # the iss of every token it signs
    PAVED_JWT_AUDIENCE=musiccorp                            # the aud of every token it signs
    PAVED_IDENTITY_ADMIN_EMAIL=ops@musiccorp.example
    PAVED_IDENTITY_ADMIN_PASSWORD=...                       # the admin's first password
    PAVED_TOKEN_CLIENTS='{"order": {"secret": "...", "scopes": ["catalog:read"]}}'
"""

from __future__ import annotations

from datetime import timedelta

from paved import ServiceSettings
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from identity.domain import MIN_PASSWORD_LENGTH, ServiceClient

# Development only: refused in every other environment.
DEVELOPMENT_ADMIN_PASSWORD = "development-admin-password"
DEVELOPMENT_AUDIENCE = "musiccorp"


class ClientSettings(BaseModel):
    """One service client: the secret it signs in with, and the scopes it may have."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    secret: SecretStr = Field(min_length=16)
    scopes: list[str] = Field(default_factory=list)


class IdentitySettings(ServiceSettings):
    """Everything identity is told at start-up."""

    identity_admin_email: str = "admin@musiccorp.example.com"
    identity_admin_password: SecretStr | None = None
    token_clients: dict[str, ClientSettings] = Field(default_factory=dict)
    identity_access_token_seconds: int = Field(default=600, ge=30, le=3600)
    identity_refresh_token_days: int = Field(default=14, ge=1, le=90)

    @model_validator(mode="after")
    def _refuse_development_defaults_elsewhere(self) -> IdentitySettings:
        if self.environment == "development":
            return self
        password = self.identity_admin_password
        if password is None or password.get_secret_value() == DEVELOPMENT_ADMIN_PASSWORD:
            raise ValueError(f"PAVED_IDENTITY_ADMIN_PASSWORD must be set when PAVED_ENVIRONMENT={self.environment}")
        if len(password.get_secret_value()) < MIN_PASSWORD_LENGTH:
            raise ValueError(f"PAVED_IDENTITY_ADMIN_PASSWORD needs at least {MIN_PASSWORD_LENGTH} characters")
        if self.jwt_issuer is None or self.jwt_audience is None:
            raise ValueError(
                f"PAVED_JWT_ISSUER and PAVED_JWT_AUDIENCE must be set when PAVED_ENVIRONMENT={self.environment}"
            )
        return self

    @property
    def issuer(self) -> str:
        """The ``iss`` of identity's tokens; in development, where it answers."""
        return self.jwt_issuer or f"http://{self.host}:{self.port}"

    @property
    def audience(self) -> str:
        """The ``aud`` of identity's tokens: the services that accept them."""
        return self.jwt_audience or DEVELOPMENT_AUDIENCE

    @property
    def admin_password(self) -> str:
        password = self.identity_admin_password
        return password.get_secret_value() if password is not None else DEVELOPMENT_ADMIN_PASSWORD

    @property
    def clients(self) -> dict[str, ServiceClient]:
        """The configured service clients, by id."""
        return {
            client_id: ServiceClient(
                id=client_id, secret=client.secret.get_secret_value(), scopes=frozenset(client.scopes)
            )
            for client_id, client in self.token_clients.items()
        }

    @property
    def access_token_lifetime(self) -> timedelta:
        return timedelta(seconds=self.identity_access_token_seconds)

    @property
    def refresh_token_lifetime(self) -> timedelta:
        return timedelta(days=self.identity_refresh_token_days)
