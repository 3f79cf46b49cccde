"""Campaign pages: the home page, the campaign list, dashboard, timeline and evidence library.

Routes stay thin: read the form, call one service function, render or redirect. Forms
that fail come back with what was typed and the errors beside their fields.
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request

from campaign import charts, service
from campaign.accounts.models import Role, User
from campaign.deps import AnyUser, SessionDep, allow
from campaign.errors import CosignError, FieldError, InvalidInput
from campaign.models import Campaign, CampaignStatus, DatePrecision, EventKind, Evidence, EvidenceKind
from campaign.schemas import (
    AskCreate,
    CampaignCreate,
    CampaignUpdate,
    EventCreate,
    EvidenceCreate,
    EvidenceUpdate,
    MAX_ID,
    NO_NUL,
    parse,
)
from campaign.web import redirect, render
from contacts import service as contacts_service
from letters import followups as followups_service
from letters import service as letters_service

router = APIRouter(include_in_schema=False)  # pages, not part of the JSON API

StaffUser = Annotated[User, Depends(allow(Role.staff))]
Text = Annotated[str, Form(max_length=50_000)]
Line = Annotated[str, Form(max_length=1000)]
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]

EDITORS = (Role.admin, Role.staff)


def _can_edit(user: User) -> bool:
    return user.role in EDITORS


def _errors(error: CosignError) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in error.errors:
        found[item.loc] = f"{found[item.loc]} {item.msg}" if item.loc in found else item.msg
    return found or {"form": error.detail}


def _base(user: User, campaign: Campaign, section: str) -> dict[str, Any]:
    return {"campaign": campaign, "section": section, "can_edit": _can_edit(user)}


# --- home and campaign list -------------------------------------------------------------


@router.get("/")
def home(request: Request, session: SessionDep, user: AnyUser):
    campaigns = service.list_campaigns(session)
    if not campaigns and user.role == Role.admin:
        return redirect("/first-run")  # a new organisation: set it up first
    return render(request, "campaign/home.html", {"campaigns": campaigns, "can_edit": _can_edit(user)})


@router.get("/campaigns")
def campaigns_page(request: Request, session: SessionDep, user: AnyUser):
    return render(request, "campaign/list.html", {"campaigns": service.list_campaigns(session),
                                                  "can_edit": _can_edit(user), "form": {}, "errors": {},
                                                  "statuses": list(CampaignStatus)})


@router.post("/campaigns")
def create_campaign(request: Request, session: SessionDep, user: StaffUser,
                    name: Line = "", slug: Line = "", summary: Text = "", goal: Text = "",
                    status: Line = "planning", timezone: Line = "Europe/London"):
    form = {"name": name, "slug": slug, "summary": summary, "goal": goal, "status": status, "timezone": timezone}
    try:
        with session.begin_nested():
            campaign = service.create_campaign(session, campaign_in=parse(CampaignCreate, {**form, "owner_id": user.id}),
                                               actor=user)
    except CosignError as error:
        return render(request, "campaign/list.html", {
            "campaigns": service.list_campaigns(session), "can_edit": True, "form": form, "errors": _errors(error),
            "statuses": list(CampaignStatus)}, status_code=error.status_code)
    return redirect(f"/campaigns/{campaign.slug}", f"Created the campaign {campaign.name}.")


# --- dashboard ------------------------------------------------------------------------------


@router.get("/campaigns/{slug}")
def dashboard(request: Request, slug: str, session: SessionDep, user: AnyUser):
    campaign = service.get_campaign_by_slug(session, slug=slug)
    board = service.dashboard(session, campaign_id=campaign.id)
    stance_charts = [{
        "summary": summary,
        "by_chamber": charts.stance_bars(summary.by_chamber, title=f"{summary.ask.title}: stances by chamber"),
        "by_party": charts.stance_bars(summary.by_party, title=f"{summary.ask.title}: stances by party"),
    } for summary in board.stances]
    table_charts = []
    for table in board.headline_tables:
        column, points = charts.table_series(table.data.get("columns", []), table.data.get("rows", []))
        if points:
            table_charts.append({"evidence": table, "column": column,
                                 "svg": charts.column_chart(points, title=f"{table.title}: {column}",
                                                            note=table.source_title)})
    return render(request, "campaign/dashboard.html", {
        **_base(user, campaign, "dashboard"), "board": board, "stance_charts": stance_charts,
        "table_charts": table_charts, "labels": charts.POSITION_LABELS, "colours": charts.POSITION_COLOURS,
        "letters": letters_service.campaign_letters(session, campaign_id=campaign.id)})


# --- settings and asks ------------------------------------------------------------------------


def _settings(request: Request, session, user: User, campaign: Campaign, *, form=None, errors=None,
              ask_form=None, ask_errors=None, status_code: int = 200):
    rules = {rule.applies_to.value: rule for rule in followups_service.list_rules(session, campaign_id=campaign.id)}
    return render(request, "campaign/settings.html", {
        **_base(user, campaign, "settings"), "asks": service.list_asks(session, campaign_id=campaign.id),
        "statuses": list(CampaignStatus), "form": form or _campaign_form(campaign), "errors": errors or {},
        "ask_form": ask_form or {}, "ask_errors": ask_errors or {}, "rules": rules}, status_code=status_code)


def _campaign_form(campaign: Campaign) -> dict[str, str]:
    return {"name": campaign.name, "slug": campaign.slug, "summary": campaign.summary, "goal": campaign.goal,
            "status": campaign.status.value, "timezone": campaign.timezone, "reply_to": campaign.reply_to,
            "start_date": campaign.start_date.isoformat() if campaign.start_date else "",
            "end_date": campaign.end_date.isoformat() if campaign.end_date else ""}


@router.get("/campaigns/{slug}/settings")
def settings_page(request: Request, slug: str, session: SessionDep, user: StaffUser):
    return _settings(request, session, user, service.get_campaign_by_slug(session, slug=slug))


@router.post("/campaigns/{slug}/settings")
def update_campaign(request: Request, slug: str, session: SessionDep, user: StaffUser,
                    name: Line = "", new_slug: Annotated[str, Form(alias="slug", max_length=200)] = "",
                    summary: Text = "", goal: Text = "", status: Line = "", timezone: Line = "",
                    reply_to: Line = "", start_date: Line = "", end_date: Line = ""):
    campaign = service.get_campaign_by_slug(session, slug=slug)
    form = {"name": name, "slug": new_slug, "summary": summary, "goal": goal, "status": status,
            "timezone": timezone, "reply_to": reply_to, "start_date": start_date, "end_date": end_date}
    values = {**form, "start_date": start_date or None, "end_date": end_date or None}
    try:
        with session.begin_nested():
            campaign = service.update_campaign(session, campaign_id=campaign.id,
                                               campaign_in=parse(CampaignUpdate, values), actor=user)
    except CosignError as error:
        return _settings(request, session, user, campaign, form=form, errors=_errors(error),
                         status_code=error.status_code)
    return redirect(f"/campaigns/{campaign.slug}/settings", "The campaign has been saved.")


@router.post("/campaigns/{slug}/asks")
def create_ask(request: Request, slug: str, session: SessionDep, user: StaffUser,
               title: Line = "", ask_slug: Annotated[str, Form(alias="slug", max_length=200)] = "",
               description: Text = ""):
    campaign = service.get_campaign_by_slug(session, slug=slug)
    form = {"title": title, "slug": ask_slug, "description": description}
    try:
        with session.begin_nested():
            service.create_ask(session, campaign_id=campaign.id, ask_in=parse(AskCreate, form), actor=user)
    except CosignError as error:
        return _settings(request, session, user, campaign, ask_form=form, ask_errors=_errors(error),
                         status_code=error.status_code)
    return redirect(f"/campaigns/{campaign.slug}/settings", f"Added the ask {title}.")


@router.post("/campaigns/{slug}/asks/{ask_id}/move")
def move_ask(slug: str, ask_id: RowId, session: SessionDep, user: StaffUser, direction: Line = "down"):
    campaign = service.get_campaign_by_slug(session, slug=slug)
    ask = service.get_ask(session, ask_id=ask_id)
    if ask.campaign_id != campaign.id:
        raise InvalidInput("That ask belongs to another campaign.", errors=[FieldError("ask_id", "not in this campaign")])
    service.move_ask(session, ask_id=ask.id, offset=-1 if direction == "up" else 1, actor=user)
    return redirect(f"/campaigns/{campaign.slug}/settings", f"Moved {ask.title} {'up' if direction == 'up' else 'down'}.")


# --- timeline ----------------------------------------------------------------------------------


def _period(text: str, loc: str, *, end: bool) -> tuple[date | None, str | None]:
    """A filter bound typed as a year, month or day; the end of a period counts to its last day."""
    if not text.strip():
        return None, None
    try:
        value, precision = service.parse_partial_date(text, loc=loc)
    except InvalidInput as error:
        return None, error.errors[0].msg
    if end and precision == DatePrecision.year:
        value = date(value.year, 12, 31)
    elif end and precision == DatePrecision.month:
        value = date(value.year, value.month, calendar.monthrange(value.year, value.month)[1])
    return value, None


def _timeline(request: Request, session, user: User, campaign: Campaign, *, kinds: list[str], date_from: str,
              date_to: str, form=None, errors=None, status_code: int = 200):
    filter_errors = {}
    chosen = [EventKind(k) for k in kinds if k in EventKind.__members__]
    start, problem = _period(date_from, "date_from", end=False)
    if problem:
        filter_errors["date_from"] = problem
    finish, problem = _period(date_to, "date_to", end=True)
    if problem:
        filter_errors["date_to"] = problem
    events = service.list_events(session, campaign_id=campaign.id, kinds=chosen, date_from=start, date_to=finish)
    return render(request, "campaign/timeline.html", {
        **_base(user, campaign, "timeline"), "events": service.event_views(session, events),
        "kinds": list(EventKind), "chosen": [k.value for k in chosen], "date_from": date_from, "date_to": date_to,
        "filter_errors": filter_errors, "form": form or {"kind": "statement"}, "errors": errors or {}},
        status_code=status_code)


@router.get("/campaigns/{slug}/timeline")
def timeline_page(request: Request, slug: str, session: SessionDep, user: AnyUser,
                  kind: Annotated[list[str], Query(max_length=40)] = [],  # noqa: B006
                  date_from: Annotated[str, Query(max_length=10)] = "",
                  date_to: Annotated[str, Query(max_length=10)] = ""):
    campaign = service.get_campaign_by_slug(session, slug=slug)
    return _timeline(request, session, user, campaign, kinds=kind, date_from=date_from, date_to=date_to)


@router.post("/campaigns/{slug}/timeline")
def add_event(request: Request, slug: str, session: SessionDep, user: StaffUser,
              kind: Line = "", title: Line = "", start: Line = "", end: Line = "", place: Line = "",
              summary: Text = "", source_title: Line = "", source_url: Line = "", people: Line = "",
              organisations: Line = ""):
    campaign = service.get_campaign_by_slug(session, slug=slug)
    form = {"kind": kind, "title": title, "start": start, "end": end, "place": place, "summary": summary,
            "source_title": source_title, "source_url": source_url, "people": people,
            "organisations": organisations}
    sources = [{"title": source_title, "url": source_url}] if source_title or source_url else []
    try:
        with session.begin_nested():
            person_ids, organization_ids = contacts_service.resolve_names(session, people=people,
                                                                          organisations=organisations)
            fields = {k: v for k, v in form.items() if k in ("kind", "title", "start", "end", "place", "summary")}
            event_in = parse(EventCreate, {**fields, "sources": sources, "person_ids": person_ids,
                                           "organization_ids": organization_ids})
            service.create_event(session, campaign_id=campaign.id, event_in=event_in, actor=user)
    except CosignError as error:
        errors = {re.sub(r"^sources\.0\.|^sources\[0\]\.", "source_", k): v for k, v in _errors(error).items()}
        return _timeline(request, session, user, campaign, kinds=[], date_from="", date_to="", form=form,
                         errors=errors, status_code=error.status_code)
    return redirect(f"/campaigns/{campaign.slug}/timeline", f"Added the event {title}.")


@router.post("/campaigns/{slug}/timeline/{event_id}/delete")
def delete_event(slug: str, event_id: RowId, session: SessionDep, user: StaffUser):
    campaign = service.get_campaign_by_slug(session, slug=slug)
    event = service.get_event(session, event_id=event_id)
    if event.campaign_id != campaign.id:
        raise InvalidInput("That event belongs to another campaign.", errors=[FieldError("event_id", "not here")])
    service.delete_event(session, event_id=event.id, actor=user)
    return redirect(f"/campaigns/{campaign.slug}/timeline", f"Deleted the event {event.title}.")


# --- evidence library ------------------------------------------------------------------------------

_FIELD_OF_LOC = {"data.value": "figure_value", "data.unit": "figure_unit", "data.as_of": "figure_as_of",
                 "data.columns": "table_columns", "data.speaker": "speaker", "data": "kind"}


@router.get("/campaigns/{slug}/evidence")
def evidence_library(request: Request, slug: str, session: SessionDep, user: AnyUser,
                     q: Annotated[str, Query(max_length=200, pattern=NO_NUL)] = "",
                     tag: Annotated[str, Query(max_length=80, pattern=NO_NUL)] = "",
                     kind: Annotated[list[str], Query(max_length=20)] = []):  # noqa: B006
    campaign = service.get_campaign_by_slug(session, slug=slug)
    chosen = [EvidenceKind(k) for k in kind if k in EvidenceKind.__members__]
    items = service.list_evidence(session, campaign_id=campaign.id, q=q, tag=tag, kinds=chosen)
    return render(request, "campaign/evidence_list.html", {
        **_base(user, campaign, "evidence"), "items": items, "q": q, "tag": tag,
        "kinds": list(EvidenceKind), "chosen": [k.value for k in chosen],
        "tags": service.evidence_tags(session, campaign_id=campaign.id)})


def _evidence_form(evidence: Evidence | None) -> dict[str, str]:
    if evidence is None:
        return {"kind": "figure"}
    data = evidence.data or {}
    return {
        "slug": evidence.slug, "kind": evidence.kind.value, "title": evidence.title, "text": evidence.text,
        "speaker": data.get("speaker", ""), "figure_value": _plain_number(data.get("value")),
        "figure_unit": data.get("unit", ""), "figure_as_of": data.get("as_of", ""),
        "table_columns": " | ".join(data.get("columns", [])),
        "table_rows": "\n".join(" | ".join("" if cell is None else str(cell) for cell in row)
                                for row in data.get("rows", [])),
        "source_title": evidence.source_title, "source_author": evidence.source_author,
        "source_date": evidence.source_date.isoformat() if evidence.source_date else "",
        "source_url": evidence.source_url,
        "accessed_date": evidence.accessed_date.isoformat() if evidence.accessed_date else "",
        "archive_url": evidence.archive_url, "reliability_notes": evidence.reliability_notes,
        "tags": ", ".join(evidence.tags), "change_note": "",
    }


def _plain_number(value: Any) -> str:
    if value is None:
        return ""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _cell(text: str) -> Any:
    text = text.strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d+", text):
        return float(text)
    return text


def _form_data(form: dict[str, str], errors: list[FieldError]) -> dict[str, Any]:
    """The structured part of an item, from the form fields of its kind."""
    kind = form.get("kind", "")
    if kind == EvidenceKind.figure.value:
        raw = form.get("figure_value", "").strip().replace(",", "")
        value: Any = None
        if raw:
            value = _cell(raw)
            if not isinstance(value, (int, float)):
                errors.append(FieldError("figure_value", f"{form['figure_value']!r} is not a number."))
                value = None
        return {"value": value, "unit": form.get("figure_unit", "").strip(),
                "as_of": form.get("figure_as_of", "").strip()}
    if kind == EvidenceKind.table.value:
        columns = [c.strip() for c in form.get("table_columns", "").split("|")] if form.get("table_columns", "").strip() else []
        rows = [[_cell(cell) for cell in line.split("|")]
                for line in form.get("table_rows", "").splitlines() if line.strip()]
        return {"columns": columns, "rows": rows}
    if kind == EvidenceKind.quote.value and form.get("speaker", "").strip():
        return {"speaker": form["speaker"].strip()}
    return {}


def _evidence_values(form: dict[str, str], errors: list[FieldError]) -> dict[str, Any]:
    return {
        "slug": form["slug"], "kind": form["kind"], "title": form["title"], "text": form["text"],
        "data": _form_data(form, errors), "source_title": form["source_title"],
        "source_author": form["source_author"], "source_date": form["source_date"] or None,
        "source_url": form["source_url"], "accessed_date": form["accessed_date"] or None,
        "archive_url": form["archive_url"], "reliability_notes": form["reliability_notes"],
        "tags": [t for t in (part.strip() for part in form["tags"].split(",")) if t],
    }


def _form_errors(error: CosignError) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in error.errors:
        loc = item.loc
        if loc.startswith("data.rows"):
            loc = "table_rows"
        elif loc.startswith("tags"):
            loc = "tags"
        loc = _FIELD_OF_LOC.get(loc, loc)
        found[loc] = f"{found[loc]} {item.msg}" if loc in found else item.msg
    return found or {"form": error.detail}


def _evidence_editor(request: Request, session, user: User, campaign: Campaign, *, evidence: Evidence | None,
                     form: dict[str, str], errors: dict[str, str], status_code: int = 200):
    return render(request, "campaign/evidence_form.html", {
        **_base(user, campaign, "evidence"), "evidence": evidence, "form": form,
        "errors": errors, "kinds": list(EvidenceKind)}, status_code=status_code)


EVIDENCE_FORM_FIELDS = ("slug", "kind", "title", "text", "speaker", "figure_value", "figure_unit", "figure_as_of",
                        "table_columns", "table_rows", "source_title", "source_author", "source_date", "source_url",
                        "accessed_date", "archive_url", "reliability_notes", "tags", "change_note")


async def evidence_form_values(request: Request) -> dict[str, str]:
    """The evidence form's fields as typed (missing ones empty, each cut to a sane length)."""
    form = await request.form()
    values = {}
    for name in EVIDENCE_FORM_FIELDS:
        value = form.get(name, "")
        values[name] = (value if isinstance(value, str) else "")[:50_000]
    return values


