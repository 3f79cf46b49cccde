"""Letter pages: the list, a letter (preview, downloads, versions, review buttons), the
coordinator's signatures page, the public signing page and published open letters."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Path, Query, Request

from campaign import service as campaign_service
from campaign.accounts.models import Role, User
from campaign.deps import SessionDep, allow, public
from campaign.errors import Conflict, CosignError, FieldError, InvalidInput
from campaign.schemas import parse
from campaign.web import field_errors, redirect, render
from letters import sending, service
from letters.models import LetterState
from letters.rendering import to_html_fragment
from letters.schemas import MAX_ID, InvitationCreate, LetterCreate, LetterTransition, LetterUpdate

router = APIRouter(include_in_schema=False)  # pages, not part of the JSON API

StaffUser = Annotated[User, Depends(allow(Role.staff))]
ReaderUser = Annotated[User, Depends(allow(Role.staff, Role.coordinator))]
Text = Annotated[str, Form(max_length=100_000)]
Line = Annotated[str, Form(max_length=1000)]
LetterId = Annotated[int, Path(ge=1, le=MAX_ID)]




@router.get("/letters")
def letters_page(request: Request, session: SessionDep, user: ReaderUser):
    return render(request, "letters/list.html", {
        "letters": service.list_letters(session), "campaigns": campaign_service.list_campaigns(session),
        "templates": service.list_templates(session), "can_edit": user.role in (Role.admin, Role.staff),
        "form": {}, "errors": {}})


@router.post("/letters")
def create_letter(request: Request, session: SessionDep, user: StaffUser, campaign_id: Line = "",
                  template_id: Line = "", title: Line = ""):
    form = {"campaign_id": campaign_id, "template_id": template_id, "title": title}
    try:
        with session.begin_nested():
            letter = service.create_letter(session, actor=user, letter_in=parse(LetterCreate, {
                "campaign_id": campaign_id or None, "template_id": template_id or None, "title": title}))
    except CosignError as error:
        return render(request, "letters/list.html", {
            "letters": service.list_letters(session), "campaigns": campaign_service.list_campaigns(session),
            "templates": service.list_templates(session), "can_edit": True, "form": form,
            "errors": field_errors(error)}, status_code=error.status_code)
    return redirect(f"/letters/{letter.id}", f"Created the draft “{letter.title}”.")


def _letter_page(request: Request, session, user: User, letter_id: LetterId, *, recipient: int = 0, form=None,
                 errors=None, conflict=None, transition_error=None, schedule_value: str = "",
                 addressee_form=None, addressee_errors=None, find: str = "", status_code: int = 200):
    letter = service.get_letter(session, letter_id=letter_id)
    campaign = campaign_service.get_campaign(session, campaign_id=letter.campaign_id)
    if not schedule_value and letter.scheduled_at:
        schedule_value = letter.scheduled_at.astimezone(ZoneInfo(campaign.timezone)).strftime("%Y-%m-%dT%H:%M")
    document, problem, recipients = service.preview(session, letter_id=letter_id, index=recipient)
    versions = service.list_versions(session, letter_id=letter_id)
    return render(request, "letters/letter.html", {
        "letter": letter, "campaign": campaign, "delivery": sending.delivery(session, letter=letter, recipients=recipients),
        "transition_error": transition_error, "schedule_value": schedule_value,
        "addressee_form": addressee_form or {}, "addressee_errors": addressee_errors or {}, "find": find,
        "found": _find_people(session, find) if find.strip() else None,
        "segments": _segments(session), "addressee_people": _addressee_people(session, letter),
        "preview": to_html_fragment(document) if document else None, "problem": problem,
        "recipients": recipients, "recipient": recipient, "versions": versions,
        "transitions": service.allowed_transitions(letter, user),
        "editable": letter.state in service.EDITABLE and user.role in (Role.admin, Role.staff),
        "cited": service.cited_versions(session, letter_id=letter_id),
        "form": form or {"title": letter.title, "subject": letter.subject, "body": letter.body,
                         "version": letter.version},
        "errors": errors or {}, "conflict": conflict}, status_code=status_code)


def _find_people(session, q: str):
    from contacts import service as contacts_service
    from contacts.schemas import PersonFilter

    return contacts_service.list_people(session, person_filter=PersonFilter(q=q), limit=15, with_total=False).rows


def _segments(session):
    from contacts import service as contacts_service

    return contacts_service.list_segments(session)


def _addressee_people(session, letter) -> dict:
    from contacts import service as contacts_service

    return contacts_service.people_by_id(session, person_ids=[a["person_id"] for a in letter.addressees
                                                              if a.get("person_id")])


@router.get("/letters/{letter_id}")
def letter_page(request: Request, letter_id: LetterId, session: SessionDep, user: ReaderUser,
                recipient: Annotated[int, Query(ge=0, le=10_000)] = 0,
                find: Annotated[str, Query(max_length=200)] = ""):
    return _letter_page(request, session, user, letter_id, recipient=recipient, find=find)


@router.post("/letters/{letter_id}/edit")
def edit_letter(request: Request, letter_id: LetterId, session: SessionDep, user: StaffUser, version: Line = "",
                title: Line = "", subject: Text = "", body: Text = "", change_note: Line = ""):
    form = {"title": title, "subject": subject, "body": body, "version": version, "change_note": change_note}
    try:
        with session.begin_nested():
            service.update_letter(session, letter_id=letter_id, actor=user, letter_in=parse(LetterUpdate, {
                "version": version, "title": title, "subject": subject, "body": body, "change_note": change_note}))
    except CosignError as error:
        conflict = None
        if error.status_code == 409 and version.isdigit():
            letter = service.get_letter(session, letter_id=letter_id)
            conflict = {"detail": error.detail, "current_version": letter.version,
                        "rows": service.compare_texts(f"{letter.subject}\n\n{letter.body}", f"{subject}\n\n{body}")}
            form["version"] = letter.version  # saving again now means: mine replaces theirs, knowingly
        return _letter_page(request, session, user, letter_id, form=form, errors=field_errors(error),
                            conflict=conflict, status_code=error.status_code)
    return redirect(f"/letters/{letter_id}", "Saved a new version.")


@router.post("/letters/{letter_id}/addressees")
def change_addressees(request: Request, letter_id: LetterId, session: SessionDep, user: StaffUser, version: Line = "",
                      action: Line = "", person_id: Line = "", index: Line = "", name: Line = "",
                      honorific_prefix: Line = "", office: Line = "", email: Line = "", address: Text = ""):
    """Add a person from the directory, add someone written out in full, or remove an addressee."""
    letter = service.get_letter(session, letter_id=letter_id)
    current = [dict(a) for a in letter.addressees]
    if action == "remove":
        if not (index.isdigit() and int(index) < len(current)):
            raise InvalidInput("There is no such addressee to remove.", errors=[FieldError("index", index)])
        removed = current.pop(int(index))
        note = f"Removed the addressee {removed.get('name') or 'from the directory'}"
    elif action == "add_person":
        current.append({"person_id": person_id})
        note = "Added an addressee from the directory"
    else:
        current.append({"name": name, "honorific_prefix": honorific_prefix, "office": office, "email": email,
                        "address_lines": [line.strip() for line in address.splitlines() if line.strip()][:8]})
        note = f"Added the addressee {name}"
    typed = {"name": name, "honorific_prefix": honorific_prefix, "office": office, "email": email,
             "address": address}
    try:
        with session.begin_nested():
            service.update_letter(session, letter_id=letter_id, actor=user, letter_in=parse(
                LetterUpdate, {"version": version, "addressees": current, "change_note": note}))
    except CosignError as error:
        return _letter_page(request, session, user, letter_id, addressee_form=typed,
                            addressee_errors=_addressee_errors(error), status_code=error.status_code)
    return redirect(f"/letters/{letter_id}#addressees", f"{note}.")


def _addressee_errors(error: CosignError) -> dict[str, str]:
    """Errors on the add-an-addressee form, by its fields (``addressees[2].email`` is the e-mail field)."""
    found: dict[str, str] = {}
    for item in error.errors:
        if "]." in item.loc:
            field = item.loc.rpartition(".")[2]
            found[field] = f"{found[field]} {item.msg}" if field in found else item.msg
        else:
            found["form"] = error.detail
    return found or {"form": error.detail}


@router.post("/letters/{letter_id}/segment")
def change_segment(letter_id: LetterId, session: SessionDep, user: StaffUser, version: Line = "",
                   segment_id: Line = ""):
    with session.begin_nested():
        service.update_letter(session, letter_id=letter_id, actor=user, letter_in=parse(LetterUpdate, {
            "version": version, "recipient_segment_id": segment_id or None,
            "change_note": "Changed the recipient segment"}))
    return redirect(f"/letters/{letter_id}#addressees", "Saved the recipients.")


@router.post("/letters/{letter_id}/transition")
def transition(request: Request, letter_id: LetterId, session: SessionDep, user: ReaderUser, to: Line = "",
               note: Line = "", scheduled_at: Line = ""):
    try:
        with session.begin_nested():
            letter = service.transition(session, letter_id=letter_id, actor=user, transition_in=parse(
                LetterTransition, {"to": to, "note": note, "scheduled_at": scheduled_at or None}))
    except (InvalidInput, Conflict) as error:
        field = error.errors[0].loc.split(":")[0] if error.errors else ""
        reasons = "; ".join(e.msg for e in error.errors if e.msg not in error.detail)
        return _letter_page(request, session, user, letter_id, schedule_value=scheduled_at,
                            transition_error={"detail": f"{error.detail} ({reasons})" if reasons else error.detail,
                                              "field": field},
                            status_code=error.status_code)
    if letter.state == LetterState.scheduled:
        queued = len(sending.letter_messages(session, letter_id=letter_id))
        return redirect(f"/letters/{letter_id}", f"Scheduled: {queued} message{'s' if queued != 1 else ''} "
                        "will go at the time you chose.")
    return redirect(f"/letters/{letter_id}", f"The letter is now {letter.state.label.lower()}.")


@router.get("/letters/{letter_id}/compare")
def compare(request: Request, letter_id: LetterId, session: SessionDep, user: ReaderUser,
            a: Annotated[int, Query(ge=1, le=MAX_ID)] = 1, b: Annotated[int, Query(ge=1, le=MAX_ID)] = 1):
    letter = service.get_letter(session, letter_id=letter_id)
    return render(request, "letters/compare.html", {
        "letter": letter, "a": a, "b": b, "rows": service.compare_versions(session, letter_id=letter_id, a=a, b=b),
        "versions": service.list_versions(session, letter_id=letter_id)})


def _signatures_page(request: Request, session, user: User, letter_id: LetterId, *, invited=None, errors=None,
                     status_code: int = 200):
    letter = service.get_letter(session, letter_id=letter_id)
    from contacts import service as contacts_service

    return render(request, "letters/signatures.html", {
        "letter": letter, "summary": service.signature_summary(session, letter_id=letter_id),
        "segments": contacts_service.list_segments(session), "invited": invited or [],
        "links": {row.person.id: service.signing_link(row.invitation)
                  for row in service.signature_summary(session, letter_id=letter_id).rows if row.invitation},
        "can_invite": letter.state == LetterState.open_for_signatures, "errors": errors or {}},
        status_code=status_code)


@router.get("/letters/{letter_id}/signatures")
def signatures_page(request: Request, letter_id: LetterId, session: SessionDep, user: ReaderUser):
    return _signatures_page(request, session, user, letter_id)


@router.post("/letters/{letter_id}/invite")
def invite(request: Request, letter_id: LetterId, session: SessionDep, user: ReaderUser, person_ids: Line = "",
           segment_id: Line = ""):
    try:
        ids = [int(part) for part in person_ids.replace(",", " ").split()]
    except ValueError:
        return _signatures_page(request, session, user, letter_id, status_code=422,
                                errors={"person_ids": "Give person numbers separated by spaces or commas."})
    try:
        with session.begin_nested():
            invited = service.invite(session, letter_id=letter_id, actor=user, invitation_in=parse(
                InvitationCreate, {"person_ids": ids, "segment_id": segment_id or None}))
    except CosignError as error:
        return _signatures_page(request, session, user, letter_id, errors=field_errors(error),
                                status_code=error.status_code)
    return redirect(f"/letters/{letter_id}/signatures", f"Invited {len(invited)} people; their links are below.")


@router.post("/letters/{letter_id}/chase")
def chase(letter_id: LetterId, session: SessionDep, user: ReaderUser):
    summary = service.signature_summary(session, letter_id=letter_id)
    count = service.mark_chased(session, letter_id=letter_id, person_ids=[r.person.id for r in summary.to_chase],
                                actor=user)
    return redirect(f"/letters/{letter_id}/signatures", f"Marked {count} people as chased.")


# --- public pages ---------------------------------------------------------------------------


def _sign_page(request: Request, session, token: str, *, message: str = "", errors=None, form=None,
               status_code: int = 200):
    view = service.open_link(session, token=token)
    document = service.render_letter(session, letter=view.letter)
    signature = view.signature
    return render(request, "letters/sign.html", {
        "view": view, "token": token, "letter_html": to_html_fragment(document), "message": message,
        "errors": errors or {},
        "form": form or {"printed_name": signature.printed_name if signature else view.default_name,
                         "printed_title": signature.printed_title if signature else ""}}, status_code=status_code)


@router.get("/sign/{token}", dependencies=[Depends(public)])
def sign_page(request: Request, token: Annotated[str, Path(max_length=2000)], session: SessionDep):
    return _sign_page(request, session, token)


@router.post("/sign/{token}", dependencies=[Depends(public)])
def sign(request: Request, token: Annotated[str, Path(max_length=2000)], session: SessionDep, action: Line = "", printed_name: Line = "",
         printed_title: Line = "", note: Text = ""):
    form = {"printed_name": printed_name, "printed_title": printed_title, "note": note}
    try:
        with session.begin_nested():
            view, changed = service.respond(session, token=token, action=action, printed_name=printed_name,
                                            printed_title=printed_title, note=note)
    except InvalidInput as error:
        return _sign_page(request, session, token, errors=field_errors(error), form=form, status_code=422)
    messages = {"signed": "Thank you: your signature is recorded.", "declined": "Thank you: we have noted that "
                "you decline.", "correction_requested": "Thank you: we will correct how your name is printed.",
                "withdrawn": "Your signature is withdrawn."}
    message = messages[view.signature.status.value] if changed else "Your answer was already recorded."
    return redirect(f"/sign/{token}", message, "success")


@router.get("/open-letters/{letter_id}", dependencies=[Depends(public)])
def published(request: Request, letter_id: LetterId, session: SessionDep):
    letter = service.published_letter(session, letter_id=letter_id)
    document = service.render_letter(session, letter=letter)
    return render(request, "letters/public.html", {"letter": letter, "letter_html": to_html_fragment(document),
                                                   "document": document})
