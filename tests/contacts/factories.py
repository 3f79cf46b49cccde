"""Factory functions for contacts tests."""

from __future__ import annotations

import secrets

from sqlmodel import Session

from campaign.models import Ask, Campaign
from contacts import service
from contacts.models import OrgClassification, Person


def make_ask(session: Session, *, title: str = "Suspend the extradition treaty") -> Ask:
    campaign = Campaign(slug=f"c-{secrets.token_hex(4)}", name="Stop the visit")
    session.add(campaign)
    session.flush()
    ask = Ask(campaign_id=campaign.id, slug=f"a-{secrets.token_hex(4)}", title=title)
    session.add(ask)
    session.flush()
    return ask


def make_person(session: Session, *, name: str = "Ada Example", chamber: str = "Test Chamber", party: str = "",
                email: str = "", country: str = "GB") -> Person:
    org = service.get_or_create_organization(session, name=chamber, classification=OrgClassification.chamber,
                                             country=country)
    party_org = service.get_or_create_organization(session, name=party, classification=OrgClassification.party,
                                                   country=country) if party else None
    person = service.upsert_person(session, name=name, email=email, match_organization_id=org.id)
    service.add_membership(session, person_id=person.id, organization_id=org.id, role="Member",
                           on_behalf_of_id=party_org.id if party_org else None)
    return person
