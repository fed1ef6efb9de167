"""The rules of an orchestrated saga (``paved.sagas._engine``), decided without a broker or a database."""

from __future__ import annotations

from dataclasses import replace

import pytest

from paved.messaging import Command, Reply
from paved.sagas import Action, ChangeKind, Outcome, Saga, SagaNotCancellableError, SagaState, SagaStep, StepContext
from paved.sagas._engine import Decision, SagaEngine, backoff_ms, redrive
from paved.sagas._state import SagaInstance

NOW = 1_000_000
ACTION, COMPENSATION, SAGA = ChangeKind.ACTION, ChangeKind.COMPENSATION, ChangeKind.SAGA


class Done(Reply, type="test.Done"):
    what: str = ""


class Refused(Reply, type="test.Refused"):
    why: str = ""


class Unrelated(Reply, type="test.Unrelated"):
    pass


async def _never_built(context: StepContext) -> Command:
    raise AssertionError("the engine decides what to send; it never builds a command")


# The engine never looks inside an action but for the replies it accepts: one serves every step.
ANY_ACTION = Action(_never_built, succeeded=(Done,), failed=(Refused,))


def fulfilment() -> Saga:
    """Two steps before the pivot (one with nothing to undo), the pivot, and two after it."""
    return Saga(
        "fulfilment",
        SagaStep("reserve", ANY_ACTION, compensation=ANY_ACTION, attempts=2),
        SagaStep("check", ANY_ACTION),
        SagaStep("pay", ANY_ACTION, compensation=ANY_ACTION, pivot=True, attempts=3),
        SagaStep("award", ANY_ACTION, attempts=2),
        SagaStep("dispatch", ANY_ACTION, attempts=2),
        compensation_attempts=2,
    )


class Run:
    """One instance driven through the engine as the orchestrator would: each command sent gets a new request id."""

    def __init__(self) -> None:
        self.engine = SagaEngine(fulfilment(), backoff=lambda attempt: 1000 * attempt)
        self.requests = 0
        self.decision = self._apply(self.engine.start("s-1", {"order_id": "s-1"}))

    @property
    def instance(self) -> SagaInstance:
        return self.decision.instance

    def _apply(self, decision: Decision | None) -> Decision:
        assert decision is not None, "the engine decided nothing"
        if decision.sends:
            self.requests += 1
            decision = replace(decision, instance=replace(decision.instance, request_id=f"req-{self.requests}"))
        self.decision = decision
        return decision

    def reply(self, reply: Reply, *, now_ms: int = NOW) -> Decision:
        request_id = self.instance.request_id
        assert request_id is not None, "the saga awaits no answer"
        return self._apply(self.engine.replied(self.instance, request_id=request_id, reply=reply, now_ms=now_ms))

    def time_out(self, *, now_ms: int = NOW) -> Decision:
        request_id = self.instance.request_id
        assert request_id is not None, "the saga awaits no answer"
        return self._apply(self.engine.timed_out(self.instance, request_id=request_id, now_ms=now_ms))

    def wake(self, *, now_ms: int) -> Decision:
        return self._apply(self.engine.wake(self.instance, now_ms=now_ms))

    def cancel(self) -> Decision:
        return self._apply(self.engine.cancel(self.instance, reason="the customer cancelled"))

    def redrive(self, *, now_ms: int = NOW) -> Decision:
        step = self.engine.saga.steps[self.instance.step_index].name
        return self._apply(redrive(self.instance, step=step, now_ms=now_ms))

    def until(self, step: str) -> None:
        """Succeed every step before ``step``."""
        while self.decision.sends[-1].step != step:
            self.reply(Done())


def sent(decision: Decision) -> list[tuple[str, ChangeKind, int]]:
    return [(s.step, s.kind, s.attempt) for s in decision.sends]


def told(decision: Decision) -> list[tuple[str, ChangeKind, Outcome]]:
    return [(c.step, c.kind, c.outcome) for c in decision.changes]


def test_a_saga_starts_running_its_first_step() -> None:
    """Starting records the instance at its first step, notes the start, and sends the first action."""
    run = Run()
    assert (run.instance.state, run.instance.step_index, run.instance.attempt) == (SagaState.RUNNING, 0, 1)
    assert [(n.step, n.kind, n.outcome) for n in run.decision.notes] == [("reserve", SAGA, Outcome.STARTED)]
    assert sent(run.decision) == [("reserve", ACTION, 1)]


