"""The one envelope every message (event, command, reply) travels in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from paved import _context as context


def _now() -> datetime:
    return datetime.now(UTC)


class Cause(Protocol):
    """What a new message follows from: the message being handled, or an ``Asker`` kept for later."""

    @property
    def id(self) -> str: ...
    @property
    def correlation_id(self) -> str: ...
    @property
    def traceparent(self) -> str | None: ...


@dataclass(frozen=True)
class Asker:
    """Who sent a command, and where its answer goes: kept by a service that answers later.

    A service that answers in the handler uses ``Handling.reply``; one that answers after work outside
    the handler's transaction (a card processor's call) stores these four values with that work, and
    answers with ``Outbox.reply(session, asker, reply)`` when it is done.
    """

    id: str
    correlation_id: str
    reply_to: str | None
    traceparent: str | None = None


class Envelope(BaseModel):
    """A message with the metadata to de-duplicate, correlate, trace and version it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=context.new_id)
    type: str = Field(min_length=1)
    version: int = Field(default=1, ge=1)
    correlation_id: str
    causation_id: str | None = None
    occurred_at: AwareDatetime = Field(default_factory=_now)
    traceparent: str | None = None
    # Where the answer to a command goes: a subject every instance of the asking service consumes.
    reply_to: str | None = None
    # When a command's answer is no longer of use to its sender: a handler that gets it later does not
    # carry it out (it answers ``paved.DeadlineExpired``), and the calls it makes get what is left.
    deadline: AwareDatetime | None = None
    # The service that sent it, set by paved's outbox from the sending ``Service``'s name, never by service
    # code. None is unknown: a message written before paved named senders, or not sent through an outbox.
    # A consumer refuses a command from a sender it does not name as allowed, unknown included
    # (docs/messaging.md, "Who sent it").
    sender: str | None = None
    data: dict[str, Any]

    @classmethod
    def new(
        cls,
        type: str,  # noqa: A002 - the envelope's field name
        data: dict[str, Any],
        *,
        version: int = 1,
        caused_by: Cause | None = None,
        reply_to: str | None = None,
        correlation_id: str | None = None,
        deadline: datetime | None = None,
        sender: str | None = None,
    ) -> Envelope:
        """A new message; ``caused_by`` is what it follows from (the message being handled), if any.

        The correlation id is ``correlation_id`` when given (a saga's id names its business process),
        else inherited from the cause, else from the current request, else new.
        """
        if caused_by is not None:
            return cls(
                type=type,
                version=version,
                data=data,
                correlation_id=correlation_id or caused_by.correlation_id,
                causation_id=caused_by.id,
                traceparent=caused_by.traceparent,
                reply_to=reply_to,
                deadline=deadline,
                sender=sender,
            )
        return cls(
            type=type,
            version=version,
            data=data,
            correlation_id=correlation_id or context.correlation_id.get() or context.new_id(),
            causation_id=context.request_id.get(),
            reply_to=reply_to,
            deadline=deadline,
            sender=sender,
        )

    @property
    def asker(self) -> Asker:
        """Who sent this message and where its answer goes, to be kept for a later answer."""
        return Asker(
            id=self.id, correlation_id=self.correlation_id, reply_to=self.reply_to, traceparent=self.traceparent
        )

    def headers(self) -> dict[str, str]:
        """Broker headers: what a consumer or a person needs to know of a message without parsing it."""
        headers = {"Paved-Id": self.id, "Paved-Type": self.type, "Paved-Version": str(self.version)}
        if self.sender:
            headers["Paved-Sender"] = self.sender
        if self.traceparent:
            headers["traceparent"] = self.traceparent
        return headers

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, body: bytes) -> Envelope:
        """Parse a message body; raises ``pydantic.ValidationError`` naming what is wrong."""
        return cls.model_validate_json(body)
