"""The mailers: where emails leave notification. For now only the log; an SMTP adapter is still to come."""

from __future__ import annotations

import structlog

from notification.domain import Email


class LoggingMailer:
    """Writes each email to the service's log instead of delivering it.

    What the shop runs with until a real adapter (SMTP, or an email provider's API) exists: the email is
    complete in the log, with its id, so a person can read what a customer would have received.
    """

    def __init__(self, *, logger_name: str = "notification.mailer") -> None:
        self._log = structlog.get_logger(logger_name=logger_name)

    async def send(self, email: Email) -> None:
        """Log ``email`` whole; it never fails, so every email counts as sent."""
        self._log.info(
            "email sent (to the log: no mail server is configured)",
            email_id=email.id,
            recipient=email.recipient,
            subject=email.subject,
            body=email.body,
        )
