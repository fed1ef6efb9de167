"""Async request/response: send a command, and later continue from its reply or its timeout.

The reply subject is consumed through one durable consumer shared by every instance of the asking
service, so the reply may reach an instance other than the one that asked. That instance continues from
what the asking one wrote in the service's database: the pending request (written in the same
transaction as the command) and whatever domain state the service keeps with it. A request that gets
no reply by its deadline is timed out exactly once, by whichever instance sees it first; a reply that
arrives after that is ignored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import structlog
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from paved._database import Database
from paved._envelope import Envelope
from paved._times import now_ms, utc_now
from paved.messaging._consumer import Consumer, Handling
from paved.messaging._contracts import Command, DeadlineExpired, Reply
from paved.messaging._outbox import Outbox
from paved.messaging._tables import MessagingTables

log = structlog.get_logger(logger_name="paved.requests")

R = TypeVar("R", bound=Reply)


@dataclass(frozen=True)
class PendingRequest:
    """A command sent and not yet answered, as the asking service recorded it."""

    id: str
    command_type: str
    correlation_id: str


class Requests:
    """The commands one service sends and how it continues from their replies and timeouts."""

    def __init__(
        self, *, tables: MessagingTables, database: Database, outbox: Outbox, replies: Consumer, reply_subject: str
    ) -> None:
        self.table = tables.requests
        self.database = database
        self.outbox = outbox
        self.replies = replies
        self.reply_subject = reply_subject
        self._on_timeout: dict[str, Callable[[Handling, PendingRequest], Awaitable[None]]] = {}
        self._on_any_timeout: Callable[[Handling, PendingRequest], Awaitable[None]] | None = None
        # Built once: a statement built per command costs more Python than SQLite spends running it.
        self._remember = insert(self.table)
        self._settle_one = (
            update(self.table)
            .where(self.table.c.id == bindparam("request_id"), self.table.c.state == "pending")
            .values(state=bindparam("new_state"))
            .returning(self.table.c.id, self.table.c.command_type, self.table.c.correlation_id)
        )

        @replies.handles(DeadlineExpired)
        async def expired(handling: Handling, _: DeadlineExpired) -> None:
            # The handler did not carry the command out: continue as from a timeout, now.
            request = await self._settle(handling.session, handling.envelope.causation_id, "timed_out")
            if request is not None:
                await self._continue_from_timeout(handling.session, request)

    async def send(
        self,
        session: AsyncSession,
        command: Command,
        *,
        deadline: timedelta,
        caused_by: Envelope | None = None,
        correlation_id: str | None = None,
    ) -> Envelope:
        """Send ``command`` on its subject through the outbox and remember it, both in the caller's transaction.

        ``deadline`` travels with it: a handler that gets it later does not carry it out.
        """
        envelope = await self.outbox.put(
            session,
            command,
            caused_by=caused_by,
            correlation_id=correlation_id,
            reply_to=self.reply_subject,
            deadline=utc_now() + deadline,
        )
        await session.execute(
            self._remember,
            {
                "id": envelope.id,
                "command_type": envelope.type,
                "correlation_id": envelope.correlation_id,
                "deadline_ms": now_ms() + int(deadline.total_seconds() * 1000),
                "state": "pending",
            },
        )
        return envelope

    def on_reply(
        self, reply_type: type[R]
    ) -> Callable[[Callable[[Handling, R, PendingRequest], Awaitable[None]]], Any]:
        """Register how to continue when a reply of ``reply_type`` arrives in time."""

        def register(handler: Callable[[Handling, R, PendingRequest], Awaitable[None]]) -> Any:
            @self.replies.handles(reply_type)
            async def continue_from(handling: Handling, reply: R) -> None:
                request = await self._settle(handling.session, handling.envelope.causation_id, "replied")
                if request is None:
                    log.info("reply ignored: its request was answered or timed out", reply_id=handling.envelope.id)
                    return
                await handler(handling, reply, request)

            return handler

        return register

    def on_timeout(
        self, command_type: type[Command]
    ) -> Callable[[Callable[[Handling, PendingRequest], Awaitable[None]]], Any]:
        """Register how to continue when a command of ``command_type`` gets no reply by its deadline."""

        def register(handler: Callable[[Handling, PendingRequest], Awaitable[None]]) -> Any:
            if command_type.message_type in self._on_timeout:
                raise ValueError(f"a timeout of {command_type.message_type} is handled already")
            self._on_timeout[command_type.message_type] = handler
            return handler

        return register

    def on_any_timeout(self, handler: Callable[[Handling, PendingRequest], Awaitable[None]]) -> None:
        """Continue with ``handler`` when a command of a type without its own timeout handler times out:
        for commands built at run time (a saga's), whose types cannot be named up front. One per service."""
        if self._on_any_timeout is not None:
            raise ValueError("the timeouts no command type claims are handled already")
        self._on_any_timeout = handler

    def handles_reply(self, reply_type: type[Reply]) -> bool:
        """Whether a continuation of ``reply_type`` is registered."""
        return reply_type in self.replies.handlers

    async def _settle(self, session: AsyncSession, request_id: str | None, state: str) -> PendingRequest | None:
        """Move a pending request to ``state``; None if it was not pending (only one settler wins)."""
        if request_id is None:
            return None
        moved = await session.execute(self._settle_one, {"request_id": request_id, "new_state": state})
        row = moved.one_or_none()
        return None if row is None else PendingRequest(*row)

    async def time_out_due(self) -> int:
        """Time out the requests past their deadline, each in its own transaction; returns how many."""
        async with self.database.read() as session:
            due = (
                await session.execute(
                    select(self.table.c.id, self.table.c.command_type, self.table.c.correlation_id)
                    .where(self.table.c.state == "pending", self.table.c.deadline_ms <= now_ms())
                    .order_by(self.table.c.deadline_ms)
                    .limit(100)
                )
            ).all()
        timed_out = 0
        for row in due:
            async with self.database.transaction() as session:
                request = await self._settle(session, row.id, "timed_out")
                if request is None:
                    continue  # replied meanwhile, or another instance timed it out
                await self._continue_from_timeout(session, request)
                timed_out += 1
        return timed_out

    async def _continue_from_timeout(self, session: AsyncSession, request: PendingRequest) -> None:
        handler = self._on_timeout.get(request.command_type, self._on_any_timeout)
        if handler is not None:
            timeout = Envelope(
                type="paved.RequestTimedOut",
                correlation_id=request.correlation_id,
                causation_id=request.id,
                data={"request_id": request.id, "command_type": request.command_type},
            )
            await handler(Handling(session=session, envelope=timeout, outbox=self.outbox), request)

    async def time_out_due_step(self) -> None:
        """One round of the deadlines' poll (``paved._background.poller``)."""
        await self.time_out_due()
