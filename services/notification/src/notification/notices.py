"""Turning what happened to an order into the email that tells its customer: the use case the handlers call."""

from __future__ import annotations

from datetime import datetime

from notification.domain import Email, OrderNotice
from notification.ports import Emails
from notification.templates import render


async def queue_email(emails: Emails, notice: OrderNotice, *, email_id: str, at: datetime) -> Email:
    """Queue the email about ``notice``, in the caller's transaction; the sender sends it after commit."""
    rendered = render(notice)
    email = Email.queue(email_id=email_id, notice=notice, subject=rendered.subject, body=rendered.body, at=at)
    await emails.add(email)
    return email