def test_each_success_sends_the_next_step_and_the_last_completes_the_saga() -> None:
    """Every step's success sends the next one; the last one's completes the saga and tells so."""
    run = Run()
    steps = [sent(run.reply(Done()))[0][0] for _ in range(4)]
    assert steps == ["check", "pay", "award", "dispatch"]
    last = run.reply(Done())
    assert last.sends == ()
    assert told(last) == [("dispatch", ACTION, Outcome.SUCCEEDED), ("dispatch", SAGA, Outcome.COMPLETED)]
    assert last.changes[-1].state is SagaState.COMPLETED
    assert (run.instance.state, run.instance.request_id) == (SagaState.COMPLETED, None)


def test_a_refused_first_step_leaves_nothing_to_compensate() -> None:
    """A refusal means the step did nothing: refused first, the saga is compensated at once, sending nothing."""
    run = Run()
    refused = run.reply(Refused(why="out of stock"))
    assert refused.sends == ()
    assert told(refused) == [("reserve", ACTION, Outcome.FAILED), ("reserve", SAGA, Outcome.COMPENSATED)]
    assert refused.changes[0].detail == "test.Refused"
    assert (run.instance.state, run.instance.step_index) == (SagaState.COMPENSATED, 0)


def test_a_refused_pivot_compensates_the_steps_before_it_in_reverse_skipping_those_with_nothing_to_undo() -> None:
    """Refused at the pivot, the saga compensates the earlier steps last first, skipping a step without compensation."""
    run = Run()
    run.until("pay")
    refused = run.reply(Refused())
    assert sent(refused) == [("reserve", COMPENSATION, 1)]
    assert (run.instance.state, run.instance.step_index) == (SagaState.COMPENSATING, 0)
    assert ("reserve", SAGA, Outcome.COMPENSATING) in [(n.step, n.kind, n.outcome) for n in refused.notes]
    undone = run.reply(Done())
    assert told(undone) == [("reserve", COMPENSATION, Outcome.SUCCEEDED), ("reserve", SAGA, Outcome.COMPENSATED)]
    assert run.instance.state is SagaState.COMPENSATED


def test_an_unanswered_step_before_the_pivot_is_asked_again_at_once_then_compensated_with_itself() -> None:
    """Unanswered is not undone: the step is sent again up to its attempts, then its own compensation runs."""
    run = Run()
    again = run.time_out()
    assert sent(again) == [("reserve", ACTION, 2)]
    assert again.instance.wake_at_ms is None  # asked again at once, not after a backoff
    gave_up = run.time_out()
    assert told(gave_up) == [("reserve", ACTION, Outcome.TIMED_OUT)]
    assert gave_up.changes[0].detail == "unanswered after 2 attempts"
    assert sent(gave_up) == [("reserve", COMPENSATION, 1)]


def test_an_unanswered_pivot_is_refunded_before_the_steps_before_it_are_undone() -> None:
    """A pivot unanswered after its attempts is compensated too, then the earlier steps, in reverse."""
    run = Run()
    run.until("pay")
    run.time_out()
    run.time_out()
    assert sent(run.time_out()) == [("pay", COMPENSATION, 1)]
    assert sent(run.reply(Done())) == [("reserve", COMPENSATION, 1)]
    assert told(run.reply(Done()))[-1] == ("reserve", SAGA, Outcome.COMPENSATED)


def test_after_the_pivot_a_refused_step_is_retried_forward_with_backoff_then_needs_attention() -> None:
    """Past the pivot a refusal waits a backoff and sends the step again; after its attempts a person is asked."""
    run = Run()
    run.until("award")
    waiting = run.reply(Refused())
    assert waiting.sends == ()
    assert (run.instance.attempt, run.instance.wake_at_ms) == (2, NOW + 1000)
    [retrying] = [n for n in waiting.notes if n.outcome is Outcome.RETRYING]
    assert (retrying.attempt, retrying.detail) == (2, "refused (test.Refused); again in 1000 ms")
    assert run.engine.wake(run.instance, now_ms=NOW + 999) is None  # not due yet
    woken = run.wake(now_ms=NOW + 1000)
    assert sent(woken) == [("award", ACTION, 2)]
    assert woken.instance.wake_at_ms is None
    stuck = run.reply(Refused())
    assert stuck.sends == ()
    assert told(stuck)[-1] == ("award", SAGA, Outcome.NEEDS_ATTENTION)
    assert run.instance.needs_attention and run.instance.wake_at_ms is None
    assert run.instance.reason == "award refused (test.Refused) after 2 attempts"
    assert run.instance.state is SagaState.RUNNING  # never compensated past the pivot


