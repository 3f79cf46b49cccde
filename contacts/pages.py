"""Pages: the people directory, a person, imports (with the CSV mapping preview), duplicates, segments."""

from __future__ import annotations

import json
import re
import secrets
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import Response
from starlette.datastructures import QueryParams

from campaign.accounts.models import Role, User
from campaign.deps import AdminUser, AnyUser, SessionDep, allow
from campaign.errors import CosignError, FieldError, InvalidInput
from campaign.settings import get_settings
from campaign.web import redirect, render
from contacts import privacy, service
from contacts.api import checked_upload
from contacts.imports import ImportFormat, csv_mapping, import_file, preview_csv
from contacts.models import Position, StanceSource
from contacts.schemas import (MAX_ID, filter_from_query, filter_to_query, person_form_values,
                              person_update_from_form)

PersonId = Annotated[int, Path(ge=1, le=MAX_ID)]
SegmentId = Annotated[int, Path(ge=1, le=MAX_ID)]
OrganizationId = Annotated[int, Path(ge=1, le=MAX_ID)]

router = APIRouter(include_in_schema=False)  # pages, not part of the JSON API

Editor = Annotated[User, Depends(allow(Role.staff, Role.coordinator))]
StanceRecorder = Annotated[User, Depends(allow(Role.staff, Role.coordinator, Role.volunteer))]
_UPLOAD_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def _can_edit(user: User) -> bool:
    return user.role in (Role.admin, Role.staff, Role.coordinator)


@router.get("/people")
def directory(request: Request, session: SessionDep, user: AnyUser,
              cursor: Annotated[str | None, Query(max_length=500)] = None):
    person_filter = filter_from_query(request.query_params)
    page = service.list_people(session, person_filter=person_filter, cursor=cursor)
    query = filter_to_query(person_filter)
    return render(request, "contacts/directory.html", {
        "page": page, "filter": person_filter, "options": service.filter_options(session),
        "query": urlencode(query), "next_query": urlencode([*query, ("cursor", page.next_cursor)]) if page.next_cursor else "",
        "can_edit": _can_edit(user)})


@router.get("/people/export.csv")
def export(request: Request, session: SessionDep, user: AnyUser) -> Response:
    body = service.export_csv(session, person_filter=filter_from_query(request.query_params))
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="people.csv"'})


# --- imports ----------------------------------------------------------------------------------------


def _upload_dir():
    directory = get_settings().var_dir / "uploads"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@router.get("/people/import")
def import_form(request: Request, user: Editor):
    return render(request, "contacts/import.html", {"formats": list(ImportFormat), "form": {}, "errors": [],
                                                     "report": None, "limit": get_settings().max_upload_bytes})


@router.post("/people/import")
def import_upload(request: Request, session: SessionDep, user: Editor, file: Annotated[UploadFile, File()],
                  format: Annotated[str, Form(max_length=20)] = "auto",
                  country: Annotated[str, Form(max_length=8)] = ""):
    form = {"format": format, "country": country}
    context = {"formats": list(ImportFormat), "form": form, "report": None, "limit": get_settings().max_upload_bytes}
    try:
        fmt = ImportFormat(format)
        upload = checked_upload(file)
        filename = file.filename or "upload"
        if fmt is ImportFormat.csv or (fmt is ImportFormat.auto and filename.lower().endswith(".csv")
                                       and "epid" not in upload.read(2000).decode("utf-8", "ignore").split("\n", 1)[0]):
            # A plain CSV: keep it aside and show the column mapping before anything is written.
            upload.seek(0)
            content = upload.read()
            token = secrets.token_hex(16)
            (_upload_dir() / f"{token}.csv").write_bytes(content)
            preview = preview_csv(content=content, filename=filename, country=country)
            return render(request, "contacts/import_preview.html", {
                "preview": preview, "token": token, "filename": filename, "country": country,
                "fields": csv_mapping.FIELDS, "ignore": csv_mapping.IGNORE})
        report = import_file(session, upload=upload, filename=filename, fmt=fmt, country=country, actor=user)
    except ValueError:
        return render(request, "contacts/import.html", context | {"errors": [FieldError("format", "unknown format")]},
                      status_code=422)
    except CosignError as error:
        return render(request, "contacts/import.html", context | {"errors": error.errors or [FieldError("file", error.detail)],
                                                                   "detail": error.detail},
                      status_code=error.status_code)
    return render(request, "contacts/import.html", context | {"errors": [], "report": report})


