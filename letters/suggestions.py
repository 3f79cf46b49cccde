"""Suggesting questions to members who might table them.

Staff pick a batch of drafted questions (usually one department's) and the members who
support an ask in the questions' chamber; each member gets one personal e-mail listing
the questions in the chamber's form, with a note from the campaign. The questions are
then "suggested"; when a member tables one and it is answered, a volunteer logs it as a
response and the question records the reference, dates and answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from sqlmodel import Session, select

from campaign import audit
from campaign.errors import FieldError, InvalidInput
from campaign.models import Ask, Campaign
from contacts import service as contacts_service
from contacts.models import OrgClassification, Person, Position
from contacts.schemas import PersonFilter
from letters.models import Question, QuestionState
from letters.questions import Chamber
from letters.rendering import Recipient
from letters.rendering.document import salutation_for
from workers import outbox
from workers.models import OutboxKind, OutboxMessage

SUPPORTIVE = (Position.champion, Position.supportive, Position.leaning_for)
HOUSE_NAMES = {"commons": "House of Commons", "lords": "House of Lords", "ep": "European Parliament"}
DEFAULT_NOTE = ("We are writing to members who have supported {campaign} to ask whether you would consider "
                "tabling one or more of the questions below. If you table one, a reply with its reference "
                "lets us follow the answer.")
SUGGESTABLE = (QuestionState.draft, QuestionState.suggested)


@dataclass
class Candidate:
    person: Person
    chamber: str
    party: str


def house_of(chamber: Chamber) -> str:
    return HOUSE_NAMES[chamber.value.split("_")[0]]


def _chamber_ids(session: Session, chamber: Chamber) -> list[int]:
    name = house_of(chamber).lower()
    organisations = contacts_service.list_organizations(
        session, classification=[OrgClassification.chamber, OrgClassification.parliament])
    return [org.id for org in organisations if name in org.name.lower()]


def candidates(session: Session, *, ask_id: int, chamber: Chamber, limit: int = 500) -> list[Candidate]:
    """Current members of the chamber with an address whose stance on the ask is supportive or better."""
    chamber_ids = _chamber_ids(session, chamber)
    if not chamber_ids:
        return []
    person_filter = PersonFilter(ask_id=ask_id, stance=list(SUPPORTIVE), chamber=chamber_ids, has_email=True,
                                 current_only=True)
    found: list[Candidate] = []
    for row in contacts_service.iter_people(session, person_filter=person_filter):
        seat = row.seat
        found.append(Candidate(person=row.person, chamber=seat.organization.name if seat else "", party=row.party))
        if len(found) >= limit:
            break
    return found


def _questions(session: Session, question_ids: Sequence[int]) -> tuple[list[Question], list[FieldError]]:
    if not question_ids:
        return [], [FieldError("question_ids", "choose at least one question")]
    questions = list(session.exec(select(Question).where(Question.id.in_(list(question_ids)))
                                  .order_by(Question.id)))
    errors = [FieldError("question_ids", f"no question {qid}") for qid in sorted(set(question_ids))
              if qid not in {q.id for q in questions}]
    errors += [FieldError("question_ids", f"question {q.id} is {q.state.value}; only drafts and suggested "
                                          "questions can be suggested")
               for q in questions if q.state not in SUGGESTABLE]
    if len({q.campaign_id for q in questions}) > 1:
        errors.append(FieldError("question_ids", "the questions belong to different campaigns"))
    if len({q.chamber for q in questions}) > 1:
        errors.append(FieldError("question_ids", "the questions are for different chambers; suggest them separately"))
    return questions, errors


def compose(*, campaign: Campaign, person: Person, questions: Sequence[Question], note: str,
            sender_name: str) -> tuple[str, str, str]:
    """The subject, text and HTML of one member's suggestion."""
    recipient = Recipient(name=person.name, given_name=person.given_name, family_name=person.family_name,
                          honorific_prefix=person.honorific_prefix, honorific_suffix=person.honorific_suffix,
                          person_id=person.id)
    salutation = salutation_for(recipient)
    intro = (note or DEFAULT_NOTE).replace("{campaign}", campaign.name)
    kind = questions[0].chamber.label
    numbered = [f"{n}. {q.text}" for n, q in enumerate(questions, start=1)]
    sign_off = [line for line in ("Yours sincerely,", sender_name, campaign.name) if line]
    subject = (f"A question you might table: {campaign.name}" if len(questions) == 1
               else f"{len(questions)} questions you might table: {campaign.name}")
    text = "\n\n".join([f"{salutation},", intro, f"{kind}:", "\n\n".join(numbered), "\n".join(sign_off)]) + "\n"
    html = "".join([f"<p>{escape(salutation)},</p>", f"<p>{escape(intro)}</p>",
                    f"<p><strong>{escape(kind)}</strong></p>",
                    "<ol>", *(f"<li>{escape(q.text)}</li>" for q in questions), "</ol>",
                    f"<p>{'<br>'.join(escape(line) for line in sign_off)}</p>"])
    return subject, text, html


def suggest(session: Session, *, question_ids: Sequence[int], person_ids: Sequence[int], scheduled_at: datetime,
            note: str = "", actor) -> list[OutboxMessage]:
    """Queue one personal e-mail per member listing the questions; mark the questions suggested."""
    questions, errors = _questions(session, question_ids)
    people = {p.id: p for p in session.exec(select(Person).where(Person.id.in_(list(person_ids))))} \
        if person_ids else {}
    errors += [FieldError("person_ids", f"no person {pid}") for pid in person_ids if pid not in people]
    errors += [FieldError("person_ids", f"{p.name} has no e-mail address") for p in people.values() if not p.email]
    if not person_ids:
        errors.append(FieldError("person_ids", "choose at least one member"))
    if scheduled_at is None or scheduled_at.tzinfo is None:
        errors.append(FieldError("scheduled_at", "give a time with its time zone"))
    if errors:
        raise InvalidInput("The suggestions could not be queued.", errors=errors)
    campaign = session.get(Campaign, questions[0].campaign_id)
    sender_name = getattr(actor, "name", "") or ""
    queued = []
    for person_id in dict.fromkeys(person_ids):
        person = people[person_id]
        subject, text, html = compose(campaign=campaign, person=person, questions=questions, note=note,
                                      sender_name=sender_name)
        queued.append(outbox.schedule(
            session, recipient_address=person.email, recipient_name=person.name, subject=subject, text_body=text,
            html_body=html, scheduled_at=scheduled_at, kind=OutboxKind.question_suggestion,
            campaign_id=campaign.id, actor=actor))
    for question in questions:
        question.state = QuestionState.suggested
        session.add(question)
    session.flush()
    audit.record(session, actor=actor, action="question.suggest", entity_type="question",
                 entity_id=",".join(str(q.id) for q in questions),
                 after={"people": len(queued), "scheduled_at": scheduled_at})
    return queued


def asks_of(session: Session, *, campaign_id: int) -> list[Ask]:
    return list(session.exec(select(Ask).where(Ask.campaign_id == campaign_id).order_by(Ask.position, Ask.id)))
