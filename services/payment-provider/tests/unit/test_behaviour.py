from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from pydantic import SecretStr, ValidationError

from payment_provider.behaviour import Behaviour, Failure, Fates
from payment_provider.settings import ProviderSettings


def fates(n: int, behaviour: Behaviour) -> list[tuple[float, Failure | None, int]]:
    drawn = Fates(behaviour)
    return [(f.delay_seconds, f.failure, f.error_status) for f in (drawn.draw() for _ in range(n))]


def test_the_same_seed_draws_the_same_fates() -> None:
    """Two processes with one seed misbehave identically, request for request."""
    behaviour = Behaviour(error_rate=0.3, timeout_rate=0.2, jitter_seconds=0.5, seed=7)
    assert fates(200, behaviour) == fates(200, behaviour)
    assert fates(200, behaviour) != fates(200, replace(behaviour, seed=8))


def test_without_misbehaviour_every_request_succeeds_after_the_latency() -> None:
    """Rates of zero fail nothing; the delay is the latency plus at most the jitter."""
    drawn = fates(500, Behaviour(latency_seconds=0.1, jitter_seconds=0.05, seed=1))
    assert {failure for _, failure, _ in drawn} == {None}
    assert all(0.1 <= delay <= 0.15 for delay, _, _ in drawn)


def test_a_rate_of_one_fails_every_request_that_way() -> None:
    """An error rate of 1 fails every request with a 500 or 503; a timeout rate of 1 times every one out."""
    errors = fates(200, Behaviour(error_rate=1.0, seed=2))
    assert {failure for _, failure, _ in errors} == {Failure.ERROR}
    assert {status for _, _, status in errors} == {500, 503}
    assert {failure for _, failure, _ in fates(200, Behaviour(timeout_rate=1.0, seed=2))} == {Failure.TIMEOUT}


def test_only_a_timeout_lingers_after_its_work() -> None:
    """A request fated to time out waits the configured timeout after its work; no other fate waits."""
    timeouts = Fates(Behaviour(timeout_rate=1.0, timeout_seconds=12, seed=4))
    assert {timeouts.draw().linger_seconds for _ in range(20)} == {12}
    others = Fates(Behaviour(error_rate=0.5, seed=4))
    assert {others.draw().linger_seconds for _ in range(200)} == {0.0}


def test_rates_are_met_over_many_requests() -> None:
    """Over many requests each kind of failure comes at about its configured rate."""
    drawn = fates(20_000, Behaviour(error_rate=0.1, timeout_rate=0.05, seed=3))
    errors = sum(failure is Failure.ERROR for _, failure, _ in drawn) / len(drawn)
    timeouts = sum(failure is Failure.TIMEOUT for _, failure, _ in drawn) / len(drawn)
    assert errors == pytest.approx(0.1, abs=0.01)
    assert timeouts == pytest.approx(0.05, abs=0.01)


@pytest.mark.parametrize(
    "impossible",
    [
        lambda: Behaviour(error_rate=1.5),
        lambda: Behaviour(error_rate=0.6, timeout_rate=0.5),
        lambda: Behaviour(latency_seconds=-1),
        lambda: Behaviour(timeout_seconds=0),
    ],
)
def test_impossible_behaviour_is_refused(impossible: Callable[[], Behaviour]) -> None:
    """Rates outside 0..1 or adding up past 1, negative latency and a zero timeout are refused."""
    with pytest.raises(ValueError):
        impossible()


def test_settings_refuse_rates_that_add_up_past_one() -> None:
    """The settings refuse at start-up an error rate and a timeout rate that add up past 1."""
    with pytest.raises(ValidationError, match="cannot exceed 1"):
        ProviderSettings(provider_error_rate=0.7, provider_timeout_rate=0.7)


def test_settings_refuse_a_processor_without_an_api_key_outside_development() -> None:
    """Outside development the processor does not start without an API key."""
    with pytest.raises(ValidationError, match="PAVED_PROVIDER_API_KEY"):
        ProviderSettings(environment="production", admin_token=SecretStr("admin-token"))


def test_settings_give_the_behaviour_in_seconds() -> None:
    """Milliseconds in the environment become the behaviour's seconds."""
    settings = ProviderSettings(provider_latency_ms=80, provider_jitter_ms=40, provider_seed=5)
    assert settings.behaviour == Behaviour(latency_seconds=0.08, jitter_seconds=0.04, seed=5)