def test_after_the_pivot_an_unanswered_step_waits_and_is_retried_not_compensated() -> None:
    """Past the pivot a timeout, too, waits a backoff and retries forward, then needs attention."""
    run = Run()
    run.until("dispatch")
    waiting = run.time_out(now_ms=NOW)
    assert waiting.sends == () and run.instance.wake_at_ms == NOW + 1000
    run.wake(now_ms=NOW + 1000)
    stuck = run.time_out()
    assert run.instance.reason == "dispatch unanswered after 2 attempts"
    assert told(stuck) == [("dispatch", SAGA, Outcome.NEEDS_ATTENTION)]


def test_a_compensation_that_fails_is_retried_with_backoff_then_needs_attention() -> None:
    """A refused or unanswered compensation is tried again after a backoff, and after its attempts a person is asked."""
    run = Run()
    run.until("pay")
    run.reply(Refused())  # the pivot refused: release the stock
    refused = run.reply(Refused())
    assert told(refused) == [("reserve", COMPENSATION, Outcome.FAILED)]
    assert (run.instance.state, run.instance.attempt, run.instance.wake_at_ms) == (
        SagaState.COMPENSATING,
        2,
        NOW + 1000,
    )
    assert sent(run.wake(now_ms=NOW + 1000)) == [("reserve", COMPENSATION, 2)]
    stuck = run.time_out()
    assert told(stuck) == [("reserve", SAGA, Outcome.NEEDS_ATTENTION)]
    assert run.instance.reason == "the compensation of reserve unanswered after 2 attempts"


def test_a_saga_that_needs_attention_waits_until_a_person_re_drives_it_from_the_step_in_hand() -> None:
    """Needing attention, the saga is never woken; re-driven, it is due now and sends the same step, attempts afresh."""
    run = Run()
    run.until("award")
    run.reply(Refused(), now_ms=NOW)
    run.wake(now_ms=NOW + 1000)
    run.reply(Refused())
    assert run.instance.needs_attention
    assert run.engine.wake(run.instance, now_ms=NOW + 10**9) is None
    redriven = run.redrive(now_ms=NOW + 5000)
    assert redriven.instance.needs_attention is False and redriven.instance.reason is None
    assert (redriven.instance.attempt, redriven.instance.wake_at_ms) == (1, NOW + 5000)
    assert [(n.step, n.outcome, n.detail) for n in redriven.notes] == [
        ("award", Outcome.RETRIED, "re-driven by a person")
    ]
    assert sent(run.wake(now_ms=NOW + 5000)) == [("award", ACTION, 1)]
    assert told(run.reply(Done())) == [("award", ACTION, Outcome.SUCCEEDED)]


def test_only_a_saga_that_needs_attention_can_be_re_driven() -> None:
    """Re-driving a saga that needs no attention decides nothing."""
    assert redrive(Run().instance, step="reserve", now_ms=NOW) is None


def test_an_answer_to_a_request_the_saga_no_longer_awaits_is_ignored() -> None:
    """A late reply or timeout of an earlier request (asked again since) decides nothing."""
    run = Run()
    first = run.instance.request_id
    assert first is not None
    run.time_out()  # asked again, under a new request
    assert run.engine.replied(run.instance, request_id=first, reply=Done(), now_ms=NOW) is None
    assert run.engine.timed_out(run.instance, request_id=first, now_ms=NOW) is None


def test_a_reply_of_a_type_the_step_does_not_await_is_an_error() -> None:
    """A reply the action names neither as success nor as refusal fails, so the reply is retried and parked."""
    run = Run()
    with pytest.raises(TypeError, match=r"test\.Unrelated does not answer reserve"):
        run.reply(Unrelated())


def test_a_cancellation_waits_for_the_step_in_hand_then_compensates_it_and_those_before() -> None:
    """Cancelled while a step is in hand, the saga sends nothing until it answers, then undoes it too."""
    run = Run()
    cancelled = run.cancel()
    assert cancelled.sends == () and run.instance.cancel_requested
    assert [(n.outcome, n.detail) for n in cancelled.notes] == [(Outcome.CANCEL_REQUESTED, "the customer cancelled")]
    assert sent(run.reply(Done())) == [("reserve", COMPENSATION, 1)]


