"""order as the integration tests run it: its real app, with the test's edges and token issuer."""

from __future__ import annotations

from paved import Service
from paved.testing import TestTokens

from order.app import create_service
from order.settings import OrderSettings

from .edges import Edges


def order_service(settings: OrderSettings, edges: Edges, tokens: TestTokens) -> Service:
    """order with its real database and broker, and the catalog and customer service at the outgoing edge."""
    service = create_service(settings, catalog_transport=edges.catalog, customer_transport=edges.customer)
    tokens.install(service.app)
    return service