EvidenceForm = Annotated[dict[str, str], Depends(evidence_form_values)]


@router.get("/campaigns/{slug}/evidence/new")
def new_evidence(request: Request, slug: str, session: SessionDep, user: StaffUser):
    campaign = service.get_campaign_by_slug(session, slug=slug)
    return _evidence_editor(request, session, user, campaign, evidence=None, form=_evidence_form(None), errors={})


@router.post("/campaigns/{slug}/evidence")
def create_evidence(request: Request, slug: str, session: SessionDep, user: StaffUser, form: EvidenceForm):
    campaign = service.get_campaign_by_slug(session, slug=slug)
    problems: list[FieldError] = []
    try:
        with session.begin_nested():
            values = _evidence_values(form, problems)
            if problems:
                raise InvalidInput("Some fields need attention.", errors=problems)
            evidence = service.create_evidence(session, campaign_id=campaign.id,
                                               evidence_in=parse(EvidenceCreate, values), actor=user)
    except CosignError as error:
        return _evidence_editor(request, session, user, campaign, evidence=None, form=form,
                                errors=_form_errors(error), status_code=error.status_code)
    return redirect(f"/campaigns/{campaign.slug}/evidence/{evidence.slug}", f"Added {evidence.slug}.")


def _item(session, campaign_slug: str, evidence_slug: str) -> tuple[Campaign, Evidence]:
    campaign = service.get_campaign_by_slug(session, slug=campaign_slug)
    return campaign, service.get_evidence_by_slug(session, campaign_id=campaign.id, slug=evidence_slug)


