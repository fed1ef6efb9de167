"""Forged access tokens against every service of the running shop, each called as the workload that may call
it (so the token is what is checked): every one is a 401, at every service, and a real token still works."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from conftest import Customer, PavedUp, whole_shop

# service: (the workload that may call it, a route that needs a token). Admin routes are called as the operator.
PROTECTED = {
    "catalog": ("operator", "POST", "/albums"),
    "customer": ("web-bff", "GET", "/me/profile"),
    "identity": ("web-bff", "GET", "/me"),
    "loyalty": ("web-bff", "GET", "/me/points"),
    "notification": ("web-bff", "GET", "/me/messages"),
    "order": ("web-bff", "GET", "/orders"),
    "payment": ("web-bff", "GET", "/me/payments/ord-0"),
    "warehouse": ("operator", "GET", "/stock/ALB-00001/account"),
    "web-bff": ("browser", "GET", "/api/account"),
}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def es256(header: dict[str, object], claims: dict[str, object], key: ec.EllipticCurvePrivateKey) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PavedUp]:
    with whole_shop(tmp_path_factory.mktemp("tokens") / "state") as shop:
        yield shop


@pytest.fixture(scope="module")
def genuine(shop: PavedUp) -> dict[str, str]:
    """A real customer's access and refresh tokens, and identity's published key set."""
    with httpx.Client(base_url=f"{shop.url('web-bff')}/api", timeout=15) as bff:
        customer = Customer(bff, "genuine")
        email = f"refresh-{uuid.uuid4().hex[:8]}@example.com"
        assert bff.post("/register", json={"email": email, "password": "correct horse battery staple"}).is_success
        tokens = bff.post("/sign-in", json={"email": email, "password": "correct horse battery staple"}).json()
    with shop.client("identity", as_="web-bff") as identity:
        jwks = identity.get("/.well-known/jwks.json").json()
    return {
        "access": customer.headers["Authorization"].removeprefix("Bearer "),
        "refresh": tokens["refresh_token"],
        "jwks": json.dumps(jwks),
    }


def forgeries(genuine: dict[str, str]) -> dict[str, str]:
    header_text, claims_text, signature = genuine["access"].split(".")
    header, claims = json.loads(unb64(header_text)), json.loads(unb64(claims_text))
    now = int(time.time())
    mine = ec.generate_private_key(ec.SECP256R1())
    published = json.loads(genuine["jwks"])["keys"][0]

    def signed(kid: str | None = None, **changes: object) -> str:
        """Signed with a key of the attacker's, under identity's published key id unless ``kid`` says else."""
        return es256({**header, "kid": kid or header["kid"]}, {**claims, **changes}, mine)

    hs_input = f"{b64(json.dumps({**header, 'alg': 'HS256'}).encode())}.{claims_text}"
    public_key_as_secret = json.dumps(published, sort_keys=True).encode()
    return {
        "none": "",
        "garbage": "not.a.jwt",
        "alg none": f"{b64(json.dumps({**header, 'alg': 'none'}).encode())}.{claims_text}.",
        "HS256 with the public key": f"{hs_input}.{b64(hmac.new(public_key_as_secret, hs_input.encode(), hashlib.sha256).digest())}",
        "another key under identity's kid": signed(),
        "unknown kid": signed(kid="made-up"),
        "expired": signed(exp=now - 60, iat=now - 700),
        "not yet valid": signed(nbf=now + 3600),
        "wrong audience": signed(aud="elsewhere"),
        "wrong issuer": signed(iss="https://evil.example"),
        "a refresh token": genuine["refresh"],
        "tampered payload": f"{header_text}.{b64(json.dumps({**claims, 'sub': 'acc_someone_else', 'scope': 'admin'}).encode())}.{signature}",
    }


def caller(shop: PavedUp, service: str) -> Callable[[str], httpx.Response]:
    workload, method, path = PROTECTED[service]
    client = httpx.Client(timeout=15) if workload == "browser" else shop.client(service, as_=workload)
    base = shop.url(service)

    def call(token: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return client.request(method, f"{base}{path}", headers=headers, json={} if method == "POST" else None)

    return call


def test_every_forged_token_is_a_401_at_every_service(shop: PavedUp, genuine: dict[str, str]) -> None:
    tokens = forgeries(genuine)
    wrong = {}
    for service in PROTECTED:
        call = caller(shop, service)
        for name, token in tokens.items():
            answer = call(token)
            if answer.status_code != 401:
                wrong[(service, name)] = f"{answer.status_code}: {answer.text[:200]}"
    assert wrong == {}


def test_the_genuine_token_gets_past_the_check_where_a_customer_may_go(shop: PavedUp, genuine: dict[str, str]) -> None:
    """So the 401s above are the tokens' doing: the customer's own token is accepted (admin routes: 403)."""
    for service, (workload, _, _) in PROTECTED.items():
        answer = caller(shop, service)(genuine["access"])
        expected = {403} if workload == "operator" else {200, 404}
        assert answer.status_code in expected, (service, answer.status_code, answer.text[:200])
