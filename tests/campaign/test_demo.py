"""The demo campaign: built from the seed documents' facts, and idempotent."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel, select

import campaign.tables  # noqa: F401
from campaign import demo, service
from campaign.models import EventKind, EvidenceKind
from contacts import service as contacts_service
from contacts.models import Membership, Organization, Person

ROW_COUNTED_TABLES = ("campaign", "ask", "event", "event_person", "event_organization", "evidence",
                      "evidence_version", "evidence_tag", "evidence_event", "evidence_person", "person",
                      "organization", "membership", "identifier", "stance", "audit_entry")


def _row_counts(session) -> dict[str, int]:
    tables = SQLModel.metadata.tables
    return {name: session.execute(sa.select(sa.func.count()).select_from(tables[name])).scalar_one()
            for name in ROW_COUNTED_TABLES}


def test_the_demo_loads_once_and_a_second_run_changes_nothing(session):
    before = _row_counts(session)
    first = demo.load(session)
    after_first = _row_counts(session)
    second = demo.load(session)
    after_second = _row_counts(session)

    assert first.startswith("Loaded the demo campaign")
    assert "already loaded; nothing changed" in second
    assert after_second == after_first
    loaded = {name: after_first[name] - before[name] for name in ROW_COUNTED_TABLES}
    assert loaded["campaign"] == 1
    assert loaded["ask"] == 6
    assert loaded["event"] == 18
    assert loaded["evidence"] == 28 and loaded["evidence_version"] == 28
    assert loaded["person"] == 11 and loaded["stance"] == 4
    assert "6 asks, 18 events, 28 evidence items, 11 people" in first


def test_the_demo_holds_what_the_issue_asks_for(session):
    demo.load(session)
    campaign = service.get_campaign_by_slug(session, slug=demo.CAMPAIGN_SLUG)
    asks = [ask.title for ask in service.list_asks(session, campaign_id=campaign.id)]
    assert asks[:4] == ["Refuse the visit", "Suspend the extradition treaties with the PRC",
                        "Magnitsky-style sanctions on named officials",
                        "Ask the government whether these operations are monitored"]

    events = {e.title: e for e in service.list_events(session, campaign_id=campaign.id)}
    assert len(events) >= 10
    assert events["Xi Jinping opens the 86th Interpol General Assembly in Beijing"].start_date.isoformat() == "2017-09-26"
    assert events["Safeguard Defenders publishes Involuntary Returns"].kind == EventKind.report
    assert events["European Parliament urgency resolution calls for sanctions"].start_date.isoformat() == "2022-06-09"
    assert events["Liu v. Poland judgment enters into force"].start_date.isoformat() == "2023-01-30"
    assert events["Liu Jianchao visits London to speak at Chatham House"].start_precision.value == "year"
    assert events["Cross-party parliamentarians write to the Prime Minister"].kind == EventKind.letter_sent
    assert events["Liu Jianchao taken away for questioning"].kind == EventKind.arrest_or_detention

    evidence = {e.slug: e for e in service.list_evidence(session, campaign_id=campaign.id)}
    assert len(evidence) >= 15
    assert all(item.source_title for item in evidence.values())
    kinds = {item.kind for item in evidence.values()}
    assert kinds == set(EvidenceKind)
    assert sum(item.kind == EvidenceKind.quote for item in evidence.values()) >= 5
    assert evidence["skynet-returns-2018"].data["value"] == 1335
    assert evidence["liuzhi-reported-total"].data["value"] == 12193
    assert evidence["quote-liu-liuzhi"].text == "These are not criminal or judicial arrests and they are more effective."


def test_the_demo_tables_add_up_as_in_the_dossier(session):
    """The transcribed rows sum to the totals the dossier prints, so no figure was mistyped."""
    demo.load(session)
    campaign = service.get_campaign_by_slug(session, slug=demo.CAMPAIGN_SLUG)
    per_year = service.get_evidence_by_slug(session, campaign_id=campaign.id, slug="skynet-returns-per-year").data
    years = [row for row in per_year["rows"] if isinstance(row[0], int) and row[1] is not None]
    total = next(row for row in per_year["rows"] if row[0] == "Total")
    assert [row[0] for row in years] == list(range(2014, 2023))
    assert sum(row[1] for row in years) == total[1] == 11124
    # The dossier's printed total is one more than its rows add up to (rounding); it is kept as printed and noted.
    assert (sum(row[2] for row in years), total[2]) == (7118, 7119)
    notes = service.get_evidence_by_slug(session, campaign_id=campaign.id, slug="skynet-returns-per-year")
    assert "7,119" in notes.reliability_notes and "7,118" in notes.reliability_notes

    methods = service.get_evidence_by_slug(session, campaign_id=campaign.id, slug="skynet-return-methods-2018").data
    *parts, total = methods["rows"]
    assert sum(row[1] for row in parts) == total[1] == 1335

    liuzhi = service.get_evidence_by_slug(session, campaign_id=campaign.id, slug="liuzhi-by-province").data
    *parts, total = liuzhi["rows"]
    assert len(parts) == 22 and total[2:] == [11846, 12193]
    # The dossier's totals do not reconcile with its rows; kept as printed, and the notes say so.
    assert sum(row[2] for row in parts) == 12549
    notes = service.get_evidence_by_slug(session, campaign_id=campaign.id, slug="liuzhi-by-province")
    assert "12,549" in notes.reliability_notes


def test_the_demo_contacts_sit_in_the_right_chamber_and_party_with_sourced_stances(session):
    demo.load(session)
    campaign = service.get_campaign_by_slug(session, slug=demo.CAMPAIGN_SLUG)

    def seats(name: str) -> set[tuple[str, str]]:
        party = sa.orm.aliased(Organization)
        rows = session.exec(select(Organization.name, party.name).select_from(Membership)
                            .join(Person, Membership.person_id == Person.id)
                            .join(Organization, Membership.organization_id == Organization.id)
                            .outerjoin(party, Membership.on_behalf_of_id == party.id)
                            .where(Person.name == name))
        return {(org, party_name or "") for org, party_name in rows}

    assert ("House of Commons", "Labour") in seats("Sarah Champion")
    assert ("International Development Committee", "") in seats("Sarah Champion")
    assert ("House of Lords", "Crossbench") in seats("Lord Alton")
    assert ("House of Commons", "Conservative") in seats("Tim Loughton")
    assert ("House of Commons", "Liberal Democrat") in seats("Alistair Carmichael")
    assert ("Foreign, Commonwealth and Development Office", "") in seats("James Cleverly")
    assert ("International Department of the CPC Central Committee", "") in seats("Liu Jianchao")

    refuse = next(a for a in service.list_asks(session, campaign_id=campaign.id) if a.slug == "refuse-the-visit")
    letter = service.get_evidence_by_slug(session, campaign_id=campaign.id, slug="quote-line-crossed")
    signers = session.exec(select(Person).where(Person.name.in_(
        ["Sarah Champion", "Lord Alton", "Tim Loughton", "Alistair Carmichael", "James Cleverly"]))).all()
    stances = contacts_service.current_stances(session, person_ids=[p.id for p in signers], ask_id=refuse.id)
    assert {session.get(Person, pid).name for pid in stances} == {
        "Sarah Champion", "Lord Alton", "Tim Loughton", "Alistair Carmichael"}  # no stance is invented
    assert {s.position.value for s in stances.values()} == {"champion"}
    assert {s.source_evidence_id for s in stances.values()} == {letter.id}

    (summary, *_) = service.stance_summaries(session, campaign_id=campaign.id)
    assert {group: sum(c.values()) for group, c in summary.by_chamber} == {"House of Commons": 3, "House of Lords": 1}
