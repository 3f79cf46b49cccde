"""API input and output for letters, templates, questions and signatures."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from letters.models import LetterKind, LetterState, QuestionState, SignatureStatus
from letters.questions import Chamber

MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def _no_nul(value: Any, loc: str) -> None:
    if isinstance(value, str) and "\x00" in value:
        raise ValueError(f"{loc or 'text'}: text cannot contain NUL characters")
    if isinstance(value, dict):
        for key, item in value.items():
            _no_nul(item, f"{loc}.{key}" if loc else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _no_nul(item, f"{loc}[{index}]")


class _Input(BaseModel):
    """Refuses what no database column can store (PostgreSQL text holds no NUL)."""

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        _no_nul(data, "")
        return data


class Addressee(_Input):
    """A recipient: a person in the directory, or someone written out in full (the Prime Minister)."""


    person_id: Id | None = None
    name: str = Field(default="", max_length=300)
    honorific_prefix: str = Field(default="", max_length=100)
    honorific_suffix: str = Field(default="", max_length=100)
    given_name: str = Field(default="", max_length=200)
    family_name: str = Field(default="", max_length=200)
    office: str = Field(default="", max_length=300)
    address_lines: list[Annotated[str, Field(max_length=300)]] = Field(default_factory=list, max_length=8)
    email: str = Field(default="", max_length=320)


class LetterTemplateCreate(_Input):
    slug: str = Field(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9-]*$")
    kind: LetterKind
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    subject: str = Field(default="", max_length=5000)
    body: str = Field(min_length=1, max_length=100_000)


class LetterTemplateUpdate(_Input):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    subject: str | None = Field(default=None, max_length=5000)
    body: str | None = Field(default=None, min_length=1, max_length=100_000)


class LetterTemplateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    slug: str
    kind: LetterKind
    name: str
    description: str
    subject: str
    body: str
    is_default: bool


class LetterCreate(_Input):
    campaign_id: Id
    title: str = Field(min_length=1, max_length=300)
    template_id: Id | None = None
    kind: LetterKind | None = None
    subject: str | None = Field(default=None, max_length=5000)
    body: str | None = Field(default=None, max_length=100_000)
    addressees: list[Addressee] = Field(default_factory=list, max_length=500)
    recipient_segment_id: Id | None = None
    sender_name: str = Field(default="", max_length=200)
    sender_organisation: str = Field(default="", max_length=300)
    sender_email: str = Field(default="", max_length=320)
    publish: bool = False


class LetterUpdate(_Input):
    """A save names the version it was based on; a save based on an older one is refused."""

    version: Id
    title: str | None = Field(default=None, min_length=1, max_length=300)
    subject: str | None = Field(default=None, max_length=5000)
    body: str | None = Field(default=None, max_length=100_000)
    addressees: list[Addressee] | None = Field(default=None, max_length=500)
    recipient_segment_id: Id | None = None
    sender_name: str | None = Field(default=None, max_length=200)
    sender_organisation: str | None = Field(default=None, max_length=300)
    sender_email: str | None = Field(default=None, max_length=320)
    publish: bool | None = None
    change_note: str = Field(default="", max_length=500)


class LetterTransition(_Input):
    to: LetterState
    scheduled_at: datetime | None = None
    note: str = Field(default="", max_length=500)


class LetterRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_id: Id
    template_id: int | None
    kind: LetterKind
    title: str
    subject: str
    body: str
    addressees: list[dict[str, Any]]
    recipient_segment_id: int | None
    state: LetterState
    version: int
    publish: bool
    scheduled_at: datetime | None
    sent_at: datetime | None
    approved_at: datetime | None
    created_at: datetime
    updated_at: datetime


class LetterVersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    title: str
    subject: str
    body: str
    state: LetterState
    change_note: str
    created_by_label: str
    created_at: datetime


class QuestionCreate(_Input):
    campaign_id: Id
    chamber: Chamber
    text: str = Field(min_length=1, max_length=5000)
    addressee: str = Field(default="", max_length=200, description="EP questions: Commission, Council or VP/HR.")
    named_day: bool = False


class QuestionUpdate(_Input):
    """Recording what happened to a question: tabled (by whom, reference, dates) and answered."""

    text: str | None = Field(default=None, min_length=1, max_length=5000)
    state: QuestionState | None = None
    asking_member_id: Id | None = None
    tabled_reference: str | None = Field(default=None, max_length=80)
    tabled_date: date | None = None
    answer_due_date: date | None = None
    answered_date: date | None = None
    answer_text: str | None = Field(default=None, max_length=50_000)


class QuestionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_id: Id
    chamber: Chamber
    department: str
    addressee: str
    text: str
    named_day: bool
    state: QuestionState
    asking_member_id: int | None
    tabled_reference: str
    tabled_date: date | None
    answer_due_date: date | None
    answered_date: date | None
    answer_text: str


class QuestionCheck(_Input):
    chamber: Chamber
    text: str = Field(max_length=5000)
    addressee: str = ""


class InvitationCreate(_Input):
    person_ids: list[Id] = Field(default_factory=list, max_length=2000)
    segment_id: Id | None = None
    days_valid: int = Field(default=21, ge=1, le=90)
    send_email: bool = Field(default=True, description="E-mail each newly invited person their link (outbox).")
    send_at: AwareDatetime | None = Field(default=None, description="When the e-mails go (default: now).")


class InvitationRead(BaseModel):
    invitation_id: int
    person_id: int
    name: str
    link: str
    expires_at: datetime


class SignatureRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    person_id: int
    status: SignatureStatus
    printed_name: str
    printed_title: str
    correction_note: str
    responded_at: datetime


class QuestionSuggestionCreate(_Input):
    """Suggest a batch of questions to members who might table them: one e-mail per member."""

    question_ids: list[Id] = Field(min_length=1, max_length=50)
    person_ids: list[Id] = Field(min_length=1, max_length=2000)
    scheduled_at: AwareDatetime
    note: str = Field(default="", max_length=5000)


class QuestionSuggestionRead(BaseModel):
    queued: int
    outbox_message_ids: list[int]
