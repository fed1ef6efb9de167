"""What `paved up` tells each service about the others, before starting any."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography import x509
from paved.manifest import discover
from rich.console import Console

from paved_platform.state import StateDir
from paved_platform.up import Platform


def write(root: Path, name: str, port: int, extra: str = "") -> None:
    folder = root / "services" / name
    folder.mkdir(parents=True)
    (folder / "service.toml").write_text(f'name = "{name}"\napp = "{name}.app:create_service"\nport = {port}\n{extra}')


def prepared(tmp_path: Path) -> dict[str, dict[str, str]]:
    write(tmp_path, "identity", 8102, 'token_audience = "shop"\n')
    write(tmp_path, "order", 8104, 'client_scopes = ["customers:read"]\n')
    write(tmp_path, "customer", 8103)
    platform = Platform(
        manifests=discover(tmp_path),
        state=StateDir(tmp_path / ".paved"),
        console=Console(quiet=True),
        free_ports=True,
    )
    platform._preflight()
    platform._issue_certificates()
    return {service.name: service.env for service in platform.services}


def test_every_service_learns_the_others_urls_and_the_token_issuer(
    tmp_path: Path,
) -> None:
    """PAVED_<NAME>_URL for each service, and the issuer's JWKS, issuer and audience, go to all of them."""
    env = prepared(tmp_path)
    identity = env["identity"]["PAVED_IDENTITY_URL"]
    for service in env.values():
        assert service["PAVED_ORDER_URL"] in (env["customer"]["PAVED_ORDER_URL"], env["order"]["PAVED_ORDER_URL"])
        assert service["PAVED_JWKS_URL"].endswith("/.well-known/jwks.json")
        assert (service["PAVED_JWT_ISSUER"], service["PAVED_JWT_AUDIENCE"]) == (
            identity,
            "shop",
        )


def test_services_call_each_other_through_the_fault_proxy_and_themselves_directly(
    tmp_path: Path,
) -> None:
    """Another service's URL is its listener on the proxy; a service's own URL, and the token issuer's name, are not."""
    env = prepared(tmp_path)
    own = {name: f"https://127.0.0.1:{e['PAVED_PORT']}" for name, e in env.items()}
    for name, service in env.items():
        for other in env:
            url = service[f"PAVED_{other.upper()}_URL"]
            assert (url == own[other]) is (other == name), (name, other, url)
        assert service["PAVED_JWT_ISSUER"] == own["identity"]
    assert env["order"]["PAVED_TOKEN_URL"] == f"{env['order']['PAVED_IDENTITY_URL']}/oauth/token"
    assert env["identity"]["PAVED_TOKEN_URL"] == f"{own['identity']}/oauth/token"


def test_a_service_with_client_scopes_gets_credentials_the_issuer_knows(
    tmp_path: Path,
) -> None:
    """The client's id and secret reach the client, and the same secret and scopes reach the issuer; others get none."""
    env = prepared(tmp_path)
    clients = json.loads(env["identity"]["PAVED_TOKEN_CLIENTS"])
    assert clients == {
        "order": {
            "secret": env["order"]["PAVED_CLIENT_SECRET"],
            "scopes": ["customers:read"],
        }
    }
    assert env["order"]["PAVED_CLIENT_ID"] == "order"
    assert len(env["order"]["PAVED_CLIENT_SECRET"]) >= 32
    assert "PAVED_CLIENT_SECRET" not in env["customer"]
    assert prepared_again_keeps(tmp_path, env["order"]["PAVED_CLIENT_SECRET"])


def prepared_again_keeps(tmp_path: Path, secret: str) -> bool:
    """A second run of the same state keeps the secret (so a restarted identity still knows it)."""
    platform = Platform(
        manifests=discover(tmp_path),
        state=StateDir(tmp_path / ".paved"),
        console=Console(quiet=True),
        free_ports=True,
    )
    platform._preflight()
    return next(s for s in platform.services if s.name == "order").env["PAVED_CLIENT_SECRET"] == secret


def test_every_service_gets_its_own_workload_certificate_and_trusts_envoy_to_forward_callers(tmp_path: Path) -> None:
    """Each service's PAVED_TLS_* name files of its own, whose certificate names it; keys only its owner reads."""
    env = prepared(tmp_path)
    for name, service in env.items():
        cert, key = Path(service["PAVED_TLS_CERT_FILE"]), Path(service["PAVED_TLS_KEY_FILE"])
        assert cert.parent.name == name and key.parent == cert.parent
        assert json.loads(service["PAVED_TLS_TRUSTED_PROXIES"]) == ["spiffe://musiccorp.local/platform/envoy"]
        assert f"spiffe://musiccorp.local/service/{name}".encode() in _sans(cert)
        assert key.stat().st_mode & 0o077 == 0 and key.parent.stat().st_mode & 0o077 == 0


def _sans(cert: Path) -> bytes:
    loaded = x509.load_pem_x509_certificate(cert.read_bytes())
    names = loaded.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return " ".join(names.get_values_for_type(x509.UniformResourceIdentifier)).encode()
