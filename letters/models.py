"""Letter templates, letters and their versions, cited evidence, questions, invitations, signatures.

A letter moves draft → in_review → approved → open_for_signatures → signatures_closed →
scheduled → sent (or withdrawn). Every saved change is a ``LetterVersion``; ``letter.version``
is the optimistic lock a save must name. When a letter is approved the evidence versions
it cites are frozen in ``letter_citation``, so what is signed and sent is what was approved.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Field, SQLModel

from campaign.db import UTCDateTime, str_enum, utcnow
from letters.questions import Chamber


class LetterKind(StrEnum):
    head_of_government = "head_of_government"
    open_letter = "open_letter"
    member_to_minister = "member_to_minister"
    commons_written_question = "commons_written_question"
    lords_written_question = "lords_written_question"
    oral_question = "oral_question"
    ep_written_question = "ep_written_question"
    us_congressional_letter = "us_congressional_letter"
    signatory_invitation = "signatory_invitation"
    follow_up_chaser = "follow_up_chaser"

    @property
    def label(self) -> str:
        return {
            "head_of_government": "Letter to a head of government",
            "open_letter": "Open letter",
            "member_to_minister": "Letter from a member to a minister",
            "commons_written_question": "UK written question (Commons)",
            "lords_written_question": "UK written question (Lords)",
            "oral_question": "UK oral question",
            "ep_written_question": "European Parliament written question",
            "us_congressional_letter": "US congressional letter",
            "signatory_invitation": "Signatory invitation",
            "follow_up_chaser": "Follow-up chaser",
        }[self.value]


class LetterState(StrEnum):
    draft = "draft"
    in_review = "in_review"
    approved = "approved"
    open_for_signatures = "open_for_signatures"
    signatures_closed = "signatures_closed"
    scheduled = "scheduled"
    sent = "sent"
    withdrawn = "withdrawn"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class LetterTemplate(SQLModel, table=True):
    __tablename__ = "letter_template"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, sa_column_kwargs={"unique": True})
    kind: LetterKind = Field(sa_type=str_enum(LetterKind), index=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    subject: str = Field(default="", sa_type=sa.Text)
    body: str = Field(sa_type=sa.Text)
    is_default: bool = Field(default=False, description="Shipped under templates/letters/ and loaded on first run.")
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Letter(SQLModel, table=True):
    __tablename__ = "letter"
    __table_args__ = (sa.Index("ix_letter_campaign_id_state", "campaign_id", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE")
    template_id: int | None = Field(default=None, foreign_key="letter_template.id", ondelete="SET NULL")
    kind: LetterKind = Field(sa_type=str_enum(LetterKind))
    title: str = Field(max_length=300)
    subject: str = Field(default="", sa_type=sa.Text)
    body: str = Field(sa_type=sa.Text)
    addressees: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON,
                                             description="[{person_id} or {name, office, address_lines, ...}]")
    recipient_segment_id: int | None = Field(default=None, foreign_key="segment.id", ondelete="SET NULL")
    sender_name: str = Field(default="", max_length=200)
    sender_organisation: str = Field(default="", max_length=300)
    sender_email: str = Field(default="", max_length=320)
    state: LetterState = Field(default=LetterState.draft, sa_type=str_enum(LetterState))
    version: int = Field(default=1, description="The optimistic lock: a save names the version it was based on.")
    publish: bool = Field(default=False, description="Show on a public page once sent (open letters).")
    signing_closes_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    scheduled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    approved_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LetterVersion(SQLModel, table=True):
    """The letter's text as it stood after one save."""

    __tablename__ = "letter_version"
    __table_args__ = (sa.UniqueConstraint("letter_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    letter_id: int = Field(foreign_key="letter.id", ondelete="CASCADE")
    version: int
    title: str = Field(max_length=300)
    subject: str = Field(default="", sa_type=sa.Text)
    body: str = Field(sa_type=sa.Text)
    addressees: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    state: LetterState = Field(sa_type=str_enum(LetterState))
    change_note: str = Field(default="", max_length=500)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_by_label: str = Field(default="", max_length=320)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LetterCitation(SQLModel, table=True):
    """An evidence version a letter cites, frozen when the letter is approved."""

    __tablename__ = "letter_citation"

    letter_id: int = Field(foreign_key="letter.id", primary_key=True, ondelete="CASCADE")
    slug: str = Field(max_length=80, primary_key=True)
    evidence_version_id: int = Field(foreign_key="evidence_version.id", index=True)
    number: int


class QuestionState(StrEnum):
    draft = "draft"
    suggested = "suggested"
    tabled = "tabled"
    answered = "answered"
    withdrawn = "withdrawn"


class Question(SQLModel, table=True):
    __tablename__ = "question"
    __table_args__ = (sa.Index("ix_question_campaign_id_state", "campaign_id", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE")
    chamber: Chamber = Field(sa_type=str_enum(Chamber))
    department: str = Field(default="", max_length=200)
    addressee: str = Field(default="", max_length=200, description="The minister's title, or the EP institution.")
    text: str = Field(sa_type=sa.Text)
    named_day: bool = False
    state: QuestionState = Field(default=QuestionState.draft, sa_type=str_enum(QuestionState))
    asking_member_id: int | None = Field(default=None, foreign_key="person.id", index=True, ondelete="SET NULL")
    tabled_reference: str = Field(default="", max_length=80)
    tabled_date: date | None = None
    answer_due_date: date | None = None
    answered_date: date | None = None
    answer_text: str = Field(default="", sa_type=sa.Text)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SigningInvitation(SQLModel, table=True):
    """A personal signing link: one person, one letter; the link carries the id and a nonce."""

    __tablename__ = "signing_invitation"
    __table_args__ = (sa.UniqueConstraint("letter_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    letter_id: int = Field(foreign_key="letter.id", ondelete="CASCADE")
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    nonce: str = Field(max_length=64)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    last_chased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    chase_count: int = 0
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SignatureStatus(StrEnum):
    signed = "signed"
    declined = "declined"
    correction_requested = "correction_requested"
    withdrawn = "withdrawn"


class Signature(SQLModel, table=True):
    """A signer's answer; one per person and letter, so a link used twice signs once."""

    __tablename__ = "signature"
    __table_args__ = (sa.UniqueConstraint("letter_id", "person_id"),
                      sa.Index("ix_signature_letter_id_status", "letter_id", "status"))

    id: int | None = Field(default=None, primary_key=True)
    letter_id: int = Field(foreign_key="letter.id", ondelete="CASCADE")
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    invitation_id: int | None = Field(default=None, foreign_key="signing_invitation.id", ondelete="SET NULL")
    status: SignatureStatus = Field(sa_type=str_enum(SignatureStatus))
    printed_name: str = Field(max_length=300)
    printed_title: str = Field(default="", max_length=300)
    correction_note: str = Field(default="", sa_type=sa.Text)
    responded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# --- responses and follow-ups -----------------------------------------------------


class ResponseKind(StrEnum):
    reply = "reply"
    meeting = "meeting"
    signed = "signed"
    declined = "declined"
    question_tabled = "question_tabled"
    question_answered = "question_answered"
    no_reply = "no_reply"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class ResponseChannel(StrEnum):
    email = "email"
    letter = "letter"
    phone = "phone"
    meeting = "meeting"
    social = "social"
    other = "other"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Response(SQLModel, table=True):
    """What a person said or did in answer to the campaign, as a volunteer logged it."""

    __tablename__ = "response"
    __table_args__ = (sa.Index("ix_response_person_id_letter_id", "person_id", "letter_id"),
                      sa.Index("ix_response_campaign_id_occurred_date", "campaign_id", "occurred_date"))

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE")
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    letter_id: int | None = Field(default=None, foreign_key="letter.id", index=True, ondelete="SET NULL")
    question_id: int | None = Field(default=None, foreign_key="question.id", index=True, ondelete="SET NULL")
    kind: ResponseKind = Field(sa_type=str_enum(ResponseKind))
    channel: ResponseChannel = Field(sa_type=str_enum(ResponseChannel))
    occurred_date: date
    summary: str = Field(default="", sa_type=sa.Text)
    ask_id: int | None = Field(default=None, foreign_key="ask.id", ondelete="SET NULL")
    stance_id: int | None = Field(default=None, foreign_key="stance.id", ondelete="SET NULL",
                                  description="The stance this response recorded, if it changed one.")
    event_id: int | None = Field(default=None, foreign_key="event.id", ondelete="SET NULL")
    logged_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    logged_by_label: str = Field(default="", max_length=320)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FollowUpSource(StrEnum):
    """What a rule watches: sent letters (and letter e-mails) or signing invitations."""

    letter = "letter"
    signing_invitation = "signing_invitation"


class FollowUpAction(StrEnum):
    remind_owner = "remind_owner"
    queue_chaser = "queue_chaser"


class FollowUpRule(SQLModel, table=True):
    """After ``days`` without a logged response to a sent item of a campaign, do ``action``."""

    __tablename__ = "follow_up_rule"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "applies_to"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE")
    applies_to: FollowUpSource = Field(sa_type=str_enum(FollowUpSource))
    days: int = 14
    action: FollowUpAction = Field(default=FollowUpAction.remind_owner, sa_type=str_enum(FollowUpAction))
    enabled: bool = True
    scanned_through: datetime | None = Field(
        default=None, sa_type=UTCDateTime,
        description="Sent items up to this time have been looked at; the next scan starts after it.")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FollowUpKind(StrEnum):
    reminder = "reminder"
    chaser = "chaser"


class FollowUpStatus(StrEnum):
    open = "open"  # a reminder to act, or a chaser waiting for staff approval
    closed = "closed"
    chaser_queued = "chaser_queued"  # approved: the chaser is an outbox row


class FollowUp(SQLModel, table=True):
    """One sent item that has had no response for the rule's days.

    ``source_key`` names the item (and, for invitations, the chasing round), so a scan
    that runs twice finds the row it made the first time and makes nothing new.
    """

    __tablename__ = "follow_up"
    __table_args__ = (sa.Index("ix_follow_up_status_due_at", "status", "due_at"),
                      sa.Index("ix_follow_up_person_id_status", "person_id", "status"))

    id: int | None = Field(default=None, primary_key=True)
    source_key: str = Field(max_length=120, sa_column_kwargs={"unique": True})
    campaign_id: int = Field(foreign_key="campaign.id", index=True, ondelete="CASCADE")
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    letter_id: int | None = Field(default=None, foreign_key="letter.id", index=True, ondelete="CASCADE")
    outbox_message_id: int | None = Field(default=None, foreign_key="outbox_message.id", ondelete="SET NULL")
    invitation_id: int | None = Field(default=None, foreign_key="signing_invitation.id", ondelete="CASCADE")
    rule_id: int | None = Field(default=None, foreign_key="follow_up_rule.id", ondelete="SET NULL")
    kind: FollowUpKind = Field(sa_type=str_enum(FollowUpKind))
    status: FollowUpStatus = Field(default=FollowUpStatus.open, sa_type=str_enum(FollowUpStatus))
    sent_at: datetime = Field(sa_type=UTCDateTime, description="When the item it follows up went out.")
    due_at: datetime = Field(sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by_response_id: int | None = Field(default=None, foreign_key="response.id", ondelete="SET NULL")
    chaser_outbox_id: int | None = Field(default=None, foreign_key="outbox_message.id", ondelete="SET NULL")
    approved_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
