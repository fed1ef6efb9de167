from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from notification.settings import NotificationSettings


def test_the_settings_make_the_retry_policy() -> None:
    """The sender's policy comes from PAVED_NOTIFICATION_* settings."""
    settings = NotificationSettings(notification_max_attempts=7, notification_first_retry_seconds=2)
    policy = settings.retry_policy
    assert policy.max_attempts == 7 and policy.first_delay == timedelta(seconds=2)


def test_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """PAVED_NOTIFICATION_SEND_INTERVAL_SECONDS sets how often the sender looks for due emails."""
    monkeypatch.setenv("PAVED_NOTIFICATION_SEND_INTERVAL_SECONDS", "0.25")
    assert NotificationSettings().notification_send_interval_seconds == 0.25


def test_a_claim_shorter_than_a_send_is_refused_at_start_up() -> None:
    """A claim that would run out while the mailer may still be working is a start-up error, not duplicate mail."""
    with pytest.raises(ValidationError, match="CLAIM_SECONDS must be longer"):
        NotificationSettings(notification_claim_seconds=5, notification_send_timeout_seconds=10)
