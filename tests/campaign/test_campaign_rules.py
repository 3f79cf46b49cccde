"""The campaign domain's rules, tested through its service functions."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import func, select

from campaign import audit, service
from campaign.errors import Conflict, InvalidInput
from campaign.models import DatePrecision, Event, Evidence, EvidenceVersion
from campaign.schemas import AskCreate, CampaignCreate, CampaignUpdate, EventCreate, EventUpdate, EvidenceUpdate
from contacts import service as contacts_service
from tests.campaign.factories import make_ask, make_campaign, make_event, make_evidence


def _count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


# --- campaigns and asks --------------------------------------------------------------


def test_campaign_slug_is_made_from_the_name_and_must_be_unique(session):
    first = service.create_campaign(session, actor="tests", campaign_in=CampaignCreate(name="Stop the Visit!"))
    assert first.slug == "stop-the-visit" and first.timezone == "Europe/London" and first.status.value == "planning"
    with pytest.raises(Conflict) as raised:
        service.create_campaign(session, actor="tests", campaign_in=CampaignCreate(name="Another", slug="stop-the-visit"))
    assert raised.value.errors[0].loc == "slug"


def test_campaign_refuses_an_unknown_time_zone_and_an_end_before_its_start(session):
    with pytest.raises(InvalidInput) as raised:
        service.create_campaign(session, actor="tests", campaign_in=CampaignCreate(
            name="X", timezone="Europe/Atlantis", start_date=date(2024, 5, 1), end_date=date(2024, 4, 1)))
    assert {e.loc for e in raised.value.errors} == {"timezone", "end_date"}


def test_campaign_update_changes_status_and_is_audited(session):
    campaign = make_campaign(session)
    service.update_campaign(session, campaign_id=campaign.id, actor="tests",
                            campaign_in=CampaignUpdate(status="active", timezone="Europe/Brussels"))
    assert campaign.status.value == "active" and campaign.timezone == "Europe/Brussels"
    entry = audit.recent(session, entity_type="campaign", entity_id=campaign.id)[0]
    assert entry.action == "campaign.update"
    assert entry.before["status"] == "planning" and entry.after["status"] == "active"


def test_asks_keep_their_order_and_can_be_reordered(session):
    campaign = make_campaign(session)
    refuse = make_ask(session, campaign, title="Refuse the visit")
    suspend = make_ask(session, campaign, title="Suspend the extradition treaty")
    first = service.create_ask(session, campaign_id=campaign.id, actor="tests",
                               ask_in=AskCreate(title="Sanctions", position=0))
    assert [a.title for a in service.list_asks(session, campaign_id=campaign.id)] == [
        "Sanctions", "Refuse the visit", "Suspend the extradition treaty"]
    assert refuse.slug == "refuse-the-visit"
    service.reorder_asks(session, campaign_id=campaign.id, ask_ids=[suspend.id, first.id, refuse.id], actor="tests")
    assert [a.id for a in service.list_asks(session, campaign_id=campaign.id)] == [suspend.id, first.id, refuse.id]
    service.move_ask(session, ask_id=refuse.id, offset=-1, actor="tests")
    assert [a.id for a in service.list_asks(session, campaign_id=campaign.id)] == [suspend.id, refuse.id, first.id]
    with pytest.raises(InvalidInput):
        service.reorder_asks(session, campaign_id=campaign.id, ask_ids=[suspend.id, refuse.id], actor="tests")


def test_ask_slug_is_unique_within_its_campaign_only(session):
    one, two = make_campaign(session), make_campaign(session)
    make_ask(session, one, title="Refuse the visit")
    make_ask(session, two, title="Refuse the visit")
    with pytest.raises(Conflict):
        make_ask(session, one, title="Refuse the visit")


def test_a_campaign_with_recorded_stances_is_kept(session):
    campaign = make_campaign(session)
    ask = make_ask(session, campaign)
    person = contacts_service.upsert_person(session, name="Sarah Champion")
    contacts_service.record_stance(session, person_id=person.id, ask_id=ask.id, position="champion",
                                   source_kind="note", source_note="signed the letter", actor="tests")
    with pytest.raises(Conflict) as raised:
        service.delete_campaign(session, campaign_id=campaign.id, actor="tests")
    assert "close it instead" in raised.value.detail
    empty = make_campaign(session)
    service.delete_campaign(session, campaign_id=empty.id, actor="tests")


# --- events and their dates ----------------------------------------------------------


@pytest.mark.parametrize("text, stored, precision, shown", [
    ("2023-01-30", date(2023, 1, 30), DatePrecision.day, "30 January 2023"),
    ("2022-10", date(2022, 10, 1), DatePrecision.month, "October 2022"),
    ("2023", date(2023, 1, 1), DatePrecision.year, "2023"),
    ("2024-02-29", date(2024, 2, 29), DatePrecision.day, "29 February 2024"),
])
def test_event_dates_keep_the_precision_that_is_known(session, text, stored, precision, shown):
    event = make_event(session, make_campaign(session), start=text)
    assert (event.start_date, event.start_precision) == (stored, precision)
    assert service.event_when(event) == shown


def test_an_event_range_shows_both_ends(session):
    event = make_event(session, make_campaign(session), kind="other", title="Liu commands fugitive recovery",
                       start="2015-08", end="2017-04")
    assert service.event_when(event) == "August 2015 – April 2017"
    assert event.end_date == date(2017, 4, 1) and event.end_precision == DatePrecision.month


@pytest.mark.parametrize("text, message", [
    ("2023-02-31", "2023-02-31 is not a date: February 2023 has 28 days."),
    ("2023-04-31", "2023-04-31 is not a date: April 2023 has 30 days."),
    ("2023-13", "2023-13 is not a date: there is no month 13."),
    ("30/01/2023", "'30/01/2023' is not a date: write YYYY-MM-DD, or YYYY-MM or YYYY when only the month or year is known."),
])
def test_an_impossible_date_is_refused_with_a_clear_message_and_nothing_is_written(session, text, message):
    campaign = make_campaign(session)
    before = _count(session, Event)
    with pytest.raises(InvalidInput) as raised:
        service.create_event(session, campaign_id=campaign.id, actor="tests",
                             event_in=EventCreate(kind="resolution", title="X", start=text))
    assert [(e.loc, e.msg) for e in raised.value.errors] == [("start", message)]
    assert _count(session, Event) == before


def test_an_event_cannot_end_before_it_starts_or_link_unknown_people(session):
    campaign = make_campaign(session)
    with pytest.raises(InvalidInput) as raised:
        service.create_event(session, campaign_id=campaign.id, actor="tests", event_in=EventCreate(
            kind="visit", title="X", start="2023-05", end="2023-04-30", person_ids=[999999],
            sources=[{"title": "a", "url": "javascript:alert(1)"}]))
    assert {e.loc for e in raised.value.errors} == {"end", "person_ids[0]", "sources[0].url"}


def test_event_update_keeps_the_other_end_and_links_people(session):
    campaign = make_campaign(session)
    person = contacts_service.upsert_person(session, name="Liu Jianchao")
    event = make_event(session, campaign, kind="visit", title="Visit to London", start="2023")
    service.update_event(session, event_id=event.id, actor="tests",
                         event_in=EventUpdate(start="2023-06", person_ids=[person.id]))
    view = service.event_views(session, [event])[0]
    assert view.when == "June 2023" and view.person_ids == [person.id]
    with pytest.raises(InvalidInput):
        service.update_event(session, event_id=event.id, actor="tests", event_in=EventUpdate(start="2023-02-30"))
    assert event.start_date == date(2023, 6, 1)


def test_events_filter_by_kind_and_by_dates_overlapping_the_window(session):
    campaign = make_campaign(session)
    make_event(session, campaign, kind="resolution", title="EP resolution", start="2022-06-09")
    make_event(session, campaign, kind="court_ruling", title="Liu v. Poland", start="2022-10")
    make_event(session, campaign, kind="other", title="Liu's command", start="2015-08", end="2017-04")
    titles = lambda **kw: [e.title for e in service.list_events(session, campaign_id=campaign.id, **kw)]  # noqa: E731
    assert titles() == ["Liu's command", "EP resolution", "Liu v. Poland"]
    assert titles(kinds=["court_ruling"]) == ["Liu v. Poland"]
    assert titles(date_from=date(2016, 1, 1), date_to=date(2016, 12, 31)) == ["Liu's command"]
    assert titles(date_from=date(2022, 7, 1)) == ["Liu v. Poland"]


def test_app_events_land_on_the_same_timeline(session):
    campaign = make_campaign(session)
    service.record_app_event(session, campaign_id=campaign.id, kind="letter_sent", title="Letter to the PM sent",
                             on=date(2023, 6, 1), origin="letters")
    (event,) = service.list_events(session, campaign_id=campaign.id)
    assert event.kind.value == "letter_sent" and event.origin == "letters"


# --- evidence ---------------------------------------------------------------------------


def test_evidence_slug_is_unique_per_campaign_and_a_duplicate_writes_nothing(session):
    one, two = make_campaign(session), make_campaign(session)
    make_evidence(session, one)
    make_evidence(session, two)  # the same slug in another campaign is fine
    before = (_count(session, Evidence), _count(session, EvidenceVersion))
    with pytest.raises(Conflict) as raised:
        make_evidence(session, one)
    assert raised.value.errors[0].loc == "slug" and "already used" in raised.value.errors[0].msg
    assert (_count(session, Evidence), _count(session, EvidenceVersion)) == before


def test_a_table_row_that_does_not_match_the_columns_is_refused_naming_the_row(session):
    campaign = make_campaign(session)
    before = _count(session, Evidence)
    with pytest.raises(InvalidInput) as raised:
        make_evidence(session, campaign, slug="returns-per-year", kind="table", title="Returns per year",
                      data={"columns": ["Year", "Returns", "Irregular"],
                            "rows": [[2014, 680, 435], [2015, 1023], [2016, 1032, 660, "70+"]]})
    assert [(e.loc, e.msg) for e in raised.value.errors] == [
        ("data.rows[1]", "Row 2 has 2 cells but the table has 3 columns (Year, Returns, Irregular)."),
        ("data.rows[2]", "Row 3 has 4 cells but the table has 3 columns (Year, Returns, Irregular)."),
    ]
    assert _count(session, Evidence) == before


def test_figures_need_a_number_and_quotes_their_words(session):
    campaign = make_campaign(session)
    with pytest.raises(InvalidInput) as raised:
        make_evidence(session, campaign, data={"value": "lots", "as_of": "2018-02-30"})
    assert {e.loc for e in raised.value.errors} == {"data.value", "data.as_of"}
    with pytest.raises(InvalidInput) as raised:
        make_evidence(session, campaign, slug="a-quote", kind="quote", title="Q", text=" ")
    assert raised.value.errors[0].loc == "text"
    with pytest.raises(InvalidInput) as raised:
        make_evidence(session, campaign, slug="Not A Slug", kind="claim", title="C", text="t")
    assert raised.value.errors[0].loc == "slug"


def test_editing_evidence_keeps_every_earlier_version(session):
    campaign = make_campaign(session)
    evidence = make_evidence(session, campaign, text="1,335 returns in 2018.", tags=["Sky Net", "data"])
    assert evidence.version == 1 and evidence.tags == ["sky-net", "data"]
    cited = service.cite_lookup(session, campaign_id=campaign.id, slug="skynet-returns-2018")
    assert cited.version == 1 and cited.text == "1,335 returns in 2018."

    service.update_evidence(session, evidence_id=evidence.id, actor="tests", evidence_in=EvidenceUpdate(
        text="1,335 returns in 2018, from more than 100 countries.", change_note="countries added"))
    assert evidence.version == 2
    assert service.get_evidence_version(session, evidence_id=evidence.id, version=1).text == "1,335 returns in 2018."
    current = service.cite_lookup(session, campaign_id=campaign.id, slug="skynet-returns-2018")
    assert current.version == 2 and current.change_note == "countries added" and current.id != cited.id
    # The version a letter kept is unchanged, by id.
    assert session.get(EvidenceVersion, cited.id).text == "1,335 returns in 2018."

    service.update_evidence(session, evidence_id=evidence.id, actor="tests",
                            evidence_in=EvidenceUpdate(text=current.text))
    assert evidence.version == 2  # saving the same words is not a new version
    service.update_evidence(session, evidence_id=evidence.id, actor="tests",
                            evidence_in=EvidenceUpdate(slug="skynet-returns-2018-total"))
    assert [v.version for v in service.list_versions(session, evidence_id=evidence.id)] == [3, 2, 1]
    assert [e.action for e in audit.recent(session, entity_type="evidence", entity_id=evidence.id)] == [
        "evidence.update", "evidence.update", "evidence.create"]


def test_a_refused_edit_changes_nothing(session):
    campaign = make_campaign(session)
    table = make_evidence(session, campaign, slug="methods-2018", kind="table", title="Methods",
                          data={"columns": ["Method", "Returns"], "rows": [["Extradition", 17]]})
    with pytest.raises(InvalidInput):
        service.update_evidence(session, evidence_id=table.id, actor="tests", evidence_in=EvidenceUpdate(
            data={"columns": ["Method", "Returns"], "rows": [["Extradition", 17], ["Deportation"]]}))
    session.refresh(table)
    assert table.version == 1 and table.data["rows"] == [["Extradition", 17]]
    assert len(service.list_versions(session, evidence_id=table.id)) == 1


def test_cite_lookup_of_an_unknown_slug_is_not_found(session):
    from campaign.errors import NotFound

    with pytest.raises(NotFound):
        service.cite_lookup(session, campaign_id=make_campaign(session).id, slug="nothing-here")


def test_the_library_searches_text_and_filters_by_tag_and_kind(session):
    campaign = make_campaign(session)
    make_evidence(session, campaign, slug="liuzhi-total", title="Liuzhi total", text="At least 12,193 people",
                  data={"value": 12193, "unit": "people"}, tags=["liuzhi"])
    make_evidence(session, campaign, slug="quote-liu", kind="quote", title="Liu on liuzhi",
                  text="These are not criminal or judicial arrests", tags=["liuzhi", "quote"])
    make_evidence(session, campaign, slug="red-notices", title="Red notices", data={"value": 612}, tags=["interpol"])
    slugs = lambda **kw: [e.slug for e in service.list_evidence(session, campaign_id=campaign.id, **kw)]  # noqa: E731
    assert slugs(q="JUDICIAL") == ["quote-liu"]
    assert slugs(q="100%_") == []  # wildcards are searched as text
    assert slugs(tag="liuzhi") == ["liuzhi-total", "quote-liu"]
    assert slugs(tag="liuzhi", kinds=["figure"]) == ["liuzhi-total"]
    assert dict(service.evidence_tags(session, campaign_id=campaign.id)) == {"interpol": 1, "liuzhi": 2, "quote": 1}


def test_evidence_links_to_events_and_people_of_its_campaign_only(session):
    campaign, other = make_campaign(session), make_campaign(session)
    event = make_event(session, campaign)
    elsewhere = make_event(session, other)
    person = contacts_service.upsert_person(session, name="Laura Harth")
    evidence = make_evidence(session, campaign, event_ids=[event.id], person_ids=[person.id])
    links = service.evidence_links(session, evidence=evidence)
    assert links.event_ids == [event.id] and links.person_ids == [person.id]
    with pytest.raises(InvalidInput) as raised:
        make_evidence(session, campaign, slug="other", event_ids=[elsewhere.id])
    assert raised.value.errors[0].loc == "event_ids[0]"


# --- where legislators stand ----------------------------------------------------------------


def test_stance_summary_counts_current_stances_by_chamber_and_party(session):
    campaign = make_campaign(session)
    ask = make_ask(session, campaign)
    commons = contacts_service.get_or_create_organization(session, name="House of Commons", classification="parliament")
    lords = contacts_service.get_or_create_organization(session, name="House of Lords", classification="parliament")
    labour = contacts_service.get_or_create_organization(session, name="Labour", classification="party")
    crossbench = contacts_service.get_or_create_organization(session, name="Crossbench", classification="party")
    people = {}
    for name, chamber, party in [("A", commons, labour), ("B", commons, labour), ("C", lords, crossbench)]:
        people[name] = contacts_service.upsert_person(session, name=name)
        contacts_service.add_membership(session, person_id=people[name].id, organization_id=chamber.id,
                                        on_behalf_of_id=party.id, role="Member")
    former = contacts_service.upsert_person(session, name="D")
    contacts_service.add_membership(session, person_id=former.id, organization_id=commons.id,
                                    end_date=date(2020, 1, 1), start_date=date(2015, 1, 1))
    record = lambda person, position: contacts_service.record_stance(  # noqa: E731
        session, person_id=person.id, ask_id=ask.id, position=position, source_kind="note", source_note="n",
        actor="tests")
    record(people["A"], "undecided")
    record(people["A"], "supportive")  # the latest counts
    record(people["B"], "opposed")
    record(people["C"], "champion")
    record(former, "champion")
    (summary,) = service.stance_summaries(session, campaign_id=campaign.id)
    assert summary.total == 4
    by_chamber = {group: dict(counts) for group, counts in summary.by_chamber}
    assert by_chamber == {"House of Commons": {"supportive": 1, "opposed": 1}, "House of Lords": {"champion": 1},
                          "No chamber": {"champion": 1}}
    assert [group for group, _ in summary.by_chamber][-1] == "No chamber"
    by_party = {group: dict(counts) for group, counts in summary.by_party}
    assert by_party == {"Labour": {"supportive": 1, "opposed": 1}, "Crossbench": {"champion": 1},
                        "No party": {"champion": 1}}
