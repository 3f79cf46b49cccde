"""Pages: log a response, the responses list, and the open follow-ups."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile

from campaign.accounts.models import Role, User
from campaign.deps import AnyUser, SessionDep, allow
from campaign.errors import CosignError
from campaign.schemas import parse
from campaign.web import field_errors, redirect, render
from letters import followups, replies, responses
from letters.schemas import MAX_ID

router = APIRouter(include_in_schema=False)

ResponderUser = Annotated[User, Depends(allow(Role.staff, Role.coordinator, Role.volunteer))]
FollowUpUser = Annotated[User, Depends(allow(Role.staff, Role.coordinator))]
StaffUser = Annotated[User, Depends(allow(Role.staff))]
Line = Annotated[str, Form(max_length=1000)]
Text = Annotated[str, Form(max_length=20_000)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
FIELDS = ("person_id", "letter_id", "question_id", "campaign_id", "kind", "channel", "occurred_date", "summary",
          "ask_id", "position", "eml")




def _form_page(request: Request, session, form: dict, errors: dict, status_code: int = 200, reply=None,
               found=None):
    person_id = form.get("person_id", "")
    choices = responses.form_choices(session, person_id=int(person_id) if person_id.isdigit() and
                                     int(person_id) <= MAX_ID else None)
    return render(request, "letters/responses/new.html", {**choices, "form": form, "errors": errors,
                                                          "reply": reply, "found": found}, status_code=status_code)


@router.post("/responses/from-email")
def response_from_email(request: Request, session: SessionDep, user: ResponderUser,
                        eml: Annotated[UploadFile | None, File()] = None,
                        raw: Annotated[str, Form(max_length=replies.MAX_EML_BYTES)] = ""):
    """Read a reply (uploaded .eml or pasted source) and show the response form filled in from it."""
    data = eml.file.read(replies.MAX_EML_BYTES + 1) if eml is not None and eml.filename else raw.encode()
    try:
        reply = replies.read_reply(session, raw=data)
    except CosignError as error:
        form = {"occurred_date": "", "raw": raw}
        return _form_page(request, session, form, field_errors(error, fields=FIELDS),
                          status_code=error.status_code)
    return _form_page(request, session, reply.form, {}, reply=reply)


@router.get("/responses/new")
def new_response(request: Request, session: SessionDep, user: ResponderUser, person_id: IdQuery = None,
                 letter_id: IdQuery = None, question_id: IdQuery = None,
                 q: Annotated[str, Query(max_length=200)] = ""):
    from campaign.db import utcnow
    from contacts import service as contacts_service
    from contacts.schemas import PersonFilter

    form = {"person_id": str(person_id or ""), "letter_id": str(letter_id or ""),
            "question_id": str(question_id or ""), "occurred_date": utcnow().date().isoformat(), "q": q}
    found = (contacts_service.list_people(session, person_filter=PersonFilter(q=q), limit=20, with_total=False).rows
             if q.strip() and person_id is None else None)
    return _form_page(request, session, form, {}, found=found)


@router.post("/responses/new")
def log_response(request: Request, session: SessionDep, user: ResponderUser, person_id: Line = "",
                 letter_id: Line = "", question_id: Line = "", campaign_id: Line = "", kind: Line = "",
                 channel: Line = "", occurred_date: Line = "", summary: Text = "", ask_id: Line = "",
                 position: Line = ""):
    form = {"person_id": person_id, "letter_id": letter_id, "question_id": question_id, "campaign_id": campaign_id,
            "kind": kind, "channel": channel, "occurred_date": occurred_date, "summary": summary,
            "ask_id": ask_id, "position": position}
    try:
        with session.begin_nested():
            response = responses.log_response(session, actor=user, response_in=parse(
                responses.ResponseCreate, {key: (value.strip() or None) if key != "summary" else value
                                           for key, value in form.items()}))
    except CosignError as error:
        return _form_page(request, session, form, field_errors(error, fields=FIELDS), status_code=error.status_code)
    return redirect(f"/responses?person_id={response.person_id}", "Response logged.")


@router.get("/responses")
def responses_page(request: Request, session: SessionDep, user: AnyUser, person_id: IdQuery = None,
                   letter_id: IdQuery = None, campaign_id: IdQuery = None):
    rows = responses.list_responses(session, person_id=person_id, letter_id=letter_id, campaign_id=campaign_id)
    return render(request, "letters/responses/list.html", {
        "responses": rows, "people": responses.people_named(session, rows), "person_id": person_id})


def _followups_page(request: Request, session, user: User, *, campaign_id: int | None, rule_errors=None,
                    rule_form=None, status_code: int = 200):
    from campaign import service as campaign_service
    rows = followups.list_followups(session, campaign_id=campaign_id)
    campaigns = campaign_service.list_campaigns(session)
    chosen = next((c for c in campaigns if c.id == campaign_id), campaigns[0] if campaigns else None)
    rules = {r.applies_to.value: r for r in followups.list_rules(session, campaign_id=chosen.id)} if chosen else {}
    return render(request, "letters/responses/followups.html", {
        "followups": rows, "people": responses.people_named(session, rows),
        "can_approve": user.role in (Role.admin, Role.staff), "campaigns": campaigns, "campaign": chosen,
        "filtered": campaign_id is not None, "rules": rules, "rule_errors": rule_errors or {},
        "rule_form": rule_form or {}},
        status_code=status_code)


@router.get("/follow-ups")
def followups_page(request: Request, session: SessionDep, user: FollowUpUser, campaign_id: IdQuery = None):
    return _followups_page(request, session, user, campaign_id=campaign_id)


@router.post("/follow-ups/rules")
def set_followup_rule(request: Request, session: SessionDep, user: FollowUpUser, campaign_id: Line = "",
                      applies_to: Line = "", days: Line = "", action: Line = "", enabled: Line = ""):
    form = {"applies_to": applies_to, "days": days, "action": action, "enabled": enabled}
    chosen = int(campaign_id) if campaign_id.isdigit() and int(campaign_id) <= MAX_ID else None
    try:
        with session.begin_nested():
            values = {"applies_to": applies_to, "days": days, "enabled": bool(enabled)} | (
                {"action": action} if action else {})
            rule = followups.set_rule(session, campaign_id=chosen or 0, actor=user,
                                      rule_in=parse(followups.FollowUpRuleIn, values))
    except CosignError as error:
        return _followups_page(request, session, user, campaign_id=chosen, status_code=error.status_code,
                               rule_errors={applies_to: field_errors(error)}, rule_form={applies_to: form})
    what = "sent letters" if rule.applies_to.value == "letter" else "signing invitations"
    state = f"after {rule.days} day{'s' if rule.days != 1 else ''}" if rule.enabled else "off"
    return redirect(f"/follow-ups?campaign_id={rule.campaign_id}#rules", f"Follow-ups on {what}: {state}.")


@router.post("/follow-ups/{follow_up_id}/approve")
def approve_chaser(follow_up_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: SessionDep, user: StaffUser):
    follow_up = followups.approve_chaser(session, follow_up_id=follow_up_id, actor=user)
    return redirect("/follow-ups", f"Chaser approved: it is in the outbox as message {follow_up.chaser_outbox_id}.")
