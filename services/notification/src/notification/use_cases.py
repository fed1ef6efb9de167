"""notification's use cases: an email queued for what happened to an order, sent at least once, and read.

Sending: each round claims the emails due (one short transaction), hands each to the mailer outside any
transaction (a slow mailer holds no lock), then records its outcome (another short transaction). A
sender that stops after the mailer took an email and before the outcome is committed leaves the claim
to run out; the email is then sent again. At least once, never lost: the mailer's side must tolerate a
copy. paved runs the rounds in the background (``send_round`` is a ``paved.poller`` step).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from paved import Clock

from notification.domain import Email, OrderNotice, RetryPolicy
from notification.ports import EmailFilter, EmailPage, Emails, Mailer, UnitOfWork
from notification.templates import render

log = structlog.get_logger(logger_name="notification.sending")


@dataclass(frozen=True)
class Round:
    """What one round of sending did."""

    claimed: int
    sent: int


class Notifications:
    """Queues the emails that tell customers about their orders, sends them, and reads them back.

    Args:
        uow: transactions on the store of emails.
        mailer: where emails leave notification.
        policy: how often and how long an email is tried.
        clock: the time the emails are queued, claimed and settled at.
        new_id: a new email's id.
        batch_size: the most emails one round of sending claims.
    """

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        mailer: Mailer,
        policy: RetryPolicy,
        clock: Clock,
        new_id: Callable[[], str],
        batch_size: int = 20,
    ) -> None:
        self.uow = uow
        self.mailer = mailer
        self.policy = policy
        self.clock = clock
        self.new_id = new_id
        self.batch_size = batch_size

    # -- queueing: in the transaction of the event it tells of ------------------------------------

    async def queue_email(self, emails: Emails, notice: OrderNotice) -> Email:
        """Queue the email about ``notice`` in the caller's transaction (the handled event's); sent after commit."""
        rendered = render(notice)
        email = Email.queue(
            email_id=self.new_id(), notice=notice, subject=rendered.subject, body=rendered.body, at=self.clock()
        )
        await emails.add(email)
        return email

    # -- sending ----------------------------------------------------------------------------------

    async def send_due(self) -> Round:
        """Claim up to ``batch_size`` emails due now, hand each to the mailer, and record each outcome."""
        taken = await self._claim_due()
        sent = 0
        for email in taken:
            sent += await self._attempt(email)
        return Round(claimed=len(taken), sent=sent)

    async def send_round(self) -> float | None:
        """One round of sending, as a ``paved.poller`` step: the next at once after a full batch (more may
        be due), else after the poller's period."""
        done = await self.send_due()
        return 0 if done.claimed >= self.batch_size else None

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

    # -- reading ----------------------------------------------------------------------------------

    async def messages(self, where: EmailFilter, *, after: int | None, limit: int) -> EmailPage:
        """The emails ``where`` selects, newest first, a page at a time from the cursor ``after``."""
        async with self.uow.read() as emails:
            return await emails.page(where, after=after, limit=limit)

    async def message(self, message_id: str) -> Email:
        """One email; raises ``EmailNotFoundError``."""
        async with self.uow.read() as emails:
            return await emails.get(message_id)
