"""JSON API for contacts: the directory, people, organisations, stances, segments, imports, export."""

from __future__ import annotations

import io
import json
from typing import Annotated, BinaryIO

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from campaign.accounts.models import Role, User
from campaign.deps import AdminUser, AnyUser, SessionDep, allow, writes_on_read
from campaign.errors import FieldError, InvalidInput
from campaign.settings import get_settings
from contacts import privacy, service
from contacts.imports import ImportFormat, import_file
from contacts.models import Organization
from contacts.schemas import (IdentifierRead, MembershipRead, MergeRequest, OrganizationRead, PersonPage, PersonRead,
                              PersonSummary, PersonUpdate, SegmentCreate, SegmentRead, SegmentUpdate, StanceCreate,
                              StanceRead,
                              MAX_ID, filter_from_query)

PersonId = Annotated[int, Path(ge=1, le=MAX_ID)]
SegmentId = Annotated[int, Path(ge=1, le=MAX_ID)]
OrganizationId = Annotated[int, Path(ge=1, le=MAX_ID)]

router = APIRouter(tags=["contacts"])

Editor = Annotated[User, Depends(allow(Role.staff, Role.coordinator))]
StanceRecorder = Annotated[User, Depends(allow(Role.staff, Role.coordinator, Role.volunteer))]


def _organization(org: Organization, read: dict[int, OrganizationRead]) -> OrganizationRead:
    """Each organisation is read once per response, however many memberships name it."""
    if org.id not in read:
        read[org.id] = OrganizationRead.model_validate(org)
    return read[org.id]


def _membership(view: service.MembershipView, organizations: dict[int, OrganizationRead]) -> MembershipRead:
    m = view.membership
    return MembershipRead(id=m.id, organization=_organization(view.organization, organizations),
                          on_behalf_of=_organization(view.on_behalf_of, organizations) if view.on_behalf_of else None,
                          role=m.role, post_label=m.post_label, country=m.country, start_date=m.start_date,
                          end_date=m.end_date, current=view.current)


def _summaries(rows: list[service.PersonRow]) -> list[PersonSummary]:
    organizations: dict[int, OrganizationRead] = {}
    return [PersonSummary(id=row.person.id, name=row.person.name, honorific_prefix=row.person.honorific_prefix,
                          honorific_suffix=row.person.honorific_suffix, email=row.person.email,
                          memberships=[_membership(m, organizations) for m in row.memberships],
                          stance=row.stance.position if row.stance else None) for row in rows]


def checked_upload(upload: UploadFile) -> BinaryIO:
    """The uploaded file (spooled to disk by the server, not read into memory), refused when
    it is over the configured limit."""
    limit = get_settings().max_upload_bytes
    size = upload.file.seek(0, io.SEEK_END)
    upload.file.seek(0)
    if size > limit:
        raise InvalidInput(f"{upload.filename or 'The file'} is too large (the limit is {limit:,} bytes).",
                           errors=[FieldError("file", f"larger than {limit:,} bytes")])
    return upload.file


@router.get("/people", response_model=PersonPage)
def list_people(request: Request, session: SessionDep, user: AnyUser,
                cursor: Annotated[str | None, Query(max_length=500)] = None,
                limit: Annotated[int, Query(ge=1, le=500)] = 50):
    # A page of PersonSummary sent as the service built it: no models to validate (see list_people_summaries).
    person_filter = filter_from_query(request.query_params)
    page = service.list_people_summaries(session, person_filter=person_filter, cursor=cursor, limit=limit)
    return JSONResponse({"items": page.items, "total": page.total, "next_cursor": page.next_cursor})


@router.get("/people.csv", response_class=Response,
            responses={200: {"description": "The filtered people as CSV.",
                             "content": {"text/csv": {"schema": {"type": "string"}}}}})
def export_people(request: Request, session: SessionDep, user: AnyUser) -> Response:
    body = service.export_csv(session, person_filter=filter_from_query(request.query_params))
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="people.csv"'})


@router.post("/imports")
def import_people(session: SessionDep, user: Editor, file: Annotated[UploadFile, File()],
                  format: Annotated[ImportFormat, Form()] = ImportFormat.auto,
                  country: Annotated[str, Form(max_length=8)] = "") -> dict:
    report = import_file(session, upload=checked_upload(file), filename=file.filename or "upload", fmt=format,
                         country=country, actor=user)
    return report.as_dict()


@router.post("/merges", response_model=PersonRead)
def merge_people(session: SessionDep, user: Editor, merge_in: MergeRequest):
    kept = service.merge_people(session, keep_id=merge_in.keep_id, drop_id=merge_in.drop_id, actor=user)
    return _person_read(session, kept.id)


