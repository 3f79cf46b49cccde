"""JSON API for campaigns, asks, events and evidence. Staff (and admins) edit; every role reads."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from campaign import service
from campaign.accounts.models import Role, User
from campaign.deps import AnyUser, SessionDep, allow
from campaign.models import EventKind, EvidenceKind
from campaign.schemas import (
    AskCreate,
    AskOrder,
    AskRead,
    AskStances,
    AskUpdate,
    CampaignCreate,
    CampaignRead,
    CampaignUpdate,
    EventCreate,
    EventRead,
    EventUpdate,
    EvidenceCreate,
    EvidenceRead,
    EvidenceUpdate,
    EvidenceVersionRead,
    MAX_ID,
    NO_NUL,
    StanceCounts,
)

router = APIRouter(tags=["campaigns"])

StaffUser = Annotated[User, Depends(allow(Role.staff))]
CampaignId = Annotated[int, Path(ge=1, le=MAX_ID)]
AskId = Annotated[int, Path(ge=1, le=MAX_ID)]
EventId = Annotated[int, Path(ge=1, le=MAX_ID)]
EvidenceId = Annotated[int, Path(ge=1, le=MAX_ID)]
VersionNumber = Annotated[int, Path(ge=1, le=MAX_ID)]
Slug = Annotated[str, Path(max_length=80, pattern=NO_NUL)]
SearchText = Annotated[str, Query(max_length=200, pattern=NO_NUL)]


# --- campaigns ------------------------------------------------------------------------


@router.get("/campaigns", response_model=list[CampaignRead])
def list_campaigns(session: SessionDep, user: AnyUser):
    return service.list_campaigns(session)


@router.post("/campaigns", response_model=CampaignRead, status_code=status.HTTP_201_CREATED)
def create_campaign(campaign_in: CampaignCreate, session: SessionDep, user: StaffUser):
    return service.create_campaign(session, campaign_in=campaign_in, actor=user)


@router.get("/campaigns/{campaign_id}", response_model=CampaignRead)
def read_campaign(campaign_id: CampaignId, session: SessionDep, user: AnyUser):
    return service.get_campaign(session, campaign_id=campaign_id)


@router.patch("/campaigns/{campaign_id}", response_model=CampaignRead)
def update_campaign(campaign_id: CampaignId, campaign_in: CampaignUpdate, session: SessionDep, user: StaffUser):
    return service.update_campaign(session, campaign_id=campaign_id, campaign_in=campaign_in, actor=user)


@router.delete("/campaigns/{campaign_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_campaign(campaign_id: CampaignId, session: SessionDep, user: StaffUser):
    service.delete_campaign(session, campaign_id=campaign_id, actor=user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/campaigns/{campaign_id}/stances", response_model=list[AskStances])
def campaign_stances(campaign_id: CampaignId, session: SessionDep, user: AnyUser):
    """Current stances on each ask, counted by chamber and by party."""
    service.get_campaign(session, campaign_id=campaign_id)
    return [AskStances(ask_id=s.ask.id, title=s.ask.title, total=s.total,
                       by_chamber=[StanceCounts(group=g, counts=dict(c)) for g, c in s.by_chamber],
                       by_party=[StanceCounts(group=g, counts=dict(c)) for g, c in s.by_party])
            for s in service.stance_summaries(session, campaign_id=campaign_id)]


# --- asks --------------------------------------------------------------------------------


@router.get("/campaigns/{campaign_id}/asks", response_model=list[AskRead])
def list_asks(campaign_id: CampaignId, session: SessionDep, user: AnyUser):
    service.get_campaign(session, campaign_id=campaign_id)
    return service.list_asks(session, campaign_id=campaign_id)


@router.post("/campaigns/{campaign_id}/asks", response_model=AskRead, status_code=status.HTTP_201_CREATED)
def create_ask(campaign_id: CampaignId, ask_in: AskCreate, session: SessionDep, user: StaffUser):
    return service.create_ask(session, campaign_id=campaign_id, ask_in=ask_in, actor=user)


@router.put("/campaigns/{campaign_id}/asks/order", response_model=list[AskRead])
def reorder_asks(campaign_id: CampaignId, order_in: AskOrder, session: SessionDep, user: StaffUser):
    return service.reorder_asks(session, campaign_id=campaign_id, ask_ids=order_in.ask_ids, actor=user)


@router.get("/asks/{ask_id}", response_model=AskRead)
def read_ask(ask_id: AskId, session: SessionDep, user: AnyUser):
    return service.get_ask(session, ask_id=ask_id)


@router.patch("/asks/{ask_id}", response_model=AskRead)
def update_ask(ask_id: AskId, ask_in: AskUpdate, session: SessionDep, user: StaffUser):
    return service.update_ask(session, ask_id=ask_id, ask_in=ask_in, actor=user)


@router.delete("/asks/{ask_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_ask(ask_id: AskId, session: SessionDep, user: StaffUser):
    service.delete_ask(session, ask_id=ask_id, actor=user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- events ------------------------------------------------------------------------------


def _event_read(session, event) -> EventRead:
    return EventRead(**service.event_views(session, [event])[0].as_dict())


@router.get("/campaigns/{campaign_id}/events", response_model=list[EventRead])
def list_events(campaign_id: CampaignId, session: SessionDep, user: AnyUser,
                kind: Annotated[list[EventKind], Query()] = [],  # noqa: B006 (FastAPI reads the default)
                date_from: date | None = None, date_to: date | None = None):
    service.get_campaign(session, campaign_id=campaign_id)
    events = service.list_events(session, campaign_id=campaign_id, kinds=kind, date_from=date_from, date_to=date_to)
    return [EventRead(**view.as_dict()) for view in service.event_views(session, events)]


@router.post("/campaigns/{campaign_id}/events", response_model=EventRead, status_code=status.HTTP_201_CREATED)
def create_event(campaign_id: CampaignId, event_in: EventCreate, session: SessionDep, user: StaffUser):
    return _event_read(session, service.create_event(session, campaign_id=campaign_id, event_in=event_in, actor=user))


@router.get("/events/{event_id}", response_model=EventRead)
def read_event(event_id: EventId, session: SessionDep, user: AnyUser):
    return _event_read(session, service.get_event(session, event_id=event_id))


@router.patch("/events/{event_id}", response_model=EventRead)
def update_event(event_id: EventId, event_in: EventUpdate, session: SessionDep, user: StaffUser):
    return _event_read(session, service.update_event(session, event_id=event_id, event_in=event_in, actor=user))


@router.delete("/events/{event_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_event(event_id: EventId, session: SessionDep, user: StaffUser):
    service.delete_event(session, event_id=event_id, actor=user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- evidence -----------------------------------------------------------------------------


@router.get("/campaigns/{campaign_id}/evidence", response_model=list[EvidenceRead])
def list_evidence(campaign_id: CampaignId, session: SessionDep, user: AnyUser, q: SearchText = "",
                  tag: SearchText = "",
                  kind: Annotated[list[EvidenceKind], Query()] = []):  # noqa: B006
    service.get_campaign(session, campaign_id=campaign_id)
    items = service.list_evidence(session, campaign_id=campaign_id, q=q, tag=tag, kinds=kind)
    return service.evidence_reads(session, items)


@router.post("/campaigns/{campaign_id}/evidence", response_model=EvidenceRead, status_code=status.HTTP_201_CREATED)
def create_evidence(campaign_id: CampaignId, evidence_in: EvidenceCreate, session: SessionDep, user: StaffUser):
    evidence = service.create_evidence(session, campaign_id=campaign_id, evidence_in=evidence_in, actor=user)
    return service.evidence_read(session, evidence)


@router.get("/campaigns/{campaign_id}/evidence/by-slug/{slug}", response_model=EvidenceVersionRead)
def cite_lookup(campaign_id: CampaignId, slug: Slug, session: SessionDep, user: AnyUser):
    """The current version of the item that ``cite(slug)`` would cite."""
    return service.cite_lookup(session, campaign_id=campaign_id, slug=slug)


@router.get("/evidence/{evidence_id}", response_model=EvidenceRead)
def read_evidence(evidence_id: EvidenceId, session: SessionDep, user: AnyUser):
    return service.evidence_read(session, service.get_evidence(session, evidence_id=evidence_id))


@router.patch("/evidence/{evidence_id}", response_model=EvidenceRead)
def update_evidence(evidence_id: EvidenceId, evidence_in: EvidenceUpdate, session: SessionDep, user: StaffUser):
    evidence = service.update_evidence(session, evidence_id=evidence_id, evidence_in=evidence_in, actor=user)
    return service.evidence_read(session, evidence)


@router.get("/evidence/{evidence_id}/versions", response_model=list[EvidenceVersionRead])
def list_versions(evidence_id: EvidenceId, session: SessionDep, user: AnyUser):
    service.get_evidence(session, evidence_id=evidence_id)
    return service.list_versions(session, evidence_id=evidence_id)


@router.get("/evidence/{evidence_id}/versions/{version}", response_model=EvidenceVersionRead)
def read_version(evidence_id: EvidenceId, version: VersionNumber, session: SessionDep, user: AnyUser):
    return service.get_evidence_version(session, evidence_id=evidence_id, version=version)
