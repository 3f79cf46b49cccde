from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from campaign.db import UTCDateTime, only_on, str_enum, utcnow


class WorkerPing(SQLModel, table=True):
    """A round trip through the broker to a worker: requested by the app, completed by the task.

    Beat's periodic heartbeat writes one too, so the health page can say when a
    worker last ran anything.
    """

    __tablename__ = "worker_ping"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    worker: str = Field(default="", max_length=200)


class OutboxKind(StrEnum):
    letter = "letter"
    personalised_letter = "personalised_letter"
    question_suggestion = "question_suggestion"
    signing_invitation = "signing_invitation"
    chaser = "chaser"
    digest = "digest"
    other = "other"


class OutboxStatus(StrEnum):
    scheduled = "scheduled"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    cancelled = "cancelled"


class OutboxMessage(SQLModel, table=True):
    """One outgoing e-mail, and the single source of truth about whether it has gone.

    ``next_attempt_at`` is when the row is next due: the scheduled time, a retry time,
    or, while ``sending``, the end of the worker's lease (so a row whose worker died is
    due again). A dispatcher's claim on a due message is a row of ``outbox_claim``, so
    claiming writes nothing here; ``claimed_by`` names the claim that started the message,
    and a worker only records the answer for rows that still carry its claim.
    ``send_started_at`` is set just before the message goes to the server: from then on it
    can no longer be cancelled.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        # The dispatcher's scan: equality on status, range on next_attempt_at, paused read from the index.
        sa.Index("ix_outbox_message_due", "status", "next_attempt_at", "paused"),
        # The follow-up scan: a campaign's messages sent in a window of time.
        sa.Index("ix_outbox_message_campaign_id_sent_at", "campaign_id", "sent_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id", ondelete="SET NULL")
    letter_id: int | None = Field(default=None, foreign_key="letter.id", index=True, ondelete="SET NULL",
                                  description="The letter this message delivers, for letters sent from the app.")
    kind: OutboxKind = Field(default=OutboxKind.other, sa_type=str_enum(OutboxKind))
    sender: str = Field(max_length=400)
    recipient_address: str = Field(max_length=320)
    recipient_name: str = Field(default="", max_length=200)
    recipient_domain: str = Field(default="", max_length=255)
    reply_to: str = Field(default="", max_length=320)
    subject: str = Field(max_length=998)
    text_body: str = Field(default="", sa_type=sa.Text)
    html_body: str = Field(default="", sa_type=sa.Text)
    message_id: str | None = Field(default=None, max_length=250, sa_column_kwargs={"unique": True})
    in_reply_to: str = Field(default="", max_length=250)
    thread_references: str = Field(default="", sa_type=sa.Text, description="The References header (chasers).")
    scheduled_at: datetime = Field(sa_type=UTCDateTime)
    status: OutboxStatus = Field(default=OutboxStatus.scheduled, sa_type=str_enum(OutboxStatus))
    paused: bool = False
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lease_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    send_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", sa_type=sa.Text)
    smtp_response: str = Field(default="", sa_type=sa.Text)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OutboxClaim(SQLModel, table=True):
    """A dispatcher's hold on a due message, until its lease runs out.

    Kept apart from the wide, many-indexed outbox row so that claiming a thousand due
    messages writes a thousand small rows instead of rewriting the messages. A message
    is claimed again only once its claims' leases have run out (or were given up). A
    worker starts a message only under its latest claim, and only while the message row
    itself says it may go (due, not paused, not started by someone else), so two claims
    can never both send it. The claims of the last minute also count the sends per domain
    and campaign for the rate limits; older ones are swept by beat's heartbeat.
    """

    __tablename__ = "outbox_claim"
    __table_args__ = (
        # The rate limits count the claims of the last minute per domain and per campaign: on
        # PostgreSQL from this index alone. One index on the time rather than a (domain, time)
        # and a (campaign, time) one: inserting 1,000 claims cost PostgreSQL a third more with
        # those two (EXPLAIN ANALYZE, median of 21).
        only_on("postgresql", sa.Index("ix_outbox_claim_claimed_at", "claimed_at",
                                       postgresql_include=["recipient_domain", "campaign_id"])),
        # SQLite has no included columns: the keys follow the time in the index instead (without
        # them, a dispatch with a minute of 42,000 claims read each claim's row: 129 against 57 ms).
        only_on("sqlite", sa.Index("ix_outbox_claim_claimed_at_keys", "claimed_at", "recipient_domain",
                                   "campaign_id")),
    )

    # No foreign key: its check cost PostgreSQL a lookup of the message per claim, a third of a
    # dispatch; claims are only written for messages just read, and outbox rows are never deleted.
    message_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    token: str = Field(max_length=100, primary_key=True)
    claimed_at: datetime = Field(sa_type=UTCDateTime)
    lease_until: datetime = Field(sa_type=UTCDateTime)
    recipient_domain: str = Field(default="", max_length=255)
    campaign_id: int | None = None  # copied from the message for the per-campaign limit, no lookup needed


class OutboxAttachment(SQLModel, table=True):
    """A file sent with a message (the letter's PDF), kept apart so the outbox rows stay small."""

    __tablename__ = "outbox_attachment"

    id: int | None = Field(default=None, primary_key=True)
    outbox_message_id: int = Field(foreign_key="outbox_message.id", index=True, ondelete="CASCADE")
    filename: str = Field(max_length=255)
    content_type: str = Field(default="application/octet-stream", max_length=127)
    content: bytes = Field(sa_type=sa.LargeBinary)


class OutboxPause(SQLModel, table=True):
    """A campaign whose sends are paused: its rows are held, and new ones are scheduled paused."""

    __tablename__ = "outbox_pause"

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True, ondelete="CASCADE")
    paused_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    paused_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")


class DeliveryOutcome(StrEnum):
    sending = "sending"  # started; a worker killed now leaves it so
    sent = "sent"
    retry = "retry"  # temporary failure, tried again later
    failed = "failed"  # permanent failure, or out of attempts


class DeliveryAttempt(SQLModel, table=True):
    """One try at handing a message to the mail server, with the server's answer."""

    __tablename__ = "delivery_attempt"

    id: int | None = Field(default=None, primary_key=True)
    outbox_message_id: int = Field(foreign_key="outbox_message.id", index=True, ondelete="CASCADE")
    number: int
    worker: str = Field(default="", max_length=200)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: DeliveryOutcome = Field(default=DeliveryOutcome.sending, sa_type=str_enum(DeliveryOutcome))
    smtp_code: int | None = None
    response: str = Field(default="", sa_type=sa.Text)
