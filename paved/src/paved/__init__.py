"""paved: the paved road for Python microservices.

A thin layer over FastAPI, NATS JetStream (or RabbitMQ) and SQLAlchemy: one ``Service`` gives a
service its HTTP app, and the database, broker and background work it opts into, with health,
metrics, JSON logs, problem responses, and the seams every request, outbound call and message
passes through.
"""

from paved._auth import CurrentPrincipal, install_token_verifier, require_scopes
from paved._background import Run, poller
from paved._callers import callers
from paved._client import ClientCredentials, ForwardedToken, TokenUnavailableError, service_client
from paved._context import new_id
from paved._database import Database
from paved._envelope import Asker, Envelope
from paved._middleware import route_deadline
from paved._problems import Problem
from paved._registry import Provided
from paved._resilience import BreakerPolicy, BulkheadPolicy, DeadlineExceeded, RetryPolicy, UpstreamPolicy
from paved._service import CurrentDatabase, CurrentOutbox, Service
from paved._settings import ServiceSettings
from paved._times import Clock, UtcDateTime, utc_now
from paved._tokens import JwksUrl, KeysUnavailableError, Principal, TokenRejectedError, TokenVerifier

__all__ = [
    "Asker",
    "BreakerPolicy",
    "BulkheadPolicy",
    "ClientCredentials",
    "Clock",
    "CurrentDatabase",
    "CurrentOutbox",
    "CurrentPrincipal",
    "Database",
    "DeadlineExceeded",
    "Envelope",
    "ForwardedToken",
    "JwksUrl",
    "KeysUnavailableError",
    "Principal",
    "Problem",
    "Provided",
    "RetryPolicy",
    "Run",
    "Service",
    "ServiceSettings",
    "TokenRejectedError",
    "TokenUnavailableError",
    "TokenVerifier",
    "UpstreamPolicy",
    "UtcDateTime",
    "callers",
    "install_token_verifier",
    "new_id",
    "poller",
    "require_scopes",
    "route_deadline",
    "service_client",
    "utc_now",
]
