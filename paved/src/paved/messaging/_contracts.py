"""Message types, declared as typed models in the publishing service's contract module.

    class PriceChanged(Event, type="catalog.PriceChanged", version=1):
        sku: str
        price_minor: int

A message knows its subject: an event's is ``<owner>.events.<name-in-kebab-case>``
(``catalog.events.price-changed``), a command's ``<owner>.commands.<name>``, where the owner is the
part of the type before the dot; ``subject=`` names another. A reply has none: it goes where its
command's sender asked. A consumer lists the types it accepts; anything else is parked with the
reason, never dropped.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from paved._envelope import Cause, Envelope

_WORD_START = re.compile(r"(?<!^)(?=[A-Z])")


def _kebab(name: str) -> str:
    return _WORD_START.sub("-", name).lower()


class Message(BaseModel):
    """The data of one kind of message, with its type name and schema version."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    message_type: ClassVar[str]
    message_version: ClassVar[int]
    # Where it is published; None for a reply, which goes to its command's reply_to.
    message_subject: ClassVar[str | None] = None
    # The subject's middle word for this kind of message ("events", "commands"); None: no default subject.
    _subject_kind: ClassVar[str | None] = None

    def __init_subclass__(
        cls,
        *,
        type: str | None = None,  # noqa: A002 - the envelope's field name
        version: int = 1,
        subject: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        if type is None:
            return
        owner, dot, name = type.rpartition(".")
        if not dot or not owner or not name:
            raise TypeError(f"message type {type!r} must be '<owner>.<Name>', e.g. 'catalog.PriceChanged'")
        cls.message_type = type
        cls.message_version = version
        if subject is not None:
            cls.message_subject = subject
        elif cls._subject_kind is not None:
            cls.message_subject = f"{owner}.{cls._subject_kind}.{_kebab(name)}"

    def envelope(
        self,
        *,
        caused_by: Cause | None = None,
        reply_to: str | None = None,
        correlation_id: str | None = None,
        deadline: datetime | None = None,
        sender: str | None = None,
    ) -> Envelope:
        """This message in a new envelope; ``caused_by`` is the message being handled, if any.

        ``sender`` is the sending service: paved's outbox sets it (a test that stands in for a partner
        names the partner).
        """
        return Envelope.new(
            self.message_type,
            self.model_dump(mode="json"),
            version=self.message_version,
            caused_by=caused_by,
            reply_to=reply_to,
            correlation_id=correlation_id,
            deadline=deadline,
            sender=sender,
        )


class Event(Message):
    """A fact: something that happened (past tense: ``OrderPlaced``). Many may react."""

    _subject_kind = "events"


class Command(Message):
    """A request to do something (imperative: ``ReserveStock``). Exactly one service handles it."""

    _subject_kind = "commands"


class Reply(Message):
    """The outcome of a command, sent back to whoever asked."""


class DeadlineExpired(Reply, type="paved.DeadlineExpired"):
    """paved's answer to a command that arrived after its deadline: it was not carried out. The asker
    continues as from a timeout (``Requests.on_timeout``), at once rather than at its own deadline."""

    command_type: str
    deadline: AwareDatetime


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
