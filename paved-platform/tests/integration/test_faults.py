"""The fault proxy: a real Envoy in front of a real HTTP server, its faults changed while it runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from paved_platform.faults import Fault, FaultProxy, FaultProxyError, running_fault_proxy

pytestmark = pytest.mark.envoy


@dataclass
class Target:
    """A tiny HTTP server that answers 200 to every GET and counts the requests that reached it."""

    url: str
    hits: list[str] = field(default_factory=list)


@pytest.fixture
def target() -> Iterator[Target]:
    """A target on a free loopback port, in a thread of the test's own."""
    found = Target(url="")

    class Answer(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else headers and body wait out a delayed ACK: 40 ms a call

        def do_GET(self) -> None:
            found.hits.append(self.path)
            body = b"from the target"
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    found.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(target: Target) -> Iterator[FaultProxy]:
    """Envoy in front of the target twice over: as ``catalog`` and as ``web-bff``."""
    with running_fault_proxy({"catalog": target.url, "web-bff": target.url}) as started:
        yield started


def test_without_faults_every_call_goes_through_to_the_target(proxy: FaultProxy, target: Target) -> None:
    """A call to the listener is answered by the target, and Envoy counts it at both ends."""
    answer = httpx.get(f"{proxy.url('catalog')}/albums?page=2")
    assert (answer.status_code, answer.text) == (200, "from the target")
    assert target.hits == ["/albums?page=2"]
    assert (proxy.downstream_requests("catalog"), proxy.upstream_requests("catalog")) == (1, 1)
    assert proxy.faults() == {"catalog": Fault(), "web-bff": Fault()}


def test_an_abort_at_half_fails_about_half_the_calls_and_spares_the_target(proxy: FaultProxy, target: Target) -> None:
    """503 for 50 %: of 200 calls roughly half fail; only the others reach the target; the other upstream is spared."""
    proxy.abort("catalog", 503, percent=50)
    with httpx.Client() as http:
        statuses = [http.get(proxy.url("catalog")).status_code for _ in range(200)]
        spared = http.get(proxy.url("web-bff")).status_code
    failed = statuses.count(503)
    assert set(statuses) == {200, 503}
    assert 60 <= failed <= 140  # 50 % of 200, within about six standard deviations
    assert proxy.downstream_requests("catalog") == 200
    assert proxy.upstream_requests("catalog") == statuses.count(200) == len(target.hits) - 1
    assert spared == 200


def test_an_abort_answers_with_the_status_asked_for(proxy: FaultProxy, target: Target) -> None:
    """418 for every call: the caller gets Envoy's 418 and the target sees nothing."""
    proxy.abort("web-bff", 418)
    assert httpx.get(proxy.url("web-bff")).status_code == 418
    assert target.hits == []
    assert proxy.upstream_requests("web-bff") == 0


def test_a_delay_holds_the_call_and_clear_takes_it_away(proxy: FaultProxy) -> None:
    """0.5 s for every call: a call takes at least that; after clear() the faults read back as none."""
    proxy.delay("catalog", 0.5)
    started = time.monotonic()
    answer = httpx.get(proxy.url("catalog"), timeout=10)
    assert answer.status_code == 200 and time.monotonic() - started >= 0.5
    proxy.clear("catalog")
    assert proxy.faults()["catalog"] == Fault()
    assert httpx.get(proxy.url("catalog")).status_code == 200


def test_faults_are_read_back_from_envoy_by_another_attached_proxy(proxy: FaultProxy) -> None:
    """What one handle sets, a handle attached by admin URL alone reads back from Envoy, and can clear."""
    proxy.delay("catalog", 1.25, percent=30)
    proxy.abort("catalog", 502, percent=10)
    other = FaultProxy.attach(proxy.admin_url)
    assert other.names == ["catalog", "web-bff"]
    assert other.url("web-bff") == proxy.url("web-bff")
    assert other.faults()["catalog"] == Fault(delay_seconds=1.25, delay_percent=30, abort_status=502, abort_percent=10)
    assert str(other.faults()["catalog"]) == "delay 1.25s for 30%, abort with 502 for 10%"
    assert other.faults()["catalog"].active and not other.faults()["web-bff"].active
    other.clear_all()
    assert proxy.faults() == {"catalog": Fault(), "web-bff": Fault()}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.delay("orders", 1), "no upstream 'orders'"),
        (lambda p: p.abort("catalog", percent=101), "from 0 to 100"),
        (lambda p: p.abort("catalog", percent=-1), "from 0 to 100"),
        (lambda p: p.delay("catalog", -0.5), "cannot be negative"),
        (lambda p: p.abort("catalog", 600), "from 200 to 599"),
        (lambda p: p.url("nope"), "it has: catalog, web-bff"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(proxy: FaultProxy, change: object, message: str) -> None:
    """An unknown upstream, a share outside 0..100, a negative delay or an impossible status is a ValueError."""
    assert callable(change)
    with pytest.raises(ValueError, match=message):
        change(proxy)
    assert proxy.faults()["catalog"] == Fault()


def test_routes_that_envoy_could_not_serve_are_refused_before_it_starts() -> None:
    """A target that is not http://HOST:PORT, or a name Envoy's stats could not carry, is a ValueError."""
    with pytest.raises(ValueError, match="http://HOST:PORT"), running_fault_proxy({"catalog": "https://x:1"}):
        pass
    with pytest.raises(ValueError, match="not admin"), running_fault_proxy({"admin": "http://127.0.0.1:1"}):
        pass


def test_a_stopped_proxy_is_reported_not_guessed(target: Target) -> None:
    """After Envoy stops, an attached handle says its admin interface does not answer."""
    with running_fault_proxy({"catalog": target.url}) as started:
        admin_url = started.admin_url
    with pytest.raises(FaultProxyError, match=admin_url):
        FaultProxy.attach(admin_url)
