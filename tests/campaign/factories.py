"""Factory functions for campaigns, asks, events and evidence in tests."""

from __future__ import annotations

import secrets
from typing import Any

from sqlmodel import Session

from campaign import service
from campaign.models import Ask, Campaign, Event, Evidence, EvidenceKind
from campaign.schemas import AskCreate, CampaignCreate, EventCreate, EvidenceCreate


def make_campaign(session: Session, *, name: str = "Stop the visit", slug: str | None = None, **values: Any) -> Campaign:
    campaign = service.create_campaign(session, actor="tests", campaign_in=CampaignCreate(
        name=name, slug=slug or f"campaign-{secrets.token_hex(3)}", **values))
    session.commit()
    return campaign


def make_ask(session: Session, campaign: Campaign, *, title: str = "Refuse the visit", slug: str = "",
             **values: Any) -> Ask:
    ask = service.create_ask(session, campaign_id=campaign.id, actor="tests",
                             ask_in=AskCreate(title=title, slug=slug, **values))
    session.commit()
    return ask


def make_event(session: Session, campaign: Campaign, *, title: str = "Urgency resolution", kind: str = "resolution",
               start: str = "2022-06-09", **values: Any) -> Event:
    event = service.create_event(session, campaign_id=campaign.id, actor="tests",
                                 event_in=EventCreate(kind=kind, title=title, start=start, **values))
    session.commit()
    return event


def make_evidence(session: Session, campaign: Campaign, *, slug: str = "skynet-returns-2018",
                  kind: EvidenceKind | str = EvidenceKind.figure, title: str = "Sky Net returns in 2018",
                  data: dict[str, Any] | None = None, **values: Any) -> Evidence:
    if data is None:
        data = {"value": 1335, "unit": "returns", "as_of": "2018"} if EvidenceKind(kind) == EvidenceKind.figure else {}
    evidence = service.create_evidence(session, campaign_id=campaign.id, actor="tests", evidence_in=EvidenceCreate(
        slug=slug, kind=kind, title=title, data=data, **values))
    session.commit()
    return evidence
