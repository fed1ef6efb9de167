"""Sending queued emails through the mailer, at least once each: the sender, and the loop that runs it.

Each round claims the emails due (one short transaction), hands each to the mailer outside any
transaction (a slow mailer holds no lock), then records its outcome (another short transaction). A sender
that stops after the mailer took an email and before the outcome is committed leaves the claim to run
out; the email is then sent again. At least once, never lost: the mailer's side must tolerate a copy.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import structlog

from notification.domain import Email, RetryPolicy
from notification.ports import Clock, Mailer, UnitOfWork

log = structlog.get_logger(logger_name="notification.sending")


@dataclass(frozen=True)
class Round:
    """What one round of sending did."""

    claimed: int
    sent: int


class Sender:
    """Sends the emails that are due, and records what became of each."""

    def __init__(
        self, *, uow: UnitOfWork, mailer: Mailer, policy: RetryPolicy, clock: Clock, batch_size: int = 20
    ) -> None:
        self.uow = uow
        self.mailer = mailer
        self.policy = policy
        self.clock = clock
        self.batch_size = batch_size

    async def send_due(self) -> Round:
        """Claim up to ``batch_size`` emails due now, hand each to the mailer, and record each outcome."""
        taken = await self._claim_due()
        sent = 0
        for email in taken:
            sent += await self._attempt(email)
        return Round(claimed=len(taken), sent=sent)

    async def _claim_due(self) -> list[Email]:
        async with self.uow.write() as emails:
            now = self.clock()
            taken = []
            for email in await emails.due(at=now, limit=self.batch_size):
                if email.claim(at=now, policy=self.policy):
                    taken.append(email)
                await emails.save(email)  # claimed, or given up after its last attempt
        return taken

    async def _attempt(self, email: Email) -> bool:
        try:
            async with asyncio.timeout(self.policy.send_timeout.total_seconds()):
                await self.mailer.send(email)
        except Exception as exc:  # noqa: BLE001 - whatever the mailer raises, the attempt failed and is retried
            error = f"{type(exc).__name__}: {exc}"
            log.warning("sending an email failed", email_id=email.id, attempt=email.attempts, error=error)
            await self._settle(
                email.id, lambda stored: stored.record_failure(error, at=self.clock(), policy=self.policy)
            )
            return False
        await self._settle(email.id, lambda stored: stored.mark_sent(at=self.clock()))
        return True

    async def _settle(self, email_id: str, outcome: Callable[[Email], None]) -> None:
        # Read again under a row lock: another sender may have settled it since the claim (its claim ran out).
        async with self.uow.write() as emails:
            email = await emails.get(email_id, for_update=True)
            outcome(email)
            await emails.save(email)


class SendingLoop:
    """Runs a sender's rounds in the background: every ``interval`` seconds, or at once while more are due.

    Args:
        sender: what each round runs.
        interval: seconds between rounds when the last one found less than a full batch.
        grace: seconds the round in hand gets to finish when the loop stops; then it is cancelled.
    """

    MAX_BACKOFF_SECONDS = 30.0

    def __init__(self, sender: Sender, *, interval: float, grace: float = 5.0) -> None:
        self.sender = sender
        self.interval = interval
        self.grace = grace
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        """Run rounds until stopped; a failing round (the database away) is retried with backoff."""
        failures = 0
        while not self._stopping.is_set():
            try:
                done = await self.sender.send_due()
            except Exception as exc:  # noqa: BLE001 - the loop must outlive any round: the next may work
                failures += 1
                delay = min(self.interval * 2**failures, self.MAX_BACKOFF_SECONDS)
                log.warning("sending round failed; retrying", error=f"{type(exc).__name__}: {exc}", retry_in_s=delay)
                await self._pause(delay)
                continue
            failures = 0
            if done.claimed < self.sender.batch_size:
                await self._pause(self.interval)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stopping.wait()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run the loop for the block; on leaving it, the round in hand gets ``grace`` seconds to finish."""
        self._stopping.clear()
        task = asyncio.create_task(self.run(), name="notification-sender")
        try:
            yield
        finally:
            self._stopping.set()
            _, pending = await asyncio.wait({task}, timeout=self.grace)
            if pending:
                # Mid-send: that email's claim runs out, and it is sent again by the next sender.
                log.warning("sender stopped mid-round; its claimed emails are sent again later")
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
