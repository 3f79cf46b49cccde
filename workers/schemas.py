from __future__ import annotations

import base64
import binascii
from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from workers.models import DeliveryOutcome, OutboxKind, OutboxStatus


class AttachmentIn(BaseModel):
    filename: str = Field(max_length=255)
    content_type: str = Field(default="application/octet-stream", max_length=127, pattern=r"^[\w.+-]+/[\w.+-]+$")
    content_base64: str

    @field_validator("content_base64")
    @classmethod
    def _base64(cls, value: str) -> str:
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as error:
            raise ValueError("not valid base64") from error
        return value

    def content(self) -> bytes:
        return base64.b64decode(self.content_base64)


class OutboxCreate(BaseModel):
    recipient_address: str = Field(max_length=320)
    recipient_name: str = Field(default="", max_length=200)
    subject: str = Field(max_length=998)
    text_body: str = ""
    html_body: str = ""
    kind: OutboxKind = OutboxKind.other
    campaign_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    scheduled_at: datetime = Field(description="With an offset, or without one to mean the campaign's time zone.")
    reply_to: str | None = Field(default=None, max_length=320)
    in_reply_to: str = Field(default="", max_length=250)
    references: str = ""
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)


class OutboxReschedule(BaseModel):
    scheduled_at: datetime = Field(description="With an offset, or without one to mean the campaign's time zone.")


class OutboxRead(BaseModel):
    id: int
    campaign_id: int | None
    kind: OutboxKind
    sender: str
    recipient_address: str
    recipient_name: str
    reply_to: str
    subject: str
    message_id: str | None
    in_reply_to: str
    scheduled_at: datetime
    status: OutboxStatus
    paused: bool
    attempts: int
    next_attempt_at: datetime
    last_error: str
    smtp_response: str
    created_at: datetime
    sent_at: datetime | None


class DeliveryAttemptRead(BaseModel):
    number: int
    worker: str
    started_at: datetime
    finished_at: datetime | None
    outcome: DeliveryOutcome
    smtp_code: int | None
    response: str


class OutboxDetail(OutboxRead):
    text_body: str
    html_body: str
    delivery_attempts: list[DeliveryAttemptRead]


class OutboxCounts(BaseModel):
    counts: dict[OutboxStatus, int]
    paused_campaign_ids: list[int]


class CampaignSendsPaused(BaseModel):
    campaign_id: int
    paused: bool
    messages: int
