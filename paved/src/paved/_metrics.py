"""Prometheus metrics of one service, in a registry of its own (so tests can run several)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response


class UpstreamMetrics:
    """What the outbound calls to each upstream met: attempts, retries, the budget, breakers, refusals."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.calls = Counter(
            "upstream_calls", "Calls to an upstream (retries not counted).", ["upstream"], registry=registry
        )
        self.attempts = Counter(
            "upstream_attempts",
            "Attempts that reached the network, by outcome (2xx..5xx, timeout, error).",
            ["upstream", "outcome"],
            registry=registry,
        )
        self.retries = Counter("upstream_retries", "Attempts that were retries.", ["upstream"], registry=registry)
        self.budget_exhausted = Counter(
            "upstream_retry_budget_exhausted",
            "Retries not made because the upstream's retry budget was spent.",
            ["upstream"],
            registry=registry,
        )
        self.rejected = Counter(
            "upstream_rejected",
            "Calls answered without the network: circuit_open, bulkhead_full, no_time_left.",
            ["upstream", "reason"],
            registry=registry,
        )
        self.circuit_state = Gauge(
            "circuit_state",
            "The circuit breaker of an upstream instance: 0 closed, 1 half-open, 2 open.",
            ["upstream", "instance"],
            registry=registry,
        )


class ServiceMetrics:
    """The metrics paved records for every service: HTTP traffic, outbound calls, shedding, consumers, build."""

    def __init__(self, *, service: str, version: str) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests",
            "HTTP requests answered, by route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.in_flight = Gauge("http_in_flight", "HTTP requests being answered now.", registry=self.registry)
        self.shed = Counter(
            "http_shed",
            "Requests answered at once without being served: over_capacity (503), no_time_left (504).",
            ["reason"],
            registry=self.registry,
        )
        self.upstreams = UpstreamMetrics(self.registry)
        self.messages_expired = Counter(
            "messages_expired",
            "Commands not carried out because their deadline had passed when they arrived.",
            ["consumer"],
            registry=self.registry,
        )
        Gauge("service_info", "The running service.", ["service", "version"], registry=self.registry).labels(
            service, version
        ).set(1)

    def observe(self, *, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    async def endpoint(self, _: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)
