from __future__ import annotations

import re

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paved.testing import TestTokens

from notification.api import MAX_CURSOR
from notification.contract import MESSAGE_ID_PATTERN
from notification.partners import CUSTOMER_ID_PATTERN

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
STATUSES = {"queued", "sent", "failed"}


def not_an_integer_in(low: int, high: int) -> st.SearchStrategy[str]:
    """Text that is no integer from ``low`` to ``high``: out of range, a fraction, or words."""
    return (
        st.integers(max_value=low - 1).map(str)
        | st.integers(min_value=high + 1).map(str)
        | st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()).map(repr)
        | st.from_regex(r"[A-Za-z][A-Za-z0-9 .,_-]{0,12}", fullmatch=True)
    )


not_a_status = st.text(max_size=20).filter(lambda s: s not in STATUSES)
not_a_customer_id = st.text(max_size=120).filter(lambda s: not re.fullmatch(CUSTOMER_ID_PATTERN, s))

# (path, parameter, its field in a problem, values it must refuse, token scope)
CASES = [
    ("/me/messages", "limit", "query.limit", not_an_integer_in(1, 100), "customer"),
    ("/me/messages", "after", "query.after", not_an_integer_in(1, MAX_CURSOR), "customer"),
    ("/messages", "limit", "query.limit", not_an_integer_in(1, 100), "admin"),
    ("/messages", "after", "query.after", not_an_integer_in(1, MAX_CURSOR), "admin"),
    ("/messages", "status", "query.status", not_a_status, "admin"),
    ("/messages", "recipient", "query.recipient", not_a_customer_id, "admin"),
    ("/admin/outbox", "limit", "query.limit", not_an_integer_in(1, 500), "admin"),
    ("/admin/outbox", "status", "query.status", not_a_status, "admin"),
]


@SETTINGS
@given(case=st.sampled_from(CASES), data=st.data())
async def test_a_malformed_query_parameter_is_a_422_naming_it(
    client: httpx.AsyncClient,
    tokens: TestTokens,
    case: tuple[str, str, str, st.SearchStrategy[str], str],
    data: st.DataObject,
) -> None:
    """Whatever malformed value arrives in a query parameter, the answer is a 422 problem naming that parameter."""
    path, parameter, field, values, scope = case
    value = data.draw(values)
    response = await client.get(path, params={parameter: value}, headers=tokens.bearer("acc_ann", scope))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == [field]


# Any printable path segment, with what would end or escape it left out: httpx would read those as URL syntax
# (and it refuses control characters in a URL before anything is sent).
segments = st.text(
    alphabet=st.characters(
        min_codepoint=33, max_codepoint=0x2FFF, exclude_categories=("Cc", "Cs"), exclude_characters="/?#%\\"
    ),
    min_size=1,
    max_size=80,
).filter(lambda s: s not in {".", ".."} and not re.fullmatch(MESSAGE_ID_PATTERN, s))


@SETTINGS
@given(message_id=segments)
async def test_a_malformed_message_id_is_a_422_naming_it(
    client: httpx.AsyncClient, admin: dict[str, str], message_id: str
) -> None:
    """Any id that is not a message id is refused as path.message_id, before the store is asked."""
    response = await client.get(f"/messages/{message_id}", headers=admin)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["path.message_id"]


anything = st.none() | st.text(max_size=30) | st.integers().map(str)


@SETTINGS
@given(limit=anything, after=anything, status=anything, recipient=anything)
async def test_no_query_makes_the_service_fail(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    limit: str | None,
    after: str | None,
    status: str | None,
    recipient: str | None,
) -> None:
    """Whatever the query holds, the admins' listing answers a page or a 422 naming only the parameters it got."""
    given_params = {"limit": limit, "after": after, "status": status, "recipient": recipient}
    params = {name: value for name, value in given_params.items() if value is not None}
    response = await client.get("/messages", params=params, headers=admin)
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert {e["field"] for e in response.json()["errors"]} <= {f"query.{name}" for name in params}
