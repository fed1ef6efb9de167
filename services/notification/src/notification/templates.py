"""What each email says: a small plain-text template per kind of notice, filled from the notice alone.

Plain text on purpose: an email client renders it as written, and nothing in it is markup that a title or
a reason from another service could break out of.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from string import Template

from notification.domain import Money, NoticeKind, OrderNotice

SIGNATURE = "MusicCorp"

# ISO 4217 minor-unit exponents that are not 2. A currency not listed here is shown with two decimals.
_EXPONENTS: Mapping[str, int] = {
    "BHD": 3, "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0, "KMF": 0,
    "KRW": 0, "KWD": 3, "LYD": 3, "OMR": 3, "PYG": 0, "RWF": 0, "TND": 3, "UGX": 0, "UYI": 0, "VND": 0,
    "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
}  # fmt: skip

# order's rejection reason codes, in words a customer understands. A code order adds later is not an
# error here: the email then says less (see _rejection_reason).
_REJECTIONS: Mapping[str, str] = {
    "out_of_stock": "some of the albums you ordered are out of stock",
    "payment_declined": "your card was declined",
    "payment_failed": "your payment did not go through",
    "warehouse_unavailable": "our warehouse could not confirm your albums in time",
    "payment_unavailable": "we could not reach our payment provider in time",
    "stock_lapsed": "the albums we held for you were released before your payment went through",
}


@dataclass(frozen=True)
class EmailTemplate:
    """A subject and a body with ``$placeholders`` (``string.Template``): no logic, no markup."""

    subject: Template
    body: Template


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    body: str


# fmt: off (one line of the email per line of the template)
TEMPLATES: Mapping[NoticeKind, EmailTemplate] = {
    NoticeKind.ORDER_PLACED: EmailTemplate(
        subject=Template("We have your order $order_id"),
        body=Template(
            "Hello,\n\n"
            "Thank you for your order $order_id. We are getting it ready:\n\n"
            "$items\n\n"
            "Total: $total\n\n"
            "We will write again when it is on its way.\n\n"
            "$signature\n"
        ),
    ),
    NoticeKind.ORDER_DISPATCHED: EmailTemplate(
        subject=Template("Your order $order_id is on its way"),
        body=Template(
            "Hello,\n\nYour order $order_id ($total) has left our warehouse and is on its way to you.\n\n$signature\n"
        ),
    ),
    NoticeKind.ORDER_REJECTED: EmailTemplate(
        subject=Template("We could not complete your order $order_id"),
        body=Template(
            "Hello,\n\n"
            "We are sorry: we could not complete your order $order_id ($total), because $reason.\n"
            "Nothing stays charged for it: any payment taken is being refunded.\n\n"
            "$signature\n"
        ),
    ),
    NoticeKind.ORDER_CANCELLED: EmailTemplate(
        subject=Template("Your order $order_id is cancelled"),
        body=Template(
            "Hello,\n\n"
            "Your order $order_id ($total) is cancelled ($reason), and you will not be charged for it.\n\n"
            "$signature\n"
        ),
    ),
}
# fmt: on


def format_money(money: Money) -> str:
    """``Money(2598, "GBP")`` as ``25.98 GBP``: the currency's own decimals, no symbol to get wrong."""
    exponent = _EXPONENTS.get(money.currency, 2)
    sign = "-" if money.amount_minor < 0 else ""
    whole, minor = divmod(abs(money.amount_minor), 10**exponent)
    amount = f"{whole:,}" if exponent == 0 else f"{whole:,}.{minor:0{exponent}d}"
    return f"{sign}{amount} {money.currency}"


def _rejection_reason(code: str | None) -> str:
    if code is None:
        return "something went wrong on our side"
    return _REJECTIONS.get(code, "something went wrong on our side")


def _items(notice: OrderNotice) -> str:
    return (
        "\n".join(f"  {item.quantity} x {item.title} at {format_money(item.unit_price)}" for item in notice.items)
        or "  (your albums)"
    )


def render(notice: OrderNotice) -> RenderedEmail:
    """The subject and body of the email that tells ``notice``'s customer about it."""
    template = TEMPLATES[notice.kind]
    reason = (
        _rejection_reason(notice.reason)
        if notice.kind is NoticeKind.ORDER_REJECTED
        else (notice.reason or "at your request")
    )
    values = {
        "order_id": notice.order_id,
        "total": format_money(notice.total),
        "items": _items(notice),
        "reason": reason,
        "signature": SIGNATURE,
    }
    # substitute, not safe_substitute: a placeholder with no value is a bug to see, not a "$name" to mail.
    subject = template.subject.substitute(values)
    # One line, whatever the values hold: a line break in a subject would start a new mail header.
    return RenderedEmail(subject=" ".join(subject.split()), body=template.body.substitute(values))
