"""Workload identity on one machine: a local certificate authority and short-lived certificates for every
process, each naming its workload with a SPIFFE ID (``spiffe://musiccorp.local/service/order``).

``paved up`` makes the authority once per state folder and gives every service (and Envoy, and the operator's
tools) a certificate, renewed at two thirds of its life into the same files; the processes reload them
(``paved._tls``) with no restart. Production gets the same three files from a Kubernetes secret or
cert-manager (docs/zero-trust.md).

Files are written whole under a temporary name and renamed into place, the key before the certificate, so a
reader sees the old pair or the new one; keys are readable by their owner only.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TRUST_DOMAIN = "musiccorp.local"
CA_LIFETIME = dt.timedelta(days=365)
# Every certificate starts a little in the past: clocks of two processes on one machine agree, but a
# certificate valid only from "now" fails on a peer whose clock is a millisecond behind.
BACKDATE = dt.timedelta(minutes=1)


def spiffe_id(kind: str, name: str, *, trust_domain: str = TRUST_DOMAIN) -> str:
    """A workload's SPIFFE ID: ``spiffe://musiccorp.local/service/order``, ``.../platform/envoy``."""
    return f"spiffe://{trust_domain}/{kind}/{name}"


def _write(path: Path, data: bytes, *, secret: bool) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    os.replace(temporary, path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass(frozen=True)
class WorkloadFiles:
    """Where one workload's certificate, key and the authority it trusts are."""

    directory: Path

    @property
    def cert_file(self) -> Path:
        return self.directory / "cert.pem"

    @property
    def key_file(self) -> Path:
        return self.directory / "key.pem"

    @property
    def ca_file(self) -> Path:
        return self.directory / "ca.pem"

    def not_after(self) -> dt.datetime:
        """When the certificate in the files expires."""
        return x509.load_pem_x509_certificate(self.cert_file.read_bytes()).not_valid_after_utc


class CertificateAuthority:
    """The local authority: an ECDSA P-256 key and a self-signed certificate, kept in ``directory``."""

    def __init__(self, directory: Path, *, trust_domain: str = TRUST_DOMAIN) -> None:
        self.directory = directory
        self.trust_domain = trust_domain
        key_file, cert_file = directory / "ca-key.pem", directory / "ca.pem"
        if key_file.exists() and cert_file.exists():
            self._key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
            self.certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
            if self.certificate.not_valid_after_utc - dt.datetime.now(dt.UTC) > dt.timedelta(days=1):
                return
        self._key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{trust_domain} local authority")])
        now = dt.datetime.now(dt.UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + CA_LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o700)
        assert isinstance(self._key, ec.EllipticCurvePrivateKey)
        _write(key_file, _key_pem(self._key), secret=True)
        _write(cert_file, self.pem, secret=False)

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def issue(
        self,
        workload: str,
        files: WorkloadFiles,
        *,
        lifetime: dt.timedelta,
        hosts: tuple[str, ...] = ("localhost", "127.0.0.1"),
    ) -> WorkloadFiles:
        """A new key and certificate for ``workload`` (its SPIFFE ID) in ``files``, valid for ``lifetime``:
        for servers (the hosts it answers at) and clients alike."""
        key = ec.generate_private_key(ec.SECP256R1())
        names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(workload)]
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        now = dt.datetime.now(dt.UTC)
        signing_key = self._key
        assert isinstance(signing_key, ec.EllipticCurvePrivateKey)
        certificate = (
            x509.CertificateBuilder()
            # SPIFFE puts the identity in the URI SAN only; the subject just helps a person reading it.
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, workload.rsplit("/", 1)[-1])]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + lifetime)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False)
            .sign(signing_key, hashes.SHA256())
        )
        files.directory.mkdir(parents=True, exist_ok=True)
        files.directory.chmod(0o700)
        _write(files.ca_file, self.pem, secret=False)
        _write(files.key_file, _key_pem(key), secret=True)
        _write(files.cert_file, certificate.public_bytes(serialization.Encoding.PEM), secret=False)
        return files