@router.post("/people/import/csv")
def import_csv_commit(request: Request, session: SessionDep, user: Editor,
                      token: Annotated[str, Form(max_length=40)] = "",
                      filename: Annotated[str, Form(max_length=200)] = "contacts.csv",
                      country: Annotated[str, Form(max_length=8)] = "",
                      action: Annotated[str, Form(max_length=20)] = "preview",
                      map: Annotated[list[str], Form()] = [],  # noqa: B006  (one per column, in order)
                      scheme: Annotated[list[str], Form()] = []):  # noqa: B006
    if not _UPLOAD_TOKEN.match(token) or not (_upload_dir() / f"{token}.csv").is_file():
        raise InvalidInput("The uploaded file has expired; upload it again.", errors=[FieldError("token", "unknown")])
    path = _upload_dir() / f"{token}.csv"
    content = path.read_bytes()
    header = preview_csv(content=content, filename=filename, mapping={}).header
    mapping = {}
    for index, column in enumerate(header):
        target = map[index] if index < len(map) else csv_mapping.IGNORE
        if target == "identifier":
            chosen = scheme[index].strip() if index < len(scheme) else ""
            target = f"{csv_mapping.IDENTIFIER_PREFIX}{chosen or column.strip().lower()}"
        mapping[column] = target
    form = {"action": action}
    if form.get("action") != "import":
        preview = preview_csv(content=content, filename=filename, mapping=mapping, country=country)
        return render(request, "contacts/import_preview.html", {
            "preview": preview, "token": token, "filename": filename, "country": country,
            "fields": csv_mapping.FIELDS, "ignore": csv_mapping.IGNORE})
    try:
        report = import_file(session, content=content, filename=filename, fmt=ImportFormat.csv, mapping=mapping,
                             country=country, actor=user)
    except CosignError as error:
        preview = preview_csv(content=content, filename=filename, mapping=mapping, country=country)
        return render(request, "contacts/import_preview.html", {
            "preview": preview, "token": token, "filename": filename, "country": country,
            "fields": csv_mapping.FIELDS, "ignore": csv_mapping.IGNORE, "detail": error.detail,
            "errors": error.errors}, status_code=error.status_code)
    path.unlink(missing_ok=True)
    return render(request, "contacts/import.html", {"formats": list(ImportFormat), "form": {}, "errors": [],
                                                     "report": report, "limit": get_settings().max_upload_bytes})


# --- duplicates -------------------------------------------------------------------------------------


@router.get("/people/duplicates")
def duplicates(request: Request, session: SessionDep, user: Editor):
    return render(request, "contacts/duplicates.html", {"pairs": service.find_duplicates(session)})


@router.post("/people/merge")
def merge(session: SessionDep, user: Editor, keep_id: Annotated[int, Form(ge=1, le=MAX_ID)],
          drop_id: Annotated[int, Form(ge=1, le=MAX_ID)]):
    kept = service.merge_people(session, keep_id=keep_id, drop_id=drop_id, actor=user)
    return redirect(f"/people/{kept.id}", f"Merged into {kept.name}.", "success")


# --- a person ----------------------------------------------------------------------------------------


def _person_context(session, user: User, person_id: int) -> dict:
    return {"detail": service.person_detail(session, person_id=person_id, with_activity=True),
            "asks": service.list_asks(session), "positions": list(Position), "sources": list(StanceSource),
            "can_edit": _can_edit(user), "is_admin": user.role is Role.admin}


@router.get("/people/{person_id}")
def person_page(request: Request, session: SessionDep, user: AnyUser, person_id: PersonId):
    return render(request, "contacts/person.html",
                  _person_context(session, user, person_id) | {"form": {}, "errors": {}})


@router.get("/people/{person_id}/edit")
def edit_person_form(request: Request, session: SessionDep, user: Editor, person_id: PersonId):
    detail = service.person_detail(session, person_id=person_id)
    return render(request, "contacts/person_edit.html", {
        "person": detail.person, "form": person_form_values(detail.person, detail.tags), "errors": {}})


Short = Annotated[str, Form(max_length=300)]
Long = Annotated[str, Form(max_length=20000)]


@router.post("/people/{person_id}/edit")
def edit_person(request: Request, session: SessionDep, user: Editor, person_id: PersonId, name: Short = "",
                given_name: Short = "", family_name: Short = "", sort_name: Short = "", honorific_prefix: Short = "",
                honorific_suffix: Short = "", emails: Long = "", phones: Long = "", links: Long = "",
                notes: Long = "", tags: Long = ""):
    form = {"name": name, "given_name": given_name, "family_name": family_name, "sort_name": sort_name,
            "honorific_prefix": honorific_prefix, "honorific_suffix": honorific_suffix, "emails": emails,
            "phones": phones, "links": links, "notes": notes, "tags": tags}
    try:
        person = service.edit_person(session, person_id=person_id, person_in=person_update_from_form(form),
                                     actor=user)
    except InvalidInput as error:
        errors: dict[str, str] = {}
        for problem in error.errors:
            errors[problem.loc] = "; ".join(filter(None, [errors.get(problem.loc), problem.msg]))
        return render(request, "contacts/person_edit.html", {
            "person": service.get_person(session, person_id=person_id), "form": form, "errors": errors,
            "detail_message": error.detail}, status_code=422)
    return redirect(f"/people/{person_id}", f"Saved {person.name}.", "success")


