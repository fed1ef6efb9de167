from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from notification.domain import Email, EmailStatus, NoticeKind
from notification.pages import HEADERS, render_outbox

AT = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def email(**changes: Any) -> Email:
    fields: dict[str, Any] = {
        "id": "msg_1",
        "recipient": "acc_ann",
        "kind": NoticeKind.ORDER_PLACED,
        "subject": "We have your order ord-1",
        "body": "Hello,\n\nThank you.",
        "event_id": "evt-1",
        "order_id": "ord-1",
        "created_at": AT,
        "next_attempt_at": AT,
    }
    return Email(**{**fields, **changes})


class Tags(HTMLParser):
    """The start tags of a document, to tell markup from text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text += data


def parse(page: str) -> Tags:
    tags = Tags()
    tags.feed(page)
    return tags


def test_the_page_lists_each_email_with_its_status() -> None:
    """Each email is a row with when, to whom, its subject and status; the body is one click away."""
    page = render_outbox(
        [email(), email(id="msg_2", status=EmailStatus.FAILED, attempts=5, last_error="refused")], status=None
    )
    tags = parse(page)
    assert tags.tags.count("tr") == 3  # the header and two emails
    assert "2026-11-27 09:00:00 UTC" in tags.text and "acc_ann" in tags.text
    assert "We have your order ord-1" in tags.text and "refused" in tags.text
    assert '<span class="failed">failed</span>' in page


def test_an_empty_outbox_says_so() -> None:
    """No emails is a sentence, not an empty table."""
    assert "No messages." in parse(render_outbox([], status=EmailStatus.FAILED)).text


@given(text=st.text(max_size=60).map(lambda s: f"<script>alert(1)</script><img src=x onerror=alert(2)>{s}\"'&"))
def test_values_from_events_are_text_never_markup(text: str) -> None:
    """Whatever a subject, body, customer id or error holds, it shows as text and adds no element to the page."""
    page = render_outbox(
        [email(subject=text, body=text, recipient=text, last_error=text, status=EmailStatus.FAILED)], status=None
    )
    plain = render_outbox([email(status=EmailStatus.FAILED)], status=None)
    assert parse(page).tags == parse(plain).tags
    assert text in parse(page).text


def test_the_page_may_run_no_script() -> None:
    """The page's policy allows its own style and nothing else: no script, no frames around it."""
    policy = HEADERS["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy and "frame-ancestors 'none'" in policy
    assert HEADERS["Cache-Control"] == "no-store"
