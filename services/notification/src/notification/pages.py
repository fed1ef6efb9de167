"""The admins' outbox page (``GET /admin/outbox``): the latest emails as a server-rendered HTML table,
every value escaped.

What the page shows comes from other services (titles, reasons, customer ids), so every value goes
through ``html.escape`` and the page allows no script at all (Content-Security-Policy), so that nothing
that slips through could run in an admin's browser.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from datetime import datetime
from html import escape

from notification.domain import Email, EmailStatus

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse;width:100%}"
    "th,td{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}"
    "pre{white-space:pre-wrap;margin:0}.failed{color:#a00}.queued{color:#a60}"
)
# The one inline style this page has is allowed by its hash; nothing else may load or run.
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
HEADERS = {
    "Content-Security-Policy": f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",  # customers' messages: no copy left in a cache
    "Referrer-Policy": "no-referrer",
}


def _when(at: datetime | None) -> str:
    return "" if at is None else at.strftime("%Y-%m-%d %H:%M:%S UTC")


def _row(email: Email) -> str:
    cells = [
        escape(_when(email.created_at)),
        escape(email.recipient),
        escape(email.kind.value),
        f"<details><summary>{escape(email.subject)}</summary><pre>{escape(email.body)}</pre></details>",
        f'<span class="{escape(email.status.value)}">{escape(email.status.value)}</span>',
        str(email.attempts),
        escape(_when(email.sent_at)),
        escape(email.last_error or ""),
    ]
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def render_outbox(emails: Sequence[Email], *, status: EmailStatus | None) -> str:
    """The outbox page listing ``emails``, newest first, as a whole HTML document."""
    heading = "Outbox" if status is None else f"Outbox: {status.value}"
    columns = ("queued at", "to (customer)", "kind", "subject", "status", "attempts", "sent at", "last error")
    head = "".join(f"<th>{escape(name)}</th>" for name in columns)
    rows = "".join(_row(email) for email in emails) or f'<tr><td colspan="{len(columns)}">No messages.</td></tr>'
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(heading)} - notification</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(heading)}</h1><p>The latest {len(emails)} messages, newest first.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></body></html>"
    )
