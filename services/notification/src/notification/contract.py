"""What notification promises the storefront and admins: its HTTP response models.

notification publishes no events and takes no commands; the events it reads are order's (see
``order_events``). Changes here are compatible only (new optional fields); a breaking change is a new
version beside this one.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

MESSAGE_ID_PATTERN = r"^msg_[0-9a-f]{32}$"

MessageKind = Literal["order_placed", "order_dispatched", "order_rejected", "order_cancelled"]
MessageStatus = Literal["queued", "sent", "failed"]


class CustomerMessage(BaseModel):
    """An email to the signed-in customer, as they may see it."""

    id: str = Field(examples=["msg_6f1c0f5e0d9a4b2c8e7a1b3c5d7e9f01"])
    kind: MessageKind
    order_id: str = Field(description="the order it is about")
    subject: str
    body: str = Field(description="plain text")
    status: MessageStatus = Field(description="queued: not sent yet; sent; failed: could not be sent")
    created_at: AwareDatetime
    sent_at: AwareDatetime | None


class CustomerMessagePage(BaseModel):
    items: list[CustomerMessage] = Field(description="newest first")
    next_cursor: int | None = Field(description="pass as `after` for the next page; null on the last page")


class MessageOut(CustomerMessage):
    """An email as admins see it: with where it came from and how its sending went."""

    recipient: str = Field(description="the customer's id")
    event_id: str = Field(description="the id of the event it was written for")
    attempts: int
    next_attempt_at: AwareDatetime = Field(description="while queued: when it is tried next")
    last_error: str | None = Field(description="why the last failed attempt failed")


class MessagePage(BaseModel):
    items: list[MessageOut] = Field(description="newest first")
    next_cursor: int | None = Field(description="pass as `after` for the next page; null on the last page")
