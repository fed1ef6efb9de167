"""paved: the paved road for Python microservices.

A thin layer over FastAPI, NATS JetStream (or RabbitMQ) and SQLAlchemy: one ``Service`` gives a
service its HTTP app, and the database, broker and background work it opts into, with health,
metrics, JSON logs, problem responses, and the seams every request, outbound call and message
passes through.
"""

from paved.auth import CurrentPrincipal, install_token_verifier, require_scopes
from paved.background import poller
from paved.client import ClientCredentials, service_client
from paved.database import Database
from paved.envelope import Asker, Envelope
from paved.problems import Problem
from paved.registry import Provided
from paved.service import CurrentDatabase, CurrentOutbox, Service
from paved.settings import ServiceSettings
from paved.times import Clock, UtcDateTime, utc_now
from paved.tokens import JwksUrl, Principal, TokenVerifier

__all__ = [
    "Asker",
    "ClientCredentials",
    "Clock",
    "CurrentDatabase",
    "CurrentOutbox",
    "CurrentPrincipal",
    "Database",
    "Envelope",
    "JwksUrl",
    "Principal",
    "Problem",
    "Provided",
    "Service",
    "ServiceSettings",
    "TokenVerifier",
    "UtcDateTime",
    "install_token_verifier",
    "poller",
    "require_scopes",
    "service_client",
    "utc_now",
]
