"""Campaigns, evidence, parliamentarians and letters for the letters tests, from the seed facts."""

from __future__ import annotations

import secrets
from datetime import date

from sqlmodel import Session

from campaign import service as campaign_service
from campaign.schemas import CampaignCreate, EvidenceCreate
from contacts import service as contacts_service
from contacts.models import OrgClassification, Person
from letters import service
from letters.models import Letter, LetterState
from letters.schemas import Addressee, LetterCreate, LetterTransition

PRIME_MINISTER = Addressee(name="Rishi Sunak", given_name="Rishi", family_name="Sunak", honorific_prefix="The Rt Hon",
                           honorific_suffix="MP", office="Prime Minister",
                           address_lines=["10 Downing Street", "London SW1A 2AA"])

BODY = """{{ recipient.salutation }},

Between 2015 and 2017 Liu Jianchao had ultimate command of international fugitive recovery operations{{ cite("liu-command") }}.

More than 10,000 people are claimed to have been returned{{ cite("skynet-returns") }}.

Yours sincerely,"""


def make_campaign(session: Session, name: str = "Stop the visit"):
    campaign = campaign_service.create_campaign(
        session, campaign_in=CampaignCreate(name=f"{name} {secrets.token_hex(2)}", summary="A visit to London."),
        actor="tests")
    campaign_service.create_evidence(session, campaign_id=campaign.id, actor="tests", evidence_in=EvidenceCreate(
        slug="liu-command", kind="claim",
        title="Liu Jianchao had command of international fugitive recovery operations, 2015-2017",
        source_title="Liu Jianchao - caught by his own investigators", source_author="Safeguard Defenders",
        source_date=date(2024, 8, 15), source_url="https://safeguarddefenders.com/en/blog/liu-jianchao"))
    campaign_service.create_evidence(session, campaign_id=campaign.id, actor="tests", evidence_in=EvidenceCreate(
        slug="skynet-returns", kind="figure", title="Claimed returns under Sky Net",
        data={"value": 10000, "unit": "returns", "as_of": "2021-12"},
        source_title="Involuntary Returns", source_author="Safeguard Defenders", source_date=date(2022, 1, 18)))
    session.flush()
    return campaign


def make_member(session: Session, name: str, *, family_name: str, chamber: str = "House of Commons",
                party: str = "Labour", prefix: str = "", suffix: str = "", country: str = "GB") -> Person:
    chamber_org = contacts_service.get_or_create_organization(session, name=chamber,
                                                              classification=OrgClassification.chamber, country=country)
    party_org = contacts_service.get_or_create_organization(session, name=party,
                                                            classification=OrgClassification.party, country=country)
    person = contacts_service.upsert_person(session, name=name, family_name=family_name, honorific_prefix=prefix,
                                            honorific_suffix=suffix, email=f"{family_name.lower()}@example.org",
                                            identifiers={"test": secrets.token_hex(6)})
    contacts_service.add_membership(session, person_id=person.id, organization_id=chamber_org.id,
                                    on_behalf_of_id=party_org.id, country=country)
    session.flush()
    return person


def make_letter(session: Session, campaign, *, body: str = BODY, actor="tests") -> Letter:
    return service.create_letter(session, actor=actor, letter_in=LetterCreate(
        campaign_id=campaign.id, title="Letter to the Prime Minister", subject="Visit of Liu Jianchao",
        body=body, addressees=[PRIME_MINISTER], sender_organisation="Inter-Parliamentary Alliance on China"))


def advance(session: Session, letter: Letter, *states: LetterState, actor) -> Letter:
    for state in states:
        letter = service.transition(session, letter_id=letter.id, transition_in=LetterTransition(to=state),
                                    actor=actor)
    return letter


def open_for_signatures(session: Session, letter: Letter, actor) -> Letter:
    return advance(session, letter, LetterState.in_review, LetterState.approved, LetterState.open_for_signatures,
                   actor=actor)
