"""paved: the paved road for Python microservices.

A thin layer over FastAPI, FastStream (NATS JetStream) and SQLAlchemy: one ``Service`` gives a
service its HTTP app, broker, database and settings, with health, metrics, JSON logs, problem
responses, and the seams every request, outbound call and message passes through.
"""

from paved.auth import CurrentPrincipal, install_token_verifier, require_scopes
from paved.client import ClientCredentials, service_client
from paved.database import Database
from paved.envelope import Envelope
from paved.problems import Problem
from paved.service import CurrentDatabase, CurrentOutbox, Service
from paved.settings import ServiceSettings
from paved.tokens import JwksUrl, Principal, TokenVerifier

__all__ = [
    "ClientCredentials",
    "CurrentDatabase",
    "CurrentOutbox",
    "CurrentPrincipal",
    "Database",
    "Envelope",
    "JwksUrl",
    "Principal",
    "Problem",
    "Service",
    "ServiceSettings",
    "TokenVerifier",
    "install_token_verifier",
    "require_scopes",
    "service_client",
]
