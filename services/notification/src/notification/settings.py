"""notification's settings: paved's, plus how its sender paces and retries. Read once at start-up.

All from ``PAVED_*`` variables, e.g.::

    PAVED_NOTIFICATION_SEND_INTERVAL_SECONDS=1     # between rounds when nothing more is due
    PAVED_NOTIFICATION_MAX_ATTEMPTS=5              # then an email is failed, for a person to look at
"""

from __future__ import annotations

from datetime import timedelta

from paved import ServiceSettings
from pydantic import Field, model_validator

from notification.domain import RetryPolicy


class NotificationSettings(ServiceSettings):
    """Everything notification is told at start-up."""

    notification_send_interval_seconds: float = Field(default=1.0, gt=0, le=300)
    notification_send_batch_size: int = Field(default=20, ge=1, le=500)
    notification_max_attempts: int = Field(default=5, ge=1, le=100)
    notification_first_retry_seconds: float = Field(default=30.0, gt=0, le=86_400)
    notification_max_retry_seconds: float = Field(default=3600.0, gt=0, le=7 * 86_400)
    notification_send_timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    notification_claim_seconds: float = Field(default=120.0, gt=0, le=86_400)

    @model_validator(mode="after")
    def _refuse_a_claim_shorter_than_a_send(self) -> NotificationSettings:
        # Else an attempt still waiting on the mailer loses its claim, and a second sender mails a copy.
        if self.notification_claim_seconds <= self.notification_send_timeout_seconds:
            raise ValueError(
                "PAVED_NOTIFICATION_CLAIM_SECONDS must be longer than PAVED_NOTIFICATION_SEND_TIMEOUT_SECONDS"
            )
        return self

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.notification_max_attempts,
            first_delay=timedelta(seconds=self.notification_first_retry_seconds),
            max_delay=timedelta(seconds=self.notification_max_retry_seconds),
            claim_for=timedelta(seconds=self.notification_claim_seconds),
            send_timeout=timedelta(seconds=self.notification_send_timeout_seconds),
        )
