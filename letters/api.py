"""JSON API for letters, templates, questions, invitations and signatures, and the four exports."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from campaign.accounts.models import Role, User
from campaign.deps import AnyUser, SessionDep, allow
from letters import service, suggestions
from letters.questions import check_question
from letters.rendering import to_docx, to_html_fragment, to_pdf, to_print_html, to_text
from letters.schemas import (MAX_ID, InvitationCreate, InvitationRead, LetterCreate, LetterRead, LetterTemplateCreate,
                             LetterTemplateRead, LetterTemplateUpdate, LetterTransition, LetterUpdate, LetterVersionRead,
                             QuestionCheck, QuestionCreate, QuestionRead, QuestionSuggestionCreate,
                             QuestionSuggestionRead, QuestionUpdate)

router = APIRouter(tags=["letters"])

StaffUser = Annotated[User, Depends(allow(Role.staff))]
SignatoryUser = Annotated[User, Depends(allow(Role.staff, Role.coordinator))]
Recipient = Annotated[int, Query(ge=0, le=10_000, description="Which recipient to render for (0 = the first).")]
LetterId = Annotated[int, Path(ge=1, le=MAX_ID)]
QuestionId = Annotated[int, Path(ge=1, le=MAX_ID)]
TemplateId = Annotated[int, Path(ge=1, le=MAX_ID)]
CampaignFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def _document(media_type: str, description: str) -> dict:
    return {200: {"description": description, "content": {media_type: {"schema": {"type": "string"}}}}}


def _filename(letter, extension: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9]+", "-", letter.title).strip("-").lower()[:60] or f"letter-{letter.id}"
    return f"{stem}.{extension}"


@router.get("/letter-templates", response_model=list[LetterTemplateRead])
def list_templates(session: SessionDep, user: AnyUser):
    return service.list_templates(session)


@router.post("/letter-templates", response_model=LetterTemplateRead, status_code=201)
def create_template(template_in: LetterTemplateCreate, session: SessionDep, user: StaffUser):
    return service.create_template(session, template_in=template_in, actor=user)


@router.patch("/letter-templates/{template_id}", response_model=LetterTemplateRead)
def update_template(template_id: TemplateId, template_in: LetterTemplateUpdate, session: SessionDep, user: StaffUser):
    return service.update_template(session, template_id=template_id, template_in=template_in, actor=user)


@router.get("/letters", response_model=list[LetterRead])
def list_letters(session: SessionDep, user: AnyUser, campaign_id: CampaignFilter = None):
    return service.list_letters(session, campaign_id=campaign_id)


@router.post("/letters", response_model=LetterRead, status_code=201)
def create_letter(letter_in: LetterCreate, session: SessionDep, user: StaffUser):
    return service.create_letter(session, letter_in=letter_in, actor=user)


@router.get("/letters/{letter_id}", response_model=LetterRead)
def get_letter(letter_id: LetterId, session: SessionDep, user: AnyUser):
    return service.get_letter(session, letter_id=letter_id)


@router.patch("/letters/{letter_id}", response_model=LetterRead)
def update_letter(letter_id: LetterId, letter_in: LetterUpdate, session: SessionDep, user: StaffUser):
    return service.update_letter(session, letter_id=letter_id, letter_in=letter_in, actor=user)


@router.post("/letters/{letter_id}/transitions", response_model=LetterRead)
def transition(letter_id: LetterId, transition_in: LetterTransition, session: SessionDep, user: SignatoryUser):
    return service.transition(session, letter_id=letter_id, transition_in=transition_in, actor=user)


@router.get("/letters/{letter_id}/versions", response_model=list[LetterVersionRead])
def list_versions(letter_id: LetterId, session: SessionDep, user: AnyUser):
    service.get_letter(session, letter_id=letter_id)
    return service.list_versions(session, letter_id=letter_id)


@router.get("/letters/{letter_id}/html", response_class=Response,
            responses=_document("text/html", "The letter as HTML: a fragment, or a whole print page."))
def letter_html(letter_id: LetterId, session: SessionDep, user: AnyUser, recipient: Recipient = 0,
                standalone: bool = False):
    document = service.document_for(session, letter_id=letter_id, index=recipient)
    body = to_print_html(document) if standalone else str(to_html_fragment(document))
    return Response(body, media_type="text/html; charset=utf-8")


@router.get("/letters/{letter_id}/text", response_class=Response,
            responses=_document("text/plain", "The letter as plain text, notes at the end."))
def letter_text(letter_id: LetterId, session: SessionDep, user: AnyUser, recipient: Recipient = 0):
    document = service.document_for(session, letter_id=letter_id, index=recipient)
    return Response(to_text(document), media_type="text/plain; charset=utf-8")


@router.get("/letters/{letter_id}/pdf", response_class=Response,
            responses=_document("application/pdf", "The letter as an A4 PDF."))
def letter_pdf(letter_id: LetterId, session: SessionDep, user: AnyUser, recipient: Recipient = 0):
    letter = service.get_letter(session, letter_id=letter_id)
    document = service.render_letter(session, letter=letter, index=recipient)
    return Response(to_pdf(document), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{_filename(letter, "pdf")}"'})


@router.get("/letters/{letter_id}/docx", response_class=Response, responses=_document(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "The letter as a Word document."))
def letter_docx(letter_id: LetterId, session: SessionDep, user: AnyUser, recipient: Recipient = 0):
    letter = service.get_letter(session, letter_id=letter_id)
    document = service.render_letter(session, letter=letter, index=recipient)
    return Response(to_docx(document),
                    media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    headers={"Content-Disposition": f'attachment; filename="{_filename(letter, "docx")}"'})


@router.post("/letters/{letter_id}/invitations", response_model=list[InvitationRead], status_code=201)
def invite(letter_id: LetterId, invitation_in: InvitationCreate, session: SessionDep, user: SignatoryUser):
    invited = service.invite(session, letter_id=letter_id, invitation_in=invitation_in, actor=user)
    return [InvitationRead(invitation_id=i.invitation.id, person_id=i.person.id, name=i.person.name,
                           link=service.signing_link(i.invitation), expires_at=i.invitation.expires_at)
            for i in invited]


@router.get("/letters/{letter_id}/signatures")
def signatures(letter_id: LetterId, session: SessionDep, user: AnyUser):
    summary = service.signature_summary(session, letter_id=letter_id)
    return {
        "counts": summary.counts, "by_party": dict(summary.by_party), "by_chamber": dict(summary.by_chamber),
        "by_country": dict(summary.by_country), "party_count": summary.party_count,
        "largest_party": summary.largest_party, "largest_party_share": round(summary.largest_party_share, 3),
        "cross_party": summary.cross_party,
        "people": [{"person_id": row.person.id, "name": row.person.name, "status": row.status,
                    "chamber": row.facts.chamber, "party": row.facts.party, "country": row.facts.country,
                    "printed_name": row.signature.printed_name if row.signature else "",
                    "printed_title": row.signature.printed_title if row.signature else ""} for row in summary.rows],
        "to_chase": [row.person.id for row in summary.to_chase],
    }


@router.get("/questions", response_model=list[QuestionRead])
def list_questions(session: SessionDep, user: AnyUser, campaign_id: CampaignFilter = None):
    return service.list_questions(session, campaign_id=campaign_id)


@router.post("/questions", response_model=QuestionRead, status_code=201)
def create_question(question_in: QuestionCreate, session: SessionDep, user: StaffUser):
    return service.create_question(session, question_in=question_in, actor=user)


@router.post("/question-checks")
def check(check_in: QuestionCheck, user: AnyUser):
    problems = check_question(check_in.chamber, check_in.text, addressee=check_in.addressee)
    return {"ok": not any(p.severity == "error" for p in problems),
            "problems": [{"rule": p.rule, "message": p.message, "severity": p.severity} for p in problems]}


@router.post("/question-suggestions", response_model=QuestionSuggestionRead, status_code=201)
def suggest_questions(suggestion_in: QuestionSuggestionCreate, session: SessionDep, user: StaffUser):
    queued = suggestions.suggest(session, question_ids=suggestion_in.question_ids,
                                 person_ids=suggestion_in.person_ids, scheduled_at=suggestion_in.scheduled_at,
                                 note=suggestion_in.note, actor=user)
    return QuestionSuggestionRead(queued=len(queued), outbox_message_ids=[m.id for m in queued])


@router.get("/questions/{question_id}", response_model=QuestionRead)
def get_question(question_id: QuestionId, session: SessionDep, user: AnyUser):
    return service.get_question(session, question_id=question_id)


@router.patch("/questions/{question_id}", response_model=QuestionRead)
def update_question(question_id: QuestionId, question_in: QuestionUpdate, session: SessionDep, user: AnyUser):
    return service.update_question(session, question_id=question_id, question_in=question_in, actor=user)