def test_a_cancellation_before_the_pivot_undoes_a_pivot_that_succeeded_meanwhile() -> None:
    """Cancelled while the pivot is in hand and it succeeds, the saga refunds it, then releases the stock."""
    run = Run()
    run.until("pay")
    run.cancel()
    assert sent(run.reply(Done())) == [("pay", COMPENSATION, 1)]
    assert sent(run.reply(Done())) == [("reserve", COMPENSATION, 1)]
    assert run.reply(Done()).instance.state is SagaState.COMPENSATED


def test_a_cancelled_saga_does_not_ask_again_when_the_step_in_hand_stays_unanswered() -> None:
    """Cancelled, an unanswered step is compensated at once, with itself, instead of asked again."""
    run = Run()
    run.until("pay")
    run.cancel()
    assert sent(run.time_out()) == [("pay", COMPENSATION, 1)]


def test_a_cancelled_saga_whose_step_in_hand_is_refused_undoes_only_the_steps_before_it() -> None:
    """A refusal after a cancellation means the step did nothing: only the earlier steps are undone."""
    run = Run()
    run.until("pay")
    run.cancel()
    assert sent(run.reply(Refused())) == [("reserve", COMPENSATION, 1)]


def test_a_saga_cannot_be_cancelled_past_its_pivot_or_once_ended() -> None:
    """Past the pivot, or ended, a cancellation is refused: the saga can only go forward."""
    run = Run()
    run.until("award")
    with pytest.raises(SagaNotCancellableError):
        run.engine.cancel(run.instance, reason="too late")
    ended = Run()
    ended.reply(Refused())
    with pytest.raises(SagaNotCancellableError):
        ended.engine.cancel(ended.instance, reason="too late")


def test_cancelling_twice_or_while_compensating_decides_nothing() -> None:
    """A saga already undoing, or about to, takes a second cancellation as done."""
    run = Run()
    run.cancel()
    assert run.engine.cancel(run.instance, reason="again") is None
    compensating = Run()
    compensating.until("pay")
    compensating.reply(Refused())
    assert compensating.engine.cancel(compensating.instance, reason="late") is None


def test_a_saga_that_is_not_waiting_is_not_woken() -> None:
    """A wake-up of a saga with no wait set, or ended, decides nothing."""
    run = Run()
    assert run.engine.wake(run.instance, now_ms=NOW) is None
    run.reply(Refused())
    assert run.engine.wake(replace(run.instance, wake_at_ms=NOW), now_ms=NOW) is None


def test_a_change_tells_the_step_and_state_of_the_moment_it_happened() -> None:
    """The service learns each change with the saga's data, the step it concerns and the state then."""
    run = Run()
    run.until("pay")
    refused = run.reply(Refused())
    failed = refused.changes[0]
    assert (failed.step, failed.state, failed.data, failed.saga_id) == (
        "pay",
        SagaState.RUNNING,
        {"order_id": "s-1"},
        "s-1",
    )
    assert isinstance(failed.reply, Refused)


def test_every_timeline_entry_carries_the_attempt_it_was_made_in() -> None:
    """A timeout is noted with the attempt that went unanswered, the send after it with the next one."""
    run = Run()
    again = run.time_out()
    assert [(n.outcome, n.attempt) for n in again.notes] == [(Outcome.TIMED_OUT, 1)]
    assert sent(again) == [("reserve", ACTION, 2)]


def test_backoff_doubles_and_is_capped() -> None:
    """The default backoff starts at half a second, doubles per attempt, and stops at 30 s."""
    assert [backoff_ms(n) for n in (1, 2, 3)] == [500, 1000, 2000]
    assert backoff_ms(20) == 30_000


def test_enums_keep_the_strings_the_tables_hold() -> None:
    """States, kinds and outcomes are the same strings services' tables and ``paved sagas`` already hold."""
    assert {s.value for s in SagaState} == {"running", "compensating", "completed", "compensated"}
    assert {k.value for k in ChangeKind} == {"action", "compensation", "saga", "event"}
    assert {o.value for o in Outcome} == {
        "started",
        "sent",
        "succeeded",
        "failed",
        "timed_out",
        "retrying",
        "retried",
        "cancel_requested",
        "compensating",
        "completed",
        "compensated",
        "needs_attention",
    }