def _person_read(session, person_id: int) -> PersonRead:
    detail = service.person_detail(session, person_id=person_id)
    read = PersonRead.model_validate(detail.person)
    read.tags = detail.tags
    read.identifiers = [IdentifierRead(scheme=i.scheme, value=i.value) for i in detail.identifiers]
    read.memberships = [_membership(m, {}) for m in detail.row.memberships]
    read.stances = [StanceRead.model_validate(s) for h in detail.history for s in h.stances]
    return read


@router.get("/people/{person_id}", response_model=PersonRead)
def get_person(session: SessionDep, user: AnyUser, person_id: PersonId):
    return _person_read(session, person_id)


@router.patch("/people/{person_id}", response_model=PersonRead)
def update_person(session: SessionDep, user: Editor, person_id: PersonId, person_in: PersonUpdate):
    service.edit_person(session, person_id=person_id, person_in=person_in, actor=user)
    return _person_read(session, person_id)


_EXPORT_RESPONSE = {200: {"description": "Everything held about the person.",
                          "content": {"application/json": {"schema": {"type": "object"}}}}}


@router.get("/people/{person_id}/export", responses=_EXPORT_RESPONSE)
@writes_on_read
def export_person(session: SessionDep, user: AdminUser, person_id: PersonId) -> Response:
    """Everything held about one person, as a JSON download (admins; the export is audited)."""
    data = privacy.export_person(session, person_id=person_id, actor=user)
    return Response(json.dumps(data, indent=1, ensure_ascii=False), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="person-{person_id}.json"'})


@router.post("/people/{person_id}/erase", response_model=PersonRead)
def erase_person(session: SessionDep, user: AdminUser, person_id: PersonId):
    """Erase a person (admins): see contacts.privacy.erase_person for what goes and what stays."""
    privacy.erase_person(session, person_id=person_id, actor=user)
    return _person_read(session, person_id)


@router.post("/people/{person_id}/stances", response_model=StanceRead, status_code=201)
def record_stance(session: SessionDep, user: StanceRecorder, person_id: PersonId, stance_in: StanceCreate):
    stance = service.record_stance(session, person_id=person_id, actor=user, **stance_in.model_dump())
    return StanceRead.model_validate(stance)


@router.get("/organizations", response_model=list[OrganizationRead])
def list_organizations(session: SessionDep, user: AnyUser, classification: str = "", q: str = ""):
    kinds = [c for c in classification.split(",") if c]
    try:
        return service.list_organizations(session, classification=kinds, q=q)
    except ValueError:
        raise InvalidInput("Unknown classification.", errors=[FieldError("classification", "unknown")]) from None


@router.get("/organizations/{organization_id}", response_model=OrganizationRead)
def get_organization(session: SessionDep, user: AnyUser, organization_id: OrganizationId):
    return service.get_organization(session, organization_id=organization_id)


@router.get("/segments", response_model=list[SegmentRead])
def list_segments(session: SessionDep, user: AnyUser, campaign_id: int | None = None):
    return service.list_segments(session, campaign_id=campaign_id)


@router.post("/segments", response_model=SegmentRead, status_code=201)
def create_segment(session: SessionDep, user: Editor, segment_in: SegmentCreate):
    return service.create_segment(session, name=segment_in.name, description=segment_in.description,
                                  campaign_id=segment_in.campaign_id, person_filter=segment_in.filter, actor=user)


@router.get("/segments/{segment_id}", response_model=SegmentRead)
def get_segment(session: SessionDep, user: AnyUser, segment_id: SegmentId):
    return service.get_segment(session, segment_id=segment_id)


@router.patch("/segments/{segment_id}", response_model=SegmentRead)
def update_segment(session: SessionDep, user: Editor, segment_id: SegmentId, segment_in: SegmentUpdate):
    return service.update_segment(session, segment_id=segment_id, actor=user, name=segment_in.name,
                                  description=segment_in.description, person_filter=segment_in.filter)


@router.delete("/segments/{segment_id}", status_code=204)
def delete_segment(session: SessionDep, user: Editor, segment_id: SegmentId) -> Response:
    service.delete_segment(session, segment_id=segment_id, actor=user)
    return Response(status_code=204)


@router.get("/segments/{segment_id}/people", response_model=list[PersonSummary])
def segment_people(session: SessionDep, user: AnyUser, segment_id: SegmentId):
    return _summaries(service.segment_people(session, segment_id=segment_id))
