"""Mutual TLS: this process's workload certificate, for the server and for every client, reloaded in place.

A service gets three files (``PAVED_TLS_CERT_FILE``, ``PAVED_TLS_KEY_FILE``, ``PAVED_TLS_CA_FILE``): from
``paved up``'s local authority on one machine, from a Kubernetes secret or cert-manager in production. Both
contexts are made once and kept; when the files change (renewal), the new pair is checked in a scratch
context and then loaded into the live ones, so the next handshake presents it and connections already open
carry on: no restart, no failed request.

The server asks for a client certificate and verifies any it gets (an expired one, or one of another
authority, fails the handshake); one that presents none is still answered, so that health probes work and a
refused call gets a problem that says why (``paved._callers``), not a bare TLS alert.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import structlog
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = structlog.get_logger(logger_name="paved.tls")

# Where the verified client certificate's SPIFFE ID is, in the ASGI scope (the "tls" extension).
PEER = "paved.spiffe_id"


def spiffe_id_of(certificate: dict[str, Any] | None) -> str | None:
    """The SPIFFE ID (the one ``spiffe://`` URI SAN) of a verified peer certificate, as ``getpeercert()``
    gives it; None without a certificate, or without exactly one such ID."""
    if not certificate:
        return None
    ids = [
        value
        for kind, value in certificate.get("subjectAltName", ())
        if kind == "URI" and value.startswith("spiffe://")
    ]
    return ids[0] if len(ids) == 1 else None


@dataclass(frozen=True)
class _Stamp:
    """What changes when a file is replaced: a rename gives a new inode, a rewrite a new time or size."""

    inode: int
    mtime_ns: int
    size: int

    @classmethod
    def of(cls, path: Path) -> _Stamp:
        status = path.stat()  # follows symbolic links, as Kubernetes' secret volumes swap them
        return cls(status.st_ino, status.st_mtime_ns, status.st_size)


class WorkloadTls:
    """This process's certificate and the authority it trusts, as a server and a client context.

    Args:
        cert_file: the workload's certificate (PEM), whose URI SAN is its SPIFFE ID.
        key_file: its private key (PEM, readable by the owner only).
        ca_file: the authority that signs the workloads' certificates.
    """

    def __init__(self, cert_file: Path, key_file: Path, ca_file: Path) -> None:
        self.cert_file, self.key_file, self.ca_file = cert_file, key_file, ca_file
        self.server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.server.minimum_version = ssl.TLSVersion.TLSv1_2
        self.server.verify_mode = ssl.CERT_OPTIONAL
        self.server.load_verify_locations(cafile=ca_file)
        # The system's authorities too: a service also calls third parties that are not in the mesh.
        self.client = ssl.create_default_context()
        self.client.load_verify_locations(cafile=ca_file)
        self._stamp: tuple[_Stamp, _Stamp] | None = None
        self.reload()
        if self._stamp is None:
            raise ValueError(f"{cert_file} and {key_file} are not a certificate and its key")

    def reload(self) -> bool:
        """Load the files again if they changed; True if a new pair is in use. A pair that does not load
        (caught between the key's rename and the certificate's) keeps the one in use, and is tried again."""
        try:
            stamp = (_Stamp.of(self.cert_file), _Stamp.of(self.key_file))
            if stamp == self._stamp:
                return False
            ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_cert_chain(self.cert_file, self.key_file)
        except (OSError, ssl.SSLError) as exc:
            log.warning("workload certificate not (re)loaded", cert=str(self.cert_file), error=repr(exc))
            return False
        for context in (self.server, self.client):
            context.load_cert_chain(self.cert_file, self.key_file)
        first, self._stamp = self._stamp is None, stamp
        if not first:
            log.info("workload certificate renewed", cert=str(self.cert_file))
        return True

    async def watch(self, stopping: asyncio.Event, *, every: float = 1.0) -> None:
        """Reload whenever the files change, until ``stopping`` (a background task of the service)."""
        while True:
            try:
                await asyncio.wait_for(stopping.wait(), timeout=every)
                return
            except TimeoutError:
                self.reload()


class IdentifyingProtocol(HttpToolsProtocol):
    """uvicorn's HTTP protocol, which also puts the verified client certificate's SPIFFE ID in every request's
    scope (``scope["extensions"]["tls"]``, after ASGI's TLS extension), read once per connection."""

    _peer: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(cast("asyncio.Transport", transport))  # as asyncio gives it to uvicorn
        ssl_object = transport.get_extra_info("ssl_object")
        self._peer = spiffe_id_of(ssl_object.getpeercert()) if ssl_object is not None else None

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope["extensions"] = {"tls": {PEER: self._peer}}
