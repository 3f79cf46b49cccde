"""Pages: parliamentary questions — draft one (checked against its chamber's form), suggest a
batch to supportive members, and record a question tabled and answered."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request

from campaign import service as campaign_service
from campaign.accounts.models import Role, User
from campaign.deps import SessionDep, allow
from campaign.errors import CosignError, FieldError, InvalidInput
from campaign.schemas import parse
from campaign.web import field_errors, redirect, render
from letters import service, suggestions
from letters.questions import Chamber, EPAddressee, check_question
from letters.schemas import MAX_ID, QuestionCreate, QuestionUpdate
from workers.outbox import local_to_utc

router = APIRouter(include_in_schema=False)

StaffUser = Annotated[User, Depends(allow(Role.staff))]
ReaderUser = Annotated[User, Depends(allow(Role.staff, Role.coordinator))]
Line = Annotated[str, Form(max_length=1000)]
Text = Annotated[str, Form(max_length=50_000)]
IdList = Annotated[list[int], Form(default_factory=list)]
QuestionId = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]




def _list_page(request: Request, session, *, campaign_id: int | None, form=None, errors=None, warnings=(),
               status_code: int = 200):
    campaigns = campaign_service.list_campaigns(session)
    if campaign_id is None and campaigns:
        campaign_id = campaigns[0].id
    return render(request, "letters/questions.html", {
        "questions": service.list_questions(session, campaign_id=campaign_id) if campaign_id else [],
        "campaigns": campaigns, "campaign_id": campaign_id, "chambers": list(Chamber),
        "ep_addressees": list(EPAddressee), "asks": suggestions.asks_of(session, campaign_id=campaign_id)
        if campaign_id else [], "form": form or {"chamber": Chamber.commons_written.value},
        "errors": errors or {}, "warnings": warnings}, status_code=status_code)


@router.get("/questions")
def questions_page(request: Request, session: SessionDep, user: ReaderUser, campaign_id: IdQuery = None):
    return _list_page(request, session, campaign_id=campaign_id)


@router.post("/questions")
def create_question(request: Request, session: SessionDep, user: StaffUser, campaign_id: Line = "",
                    chamber: Line = "", text: Text = "", addressee: Line = "", named_day: Line = ""):
    form = {"campaign_id": campaign_id, "chamber": chamber, "text": text, "addressee": addressee,
            "named_day": named_day}
    try:
        with session.begin_nested():
            question = service.create_question(session, actor=user, question_in=parse(QuestionCreate, {
                "campaign_id": campaign_id, "chamber": chamber, "text": text, "addressee": addressee,
                "named_day": bool(named_day)}))
    except CosignError as error:
        chosen = int(campaign_id) if campaign_id.isdigit() and int(campaign_id) <= MAX_ID else None
        return _list_page(request, session, campaign_id=chosen, form=form, errors=field_errors(error),
                          status_code=error.status_code)
    warnings = [p.message for p in check_question(question.chamber, question.text, addressee=question.addressee)
                if p.severity != "error"]
    note = f" Note: {' '.join(warnings)}" if warnings else ""
    return redirect(f"/questions?campaign_id={question.campaign_id}", f"Drafted question {question.id}.{note}")


def _suggest_page(request: Request, session, *, question_ids: list[int], ask_id: int | None, form=None,
                  errors=None, status_code: int = 200):
    questions = [service.get_question(session, question_id=qid) for qid in question_ids]
    if not questions:
        raise InvalidInput("Choose at least one question to suggest.",
                           errors=[FieldError("question_ids", "none chosen")])
    campaign = campaign_service.get_campaign(session, campaign_id=questions[0].campaign_id)
    asks = suggestions.asks_of(session, campaign_id=campaign.id)
    ask_id = ask_id or (asks[0].id if asks else None)
    members = suggestions.candidates(session, ask_id=ask_id, chamber=questions[0].chamber) if ask_id else []
    return render(request, "letters/suggest.html", {
        "questions": questions, "campaign": campaign, "asks": asks, "ask_id": ask_id, "members": members,
        "house": suggestions.house_of(questions[0].chamber), "default_note": suggestions.DEFAULT_NOTE.replace(
            "{campaign}", campaign.name),
        "form": form or {"person_ids": [m.person.id for m in members]}, "errors": errors or {}},
        status_code=status_code)


@router.get("/questions/suggest")
def suggest_page(request: Request, session: SessionDep, user: StaffUser,
                 question_id: Annotated[list[int], Query(default_factory=list, max_length=50)],
                 ask_id: IdQuery = None):
    return _suggest_page(request, session, question_ids=question_id, ask_id=ask_id)


@router.post("/questions/suggest")
def suggest(request: Request, session: SessionDep, user: StaffUser, question_id: IdList, person_id: IdList,
            ask_id: Line = "", scheduled_at: Line = "", note: Text = ""):
    form = {"person_ids": person_id, "scheduled_at": scheduled_at, "note": note}
    chosen_ask = int(ask_id) if ask_id.isdigit() and int(ask_id) <= MAX_ID else None
    try:
        with session.begin_nested():
            questions = [service.get_question(session, question_id=qid) for qid in question_id]
            zone = campaign_service.get_campaign(session, campaign_id=questions[0].campaign_id).timezone \
                if questions else "Europe/London"
            when = _local_time(scheduled_at, zone)
            queued = suggestions.suggest(session, question_ids=question_id, person_ids=person_id,
                                         scheduled_at=when, note=note, actor=user)
    except CosignError as error:
        return _suggest_page(request, session, question_ids=question_id, ask_id=chosen_ask, form=form,
                             errors=field_errors(error), status_code=error.status_code)
    return redirect(f"/questions?campaign_id={questions[0].campaign_id}",
                    f"Queued {len(queued)} suggestion{'s' if len(queued) != 1 else ''}.")


def _local_time(value: str, zone: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput("Say when to send the suggestions.",
                           errors=[FieldError("scheduled_at", "a date and time are needed")]) from None
    return parsed if parsed.tzinfo else local_to_utc(parsed, zone)


@router.get("/questions/{question_id}")
def question_page(request: Request, question_id: QuestionId, session: SessionDep, user: ReaderUser):
    return _question_page(request, session, question_id)


def _question_page(request: Request, session, question_id: int, *, form=None, errors=None, status_code: int = 200):
    question = service.get_question(session, question_id=question_id)
    return render(request, "letters/question.html", {
        "question": question, "campaign": campaign_service.get_campaign(session, campaign_id=question.campaign_id),
        "problems": check_question(question.chamber, question.text, addressee=question.addressee),
        "form": form or {}, "errors": errors or {}}, status_code=status_code)


@router.post("/questions/{question_id}")
def record_question(request: Request, question_id: QuestionId, session: SessionDep, user: ReaderUser,
                    state: Line = "", tabled_reference: Line = "", tabled_date: Line = "", answered_date: Line = "",
                    answer_text: Text = ""):
    form = {"state": state, "tabled_reference": tabled_reference, "tabled_date": tabled_date,
            "answered_date": answered_date, "answer_text": answer_text}
    values = {key: value for key, value in form.items() if value}
    try:
        with session.begin_nested():
            service.update_question(session, question_id=question_id, actor=user,
                                    question_in=parse(QuestionUpdate, values))
    except CosignError as error:
        return _question_page(request, session, question_id, form=form, errors=field_errors(error),
                              status_code=error.status_code)
    return redirect(f"/questions/{question_id}", "Saved.")
