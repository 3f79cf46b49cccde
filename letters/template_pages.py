"""Pages: the letter template library — list, create, edit with a live preview for a sample addressee."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request

from campaign import service as campaign_service
from campaign.accounts.models import Role, User
from campaign.deps import SessionDep, allow
from campaign.errors import CosignError
from campaign.schemas import parse
from campaign.web import field_errors, redirect, render
from letters import service
from letters.models import LetterKind
from letters.rendering import to_html_fragment
from letters.schemas import MAX_ID, LetterTemplateCreate, LetterTemplateUpdate

router = APIRouter(include_in_schema=False)

StaffUser = Annotated[User, Depends(allow(Role.staff))]
ReaderUser = Annotated[User, Depends(allow(Role.staff, Role.coordinator))]
Line = Annotated[str, Form(max_length=5000)]
Text = Annotated[str, Form(max_length=100_000)]
TemplateId = Annotated[int, Path(ge=1, le=MAX_ID)]




def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:80]


def _list_page(request: Request, session, user: User, *, form=None, errors=None, status_code: int = 200):
    return render(request, "letters/templates.html", {
        "templates": service.list_templates(session), "kinds": list(LetterKind),
        "can_edit": user.role in (Role.admin, Role.staff), "form": form or {}, "errors": errors or {}},
        status_code=status_code)


@router.get("/templates")
def templates_page(request: Request, session: SessionDep, user: ReaderUser):
    return _list_page(request, session, user)


@router.post("/templates")
def create_template(request: Request, session: SessionDep, user: StaffUser, name: Line = "", kind: Line = "",
                    copy_of: Line = ""):
    form = {"name": name, "kind": kind, "copy_of": copy_of}
    try:
        with session.begin_nested():
            source = service.get_template(session, template_id=int(copy_of)) \
                if copy_of.isdigit() and int(copy_of) <= MAX_ID else None
            template = service.create_template(session, actor=user, template_in=parse(LetterTemplateCreate, {
                "slug": _slug(name) or "template", "name": name, "kind": kind or (source.kind if source else ""),
                "subject": source.subject if source else "", "description": source.description if source else "",
                "body": source.body if source else "{{ recipient.salutation }},\n\n\n\nYours sincerely,\n"}))
    except CosignError as error:
        return _list_page(request, session, user, form=form, errors=field_errors(error),
                          status_code=error.status_code)
    return redirect(f"/templates/{template.id}", f"Created the template “{template.name}”.")


def _template_page(request: Request, session, user: User, template_id: int, *, campaign_id: int | None = None,
                   form=None, errors=None, status_code: int = 200):
    template = service.get_template(session, template_id=template_id)
    form = form or {"name": template.name, "description": template.description, "subject": template.subject,
                    "body": template.body}
    campaigns = campaign_service.list_campaigns(session)
    campaign = next((c for c in campaigns if c.id == campaign_id), campaigns[0] if campaigns else None)
    document, problem = (service.template_preview(session, subject=form["subject"], body=form["body"],
                                                  campaign_id=campaign.id, sender_name=user.name)
                         if campaign and not errors else (None, None))
    return render(request, "letters/template.html", {
        "template": template, "form": form, "errors": errors or {}, "campaigns": campaigns, "campaign": campaign,
        "preview": to_html_fragment(document) if document else None, "problem": problem,
        "recipient": service.SAMPLE_RECIPIENT, "can_edit": user.role in (Role.admin, Role.staff)},
        status_code=status_code)


@router.get("/templates/{template_id}")
def template_page(request: Request, template_id: TemplateId, session: SessionDep, user: ReaderUser,
                  campaign_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None):
    return _template_page(request, session, user, template_id, campaign_id=campaign_id)


@router.post("/templates/{template_id}")
def update_template(request: Request, template_id: TemplateId, session: SessionDep, user: StaffUser,
                    name: Line = "", description: Line = "", subject: Line = "", body: Text = "",
                    campaign_id: Line = ""):
    form = {"name": name, "description": description, "subject": subject, "body": body}
    chosen = int(campaign_id) if campaign_id.isdigit() and int(campaign_id) <= MAX_ID else None
    try:
        with session.begin_nested():
            service.update_template(session, template_id=template_id, actor=user,
                                    template_in=parse(LetterTemplateUpdate, form))
    except CosignError as error:
        return _template_page(request, session, user, template_id, campaign_id=chosen, form=form,
                              errors=field_errors(error), status_code=error.status_code)
    return redirect(f"/templates/{template_id}" + (f"?campaign_id={chosen}" if chosen else ""), "Template saved.")
