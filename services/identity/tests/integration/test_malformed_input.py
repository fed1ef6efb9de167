from __future__ import annotations

import base64

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

OAUTH_ERRORS = {
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)
sign_up_like = st.fixed_dictionaries(
    {},
    optional={
        "email": json_values | st.emails(),
        "password": json_values | st.text(min_size=10, max_size=300),
        "role": json_values,
    },
)
form_values = st.text(max_size=40) | st.sampled_from(["password", "client_credentials", "refresh_token", "order"])
# What may follow "Basic ": anything a header can carry, or well-formed Base64 of any "id:secret".
printable = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30)
basic_credentials = printable | st.builds(
    lambda id_, secret: base64.b64encode(f"{id_}:{secret}".encode()).decode(),
    st.sampled_from(["order", "payment"]) | st.text(max_size=10),
    st.text(max_size=30),
)
token_form = st.dictionaries(
    st.sampled_from(["grant_type", "username", "password", "refresh_token", "scope", "client_id", "client_secret"])
    | st.text(max_size=10),
    form_values,
    max_size=6,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=sign_up_like | json_values)
async def test_no_sign_up_makes_identity_fail(client: httpx.AsyncClient, body: object) -> None:
    """Whatever JSON arrives at sign-up, the answer is a success or a 4xx problem naming a field, never a 5xx."""
    response = await client.post("/accounts", json=body)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        if response.status_code == 422:
            assert all(error["field"] for error in response.json()["errors"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(form=token_form, basic=st.none() | basic_credentials)
async def test_no_token_request_makes_identity_fail(
    client: httpx.AsyncClient, form: dict[str, str], basic: str | None
) -> None:
    """Whatever form and Authorization header arrive, the token endpoint answers a token or an RFC 6749 error."""
    headers = {"Authorization": f"Basic {basic}"} if basic is not None else {}
    response = await client.post("/oauth/token", data=form, headers=headers)
    assert response.status_code in (200, 400, 401), response.text
    if response.status_code != 200:
        assert response.json()["error"] in OAUTH_ERRORS
