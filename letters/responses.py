"""Logged responses: what a person said or did in answer to the campaign.

Logging one records it, optionally records the person's new stance on an ask with the
response as its source, puts a "response logged" event on the campaign's timeline,
closes the person's open follow-ups for that letter, and writes the audit log.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, select

from campaign import audit
from campaign import service as campaign_service
from campaign.db import utcnow
from campaign.errors import FieldError, InvalidInput, NotFound
from campaign.models import Ask, Campaign, EventKind
from contacts import service as contacts_service
from contacts.models import Person, Position, StanceSource
from letters.models import (FollowUp, FollowUpStatus, Letter, Question, QuestionState, Response, ResponseChannel,
                            ResponseKind)
from letters.schemas import MAX_ID

Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class ResponseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: Id
    letter_id: Id | None = None
    question_id: Id | None = None
    campaign_id: Id | None = Field(default=None, description="Needed only when neither a letter nor a question is named.")
    kind: ResponseKind
    channel: ResponseChannel
    occurred_date: date
    summary: str = Field(default="", max_length=20_000)
    ask_id: Id | None = Field(default=None, description="With position: the ask whose stance this response changes.")
    position: Position | None = None


class ResponseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_id: int
    person_id: int
    letter_id: int | None
    question_id: int | None
    kind: ResponseKind
    channel: ResponseChannel
    occurred_date: date
    summary: str
    ask_id: int | None
    stance_id: int | None
    event_id: int | None
    logged_by_id: int | None
    logged_by_label: str
    created_at: datetime


def _resolve(session: Session, response_in: ResponseCreate) -> tuple[Person | None, int | None, list[FieldError]]:
    """Check every id the response names; the campaign comes from its letter, question or ask."""
    errors: list[FieldError] = []
    person = session.get(Person, response_in.person_id)
    if person is None:
        errors.append(FieldError("person_id", f"no person {response_in.person_id}"))
    campaigns: list[tuple[str, int]] = []
    if response_in.letter_id is not None:
        letter = session.get(Letter, response_in.letter_id)
        if letter is None:
            errors.append(FieldError("letter_id", f"no letter {response_in.letter_id}"))
        else:
            campaigns.append(("letter_id", letter.campaign_id))
    if response_in.question_id is not None:
        question = session.get(Question, response_in.question_id)
        if question is None:
            errors.append(FieldError("question_id", f"no question {response_in.question_id}"))
        else:
            campaigns.append(("question_id", question.campaign_id))
    if response_in.campaign_id is not None:
        if session.get(Campaign, response_in.campaign_id) is None:
            errors.append(FieldError("campaign_id", f"no campaign {response_in.campaign_id}"))
        else:
            campaigns.append(("campaign_id", response_in.campaign_id))
    if (response_in.ask_id is None) != (response_in.position is None):
        loc = "position" if response_in.position is None else "ask_id"
        errors.append(FieldError(loc, "a stance change needs both the ask and the position"))
    if response_in.ask_id is not None:
        ask = session.get(Ask, response_in.ask_id)
        if ask is None:
            errors.append(FieldError("ask_id", f"no ask {response_in.ask_id}"))
        else:
            campaigns.append(("ask_id", ask.campaign_id))
    campaign_ids = {campaign_id for _, campaign_id in campaigns}
    if len(campaign_ids) > 1:
        first = campaigns[0][1]
        for loc, campaign_id in campaigns[1:]:
            if campaign_id != first:
                errors.append(FieldError(loc, f"belongs to another campaign than the {campaigns[0][0].removesuffix('_id')}"))
    if not campaigns and not any(e.loc in ("letter_id", "question_id", "campaign_id", "ask_id") for e in errors):
        errors.append(FieldError("campaign_id", "choose the campaign (or the letter or question answered)"))
    if response_in.occurred_date > utcnow().date():
        errors.append(FieldError("occurred_date", "is in the future"))
    return person, (campaigns[0][1] if campaigns else None), errors


def _record_on_question(session: Session, *, response: Response, actor) -> None:
    """A question tabled or answered is recorded on the question too: who asked it, when, and the answer."""
    question = session.get(Question, response.question_id)
    if response.kind == ResponseKind.question_tabled and question.state in (QuestionState.draft,
                                                                            QuestionState.suggested):
        question.state, question.asking_member_id = QuestionState.tabled, response.person_id
        question.tabled_date = response.occurred_date
    elif response.kind == ResponseKind.question_answered and question.state != QuestionState.withdrawn:
        question.state, question.answered_date = QuestionState.answered, response.occurred_date
        question.asking_member_id = question.asking_member_id or response.person_id
        question.answer_text = question.answer_text or response.summary
    else:
        return
    question.updated_at = utcnow()
    session.add(question)
    audit.record(session, actor=actor, action="question.update", entity_type="question", entity_id=question.id,
                 after={"state": question.state.value, "from_response": response.id})


def log_response(session: Session, *, response_in: ResponseCreate, actor) -> Response:
    person, campaign_id, errors = _resolve(session, response_in)
    if errors:
        raise InvalidInput("The response was not logged.", errors=errors)
    response = Response(campaign_id=campaign_id, person_id=person.id, letter_id=response_in.letter_id,
                        question_id=response_in.question_id, kind=response_in.kind, channel=response_in.channel,
                        occurred_date=response_in.occurred_date, summary=response_in.summary.strip(),
                        ask_id=response_in.ask_id, logged_by_id=getattr(actor, "id", None),
                        logged_by_label=getattr(actor, "email", None) or (actor if isinstance(actor, str) else "system"))
    session.add(response)
    session.flush()
    if response.question_id is not None:
        _record_on_question(session, response=response, actor=actor)
    if response_in.ask_id is not None:
        stance = contacts_service.record_stance(
            session, person_id=person.id, ask_id=response_in.ask_id, position=response_in.position,
            source_kind=StanceSource.response, source_response_id=response.id,
            source_note=response.summary[:2000], actor=actor)
        response.stance_id = stance.id
    event = campaign_service.record_app_event(
        session, campaign_id=campaign_id, kind=EventKind.response_logged,
        title=f"{person.name}: {response.kind.label.lower()} ({response.channel.value})",
        on=response.occurred_date, origin="responses", summary=response.summary, person_ids=[person.id],
        actor=actor)
    response.event_id = event.id
    closed = close_followups_for(session, response=response)
    session.flush()
    audit.record(session, actor=actor, action="response.log", entity_type="response", entity_id=response.id,
                 after={"person_id": person.id, "letter_id": response.letter_id, "question_id": response.question_id,
                        "kind": response.kind.value, "channel": response.channel.value,
                        "occurred_date": response.occurred_date.isoformat(), "stance_id": response.stance_id,
                        "closed_follow_ups": closed})
    return response


def close_followups_for(session: Session, *, response: Response) -> list[int]:
    """Close the person's open follow-ups this response answers.

    A response about a letter closes those on that letter; any response in the campaign
    also closes those on letter e-mails that are not tied to a letter record.
    """
    query = select(FollowUp).where(FollowUp.person_id == response.person_id,
                                   FollowUp.campaign_id == response.campaign_id,
                                   FollowUp.status == FollowUpStatus.open)
    closed: list[int] = []
    for follow_up in session.exec(query):
        if follow_up.letter_id is None or follow_up.letter_id == response.letter_id:
            follow_up.status = FollowUpStatus.closed
            follow_up.closed_at = utcnow()
            follow_up.closed_by_response_id = response.id
            closed.append(follow_up.id)
    return closed


def get_response(session: Session, *, response_id: int) -> Response:
    response = session.get(Response, response_id)
    if response is None:
        raise NotFound(f"There is no response with id {response_id}.")
    return response


def list_responses(session: Session, *, person_id: int | None = None, letter_id: int | None = None,
                   campaign_id: int | None = None, limit: int = 200) -> list[Response]:
    query = select(Response).order_by(Response.occurred_date.desc(), Response.id.desc()).limit(limit)
    if person_id is not None:
        query = query.where(Response.person_id == person_id)
    if letter_id is not None:
        query = query.where(Response.letter_id == letter_id)
    if campaign_id is not None:
        query = query.where(Response.campaign_id == campaign_id)
    return list(session.exec(query))


def people_named(session: Session, responses: list) -> dict[int, Person]:
    """The people a list of rows names, in one query."""
    ids = {row.person_id for row in responses}
    return {p.id: p for p in session.exec(select(Person).where(Person.id.in_(ids)))} if ids else {}


def form_choices(session: Session, *, person_id: int | None = None) -> dict:
    """What the "log a response" form offers: the person (if named), letters, questions, campaigns, asks."""
    from letters.models import LetterState

    person = session.get(Person, person_id) if person_id else None
    letters = session.exec(select(Letter).where(Letter.state != LetterState.draft)
                           .order_by(Letter.updated_at.desc()).limit(200)).all()
    questions = session.exec(select(Question).order_by(Question.id.desc()).limit(200)).all()
    campaigns = session.exec(select(Campaign).order_by(Campaign.name)).all()
    asks = session.exec(select(Ask).order_by(Ask.campaign_id, Ask.position)).all()
    return {"person": person, "letters": letters, "questions": questions, "campaigns": campaigns, "asks": asks,
            "kinds": list(ResponseKind), "channels": list(ResponseChannel), "positions": list(Position)}