@router.get("/campaigns/{slug}/evidence/{evidence_slug}")
def evidence_item(request: Request, slug: str, evidence_slug: str, session: SessionDep, user: AnyUser):
    campaign, evidence = _item(session, slug, evidence_slug)
    chart = None
    if evidence.kind == EvidenceKind.table:
        column, points = charts.table_series(evidence.data.get("columns", []), evidence.data.get("rows", []))
        if points:
            chart = charts.column_chart(points, title=f"{evidence.title}: {column}", note=evidence.source_title)
    return render(request, "campaign/evidence_item.html", {
        **_base(user, campaign, "evidence"), "evidence": evidence, "item": evidence,
        "versions": service.list_versions(session, evidence_id=evidence.id),
        "links": service.evidence_links(session, evidence=evidence), "chart": chart, "shown_version": None})


@router.get("/campaigns/{slug}/evidence/{evidence_slug}/versions/{version}")
def evidence_version(request: Request, slug: str, evidence_slug: str, version: RowId, session: SessionDep,
                     user: AnyUser):
    campaign, evidence = _item(session, slug, evidence_slug)
    shown = service.get_evidence_version(session, evidence_id=evidence.id, version=version)
    return render(request, "campaign/evidence_item.html", {
        **_base(user, campaign, "evidence"), "evidence": evidence, "item": shown,
        "versions": service.list_versions(session, evidence_id=evidence.id),
        "links": service.evidence_links(session, evidence=evidence), "chart": None, "shown_version": shown})


