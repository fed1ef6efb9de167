"""Message types, declared as typed models in the publishing service's contract module.

    class PriceChanged(Event, type="catalog.PriceChanged", version=1):
        sku: str
        price_minor: int

A consumer lists the types it accepts; anything else is parked with the reason, never dropped.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from paved.envelope import Envelope


class Message(BaseModel):
    """The data of one kind of message, with its type name and schema version."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    message_type: ClassVar[str]
    message_version: ClassVar[int]

    def __init_subclass__(cls, *, type: str | None = None, version: int = 1, **kwargs: Any) -> None:  # noqa: A002
        super().__init_subclass__(**kwargs)
        if type is not None:
            cls.message_type = type
            cls.message_version = version

    def envelope(
        self, *, caused_by: Envelope | None = None, reply_to: str | None = None, correlation_id: str | None = None
    ) -> Envelope:
        """This message in a new envelope; ``caused_by`` is the message being handled, if any."""
        return Envelope.new(
            self.message_type,
            self.model_dump(mode="json"),
            version=self.message_version,
            caused_by=caused_by,
            reply_to=reply_to,
            correlation_id=correlation_id,
        )


class Event(Message):
    """A fact: something that happened (past tense: ``OrderPlaced``). Many may react."""


class Command(Message):
    """A request to do something (imperative: ``ReserveStock``). Exactly one service handles it."""


class Reply(Message):
    """The outcome of a command, sent back to whoever asked."""


class UnacceptableMessage(Exception):
    """A message this consumer cannot take; the reason goes with it to the dead-letter stream."""


class MessageTypes:
    """The message types (and versions) one consumer accepts."""

    def __init__(self, *types: type[Message]) -> None:
        self._types = {(t.message_type, t.message_version): t for t in types}

    def parse(self, envelope: Envelope) -> Message:
        """The typed message in ``envelope``; raises ``UnacceptableMessage`` saying why not."""
        model = self._types.get((envelope.type, envelope.version))
        if model is None:
            versions = sorted(v for (t, v) in self._types if t == envelope.type)
            if versions:
                raise UnacceptableMessage(
                    f"unsupported version {envelope.version} of {envelope.type} (accepted: {versions})"
                )
            raise UnacceptableMessage(f"unknown message type {envelope.type!r}")
        try:
            return model.model_validate(envelope.data)
        except ValidationError as exc:
            raise UnacceptableMessage(f"{envelope.type} v{envelope.version} data is not valid: {exc}") from exc
