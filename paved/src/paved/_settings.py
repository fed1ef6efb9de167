"""Typed settings of one service process, read once from the environment at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from paved._resilience import UpstreamPolicy

Environment = Literal["development", "test", "production"]


class ServiceSettings(BaseSettings):
    """Settings every paved service has; a service subclasses it to add its own.

    Values come from ``PAVED_*`` environment variables (``paved up`` sets them), e.g.
    ``PAVED_DATABASE_URL`` or ``PAVED_BROKER_URL``; a nested one with ``__``, e.g.
    ``PAVED_UPSTREAMS__CATALOG__TIMEOUT_SECONDS=2`` (or ``PAVED_UPSTREAMS='{"catalog": {...}}'``).
    """

    model_config = SettingsConfigDict(env_prefix="PAVED_", env_nested_delimiter="__", extra="ignore", frozen=True)

    environment: Environment = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = "sqlite+aiosqlite:///service.db"
    # The scheme chooses the broker: nats://… (JetStream, the default) or amqp://… (RabbitMQ).
    broker_url: str = "nats://127.0.0.1:4222"
    # Where the token issuer publishes its public keys (JWKS), and what the access tokens it signs must
    # carry as issuer (``iss``) and audience (``aud``); a service that verifies tokens sets all three.
    jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    # How this service signs in when it calls others (OAuth2 client credentials); `paved up` sets them
    # for services whose service.toml asks for client_scopes.
    token_url: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    # Mutual TLS (docs/zero-trust.md): this workload's certificate and key, and the authority it trusts; all
    # three or none. With them the service serves HTTPS, asks every caller for its certificate, checks each
    # route's allow-list (``paved.callers``), and presents its own on every call.
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    tls_ca_file: Path | None = None
    # The SPIFFE IDs of mesh proxies (``paved up``'s Envoy) whose X-Forwarded-Client-Cert names the caller.
    tls_trusted_proxies: frozenset[str] = frozenset()
    trust_domain: str = "musiccorp.local"
    # Serve HTTPS with the certificate (else only present it on calls): off for the edge behind an ingress.
    tls_serve: bool = True
    log_level: str = "INFO"
    # How long in-flight requests and message handlers get to finish on SIGTERM.
    shutdown_grace_seconds: float = 10.0
    # The budget of a request whose caller gave none (docs/resilience.md); a caller's shorter one wins.
    request_deadline_seconds: float = Field(default=10.0, gt=0)
    # Load shedding: requests served at once, and how long one may wait for a turn before a 503.
    max_in_flight: int = Field(default=64, ge=1)
    queue_seconds: float = Field(default=0.1, ge=0)
    # How this service calls each upstream, by the name its client gives (``Service.client``); an
    # upstream not named here gets the defaults.
    upstreams: dict[str, UpstreamPolicy] = {}

    @model_validator(mode="after")
    def _refuse_a_key_set_without_issuer_and_audience(self) -> ServiceSettings:
        # Without both, any token the issuer ever signed for anyone would be accepted here.
        if self.jwks_url is not None and (self.jwt_issuer is None or self.jwt_audience is None):
            raise ValueError("PAVED_JWKS_URL needs PAVED_JWT_ISSUER and PAVED_JWT_AUDIENCE set too")
        return self

    @model_validator(mode="after")
    def _refuse_half_a_workload_identity(self) -> ServiceSettings:
        given = [f is not None for f in (self.tls_cert_file, self.tls_key_file, self.tls_ca_file)]
        if any(given) and not all(given):
            raise ValueError("PAVED_TLS_CERT_FILE, PAVED_TLS_KEY_FILE and PAVED_TLS_CA_FILE go together: set all three")
        return self