@router.get("/campaigns/{slug}/evidence/{evidence_slug}/edit")
def edit_evidence(request: Request, slug: str, evidence_slug: str, session: SessionDep, user: StaffUser):
    campaign, evidence = _item(session, slug, evidence_slug)
    return _evidence_editor(request, session, user, campaign, evidence=evidence, form=_evidence_form(evidence),
                            errors={})


@router.post("/campaigns/{slug}/evidence/{evidence_slug}/edit")
def update_evidence(request: Request, slug: str, evidence_slug: str, session: SessionDep, user: StaffUser,
                    form: EvidenceForm):
    campaign, evidence = _item(session, slug, evidence_slug)
    problems: list[FieldError] = []
    try:
        with session.begin_nested():
            values = _evidence_values(form, problems)
            if problems:
                raise InvalidInput("Some fields need attention.", errors=problems)
            evidence = service.update_evidence(session, evidence_id=evidence.id, actor=user, evidence_in=parse(
                EvidenceUpdate, {**values, "change_note": form["change_note"]}))
    except CosignError as error:
        return _evidence_editor(request, session, user, campaign, evidence=evidence, form=form,
                                errors=_form_errors(error), status_code=error.status_code)
    return redirect(f"/campaigns/{campaign.slug}/evidence/{evidence.slug}",
                    f"Saved {evidence.slug}; it is now at version {evidence.version}.")