@router.get("/people/{person_id}/erase")
def erase_form(request: Request, session: SessionDep, user: AdminUser, person_id: PersonId):
    return render(request, "contacts/person_erase.html", {"person": service.get_person(session, person_id=person_id),
                                                           "errors": {}})


@router.post("/people/{person_id}/erase")
def erase(request: Request, session: SessionDep, user: AdminUser, person_id: PersonId,
          confirm: Annotated[str, Form(max_length=50)] = ""):
    person = service.get_person(session, person_id=person_id)
    if confirm.strip().lower() != "erase":
        return render(request, "contacts/person_erase.html", {
            "person": person, "errors": {"confirm": 'type the word "erase" to confirm'}}, status_code=422)
    privacy.erase_person(session, person_id=person_id, actor=user)
    return redirect(f"/people/{person_id}", f"Erased person {person_id}: their details and history are gone.", "success")


@router.post("/people/{person_id}/stances")
def record_stance(request: Request, session: SessionDep, user: StanceRecorder, person_id: PersonId,
                  ask_id: Annotated[str, Form()] = "", position: Annotated[str, Form()] = "",
                  source_kind: Annotated[str, Form()] = "", source_url: Annotated[str, Form(max_length=1000)] = "",
                  source_note: Annotated[str, Form(max_length=10000)] = "",
                  source_evidence_id: Annotated[str, Form()] = "", source_response_id: Annotated[str, Form()] = ""):
    form = {"ask_id": ask_id, "position": position, "source_kind": source_kind, "source_url": source_url,
            "source_note": source_note, "source_evidence_id": source_evidence_id,
            "source_response_id": source_response_id}
    try:
        ints = {}
        for name in ("ask_id", "source_evidence_id", "source_response_id"):
            raw = form[name].strip()
            if raw and not raw.isdigit():
                raise InvalidInput("The stance was not recorded.", errors=[FieldError(name, "must be a number")])
            ints[name] = int(raw) if raw else None
        service.record_stance(session, person_id=person_id, ask_id=ints["ask_id"] or 0, position=position,
                              source_kind=source_kind, source_evidence_id=ints["source_evidence_id"],
                              source_response_id=ints["source_response_id"], source_url=source_url,
                              source_note=source_note, actor=user)
    except InvalidInput as error:
        return render(request, "contacts/person.html", _person_context(session, user, person_id) | {
            "form": form, "errors": {e.loc: e.msg for e in error.errors}}, status_code=422)
    return redirect(f"/people/{person_id}", "Stance recorded.", "success")


@router.post("/people/{person_id}/tags")
def add_tag(session: SessionDep, user: Editor, person_id: PersonId, tag: Annotated[str, Form(max_length=80)] = ""):
    service.get_person(session, person_id=person_id)
    service.add_tag(session, person_id=person_id, tag=tag)
    return redirect(f"/people/{person_id}", f"Tagged {tag.strip()}.", "success")


# --- segments ----------------------------------------------------------------------------------------


@router.get("/segments")
def segments(request: Request, session: SessionDep, user: AnyUser):
    items = [(segment, urlencode(filter_to_query(segment.filter))) for segment in service.list_segments(session)]
    return render(request, "contacts/segments.html", {"segments": items, "can_edit": _can_edit(user)})


@router.post("/segments")
def create_segment(session: SessionDep, user: Editor, name: Annotated[str, Form(max_length=200)] = "",
                   description: Annotated[str, Form(max_length=5000)] = "",
                   filter_query: Annotated[str, Form(max_length=5000)] = ""):
    """Save the directory's current filter (its query string) under a name."""
    person_filter = filter_from_query(QueryParams(filter_query))
    segment = service.create_segment(session, name=name, person_filter=person_filter, description=description,
                                     actor=user)
    return redirect(f"/segments/{segment.id}", f"Saved segment {segment.name}.", "success")


@router.get("/segments/{segment_id}")
def segment_page(request: Request, session: SessionDep, user: AnyUser, segment_id: SegmentId):
    segment = service.get_segment(session, segment_id=segment_id)
    rows = service.segment_people(session, segment_id=segment_id)
    return render(request, "contacts/segment.html", {"segment": segment, "rows": rows,
                                                      "query": urlencode(filter_to_query(segment.filter)),
                                                      "filter_json": json.dumps(segment.filter, indent=1),
                                                      "can_edit": _can_edit(user)})


@router.post("/segments/{segment_id}/delete")
def delete_segment(session: SessionDep, user: Editor, segment_id: SegmentId):
    service.delete_segment(session, segment_id=segment_id, actor=user)
    return redirect("/segments", "Segment deleted.", "success")
