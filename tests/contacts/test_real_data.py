"""The three real datasets: complete imports, idempotent re-imports, and the directory on them."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from campaign.accounts.models import Role
from contacts import service
from contacts.imports import import_file
from contacts.models import Identifier, Membership, OrgClassification, Organization, Person, Position
from contacts.schemas import PersonFilter
from tests.contacts.conftest import EP_CSV, UK_POPOLO, US_JSON, US_YAML
from tests.contacts.factories import make_ask
from tests.factories import login, make_user, page_csrf


def _count(db, query) -> int:
    return db.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()


def _people_with(db, scheme: str) -> int:
    return _count(db, sa.select(Identifier.person_id).where(Identifier.scheme == scheme,
                                                            Identifier.person_id.is_not(None)))


def _org(db, scheme: str, value: str) -> Organization:
    return db.execute(sa.select(Organization).join(Identifier, Identifier.organization_id == Organization.id)
                      .where(Identifier.scheme == scheme, Identifier.value == value)).scalar_one()


def _named(db, classification, name: str) -> Organization:
    return db.execute(sa.select(Organization).where(Organization.classification == classification,
                                                    Organization.name == name)).scalar_one()


def test_uk_commons_popolo_imports_every_mp_party_and_seat(db, loaded):
    report = loaded[1]["uk"]
    assert (report.created, report.updated, report.unchanged) == (650, 0, 0)
    assert report.organizations_created == 19 and report.memberships_created == 650
    # Four MPs have "No email found" in the e-mail field: left out, and said so.
    assert [why for _, why in report.warnings] == ["'No email found' is not an e-mail address; left out"] * 4
    assert _people_with(db, "datadotparl_id") == 650
    assert _people_with(db, "twfy_person_id") == 646
    commons = _named(db, OrgClassification.parliament, "House of Commons")
    labour = _named(db, OrgClassification.party, "Labour")
    assert _count(db, sa.select(Membership.id).where(Membership.organization_id == commons.id)) == 650
    assert _count(db, sa.select(Membership.id).where(Membership.on_behalf_of_id == labour.id)) == 360
    assert _count(db, sa.select(Organization.id).where(Organization.classification == OrgClassification.party,
                                                       Organization.country == "GB")) == 18
    abbott = db.execute(sa.select(Person).join(Identifier).where(Identifier.scheme == "datadotparl_id",
                                                                 Identifier.value == "172")).scalar_one()
    assert "Diane Abbott" in abbott.name and abbott.email.endswith("@parliament.uk")


def test_european_parliament_imports_every_mep_group_committee_and_delegation(db, loaded):
    report = loaded[1]["ep"]
    assert (report.created, report.updated, report.unchanged) == (718, 0, 0)
    # 718 seats + 718 group memberships + 2053 committee and 1862 delegation seats.
    assert report.memberships_created == 718 + 718 + 2053 + 1862
    assert _people_with(db, "ep_id") == 718
    groups = {org.abbreviation: org for org in db.execute(sa.select(Organization).where(
        Organization.classification == OrgClassification.parliamentary_group)).scalars()}
    assert len(groups) == 9
    sizes = {acr: _count(db, sa.select(Membership.id).where(Membership.organization_id == org.id))
             for acr, org in groups.items()}
    assert sizes == {"EPP": 187, "S&D": 136, "Patriots": 86, "ECR": 78, "Renew": 77, "Greens/EFA": 53,
                     "GUE/NGL": 46, "ESN": 25, "NA": 30}
    assert groups["EPP"].name.startswith("Group of the European People's Party")
    assert _org(db, "ep_committee", "AFET").name == "Foreign Affairs"
    countries = db.execute(sa.select(Membership.country).where(Membership.role == "Member of the European Parliament")
                           .distinct()).scalars().all()
    assert len(countries) == 27


def test_us_congress_imports_every_legislator_term_committee_and_seat(db, loaded):
    report = loaded[1]["us"]
    assert (report.created, report.updated, report.unchanged) == (537, 0, 0)
    assert report.skipped == []
    assert report.memberships_created == 2792 + 3879  # every term served + every committee seat
    assert _people_with(db, "bioguide") == 537
    assert _people_with(db, "wikidata") == 536
    senate, house = _org(db, "wikidata", "Q66096"), _org(db, "wikidata", "Q11701")
    # Sitting on the snapshot's date (a few appointed senators' terms end at a special election since).
    snapshot = date(2026, 6, 15)
    for chamber, expected in ((senate, 100), (house, 437)):
        sitting = _count(db, sa.select(Membership.person_id).distinct().where(
            Membership.organization_id == chamber.id, Membership.start_date <= snapshot, Membership.end_date > snapshot))
        assert sitting == expected
        current = service.list_people(db, person_filter=PersonFilter(chamber=[chamber.id], current_only=True)).total
        assert expected - 5 <= current <= expected
    committees = db.execute(sa.select(Identifier.value).where(Identifier.scheme == "thomas_committee")).scalars().all()
    assert len([c for c in committees if len(c) == 4]) == 49 and len(committees) == 230
    # Past terms are kept as past memberships.
    cantwell = db.execute(sa.select(Person).join(Identifier).where(Identifier.scheme == "bioguide",
                                                                   Identifier.value == "C000127")).scalar_one()
    row = service.person_detail(db, person_id=cantwell.id).row
    assert [m.membership.role for m in row.memberships if not m.current].count("Senator") == 4
    assert row.seat.organization.id == senate.id


def test_reimport_of_each_file_changes_nothing(db):
    for path, country in ((UK_POPOLO, "GB"), (US_JSON, "")):
        before = _count(db, sa.select(Person.id)), _count(db, sa.select(Membership.id))
        report = import_file(db, path=path, country=country, actor="tests")
        assert report.created == report.updated == 0 and report.unchanged > 500
        assert report.memberships_created == report.memberships_updated == report.memberships_ended == 0
        assert report.organizations_created == 0
        assert (_count(db, sa.select(Person.id)), _count(db, sa.select(Membership.id))) == before


def test_ep_csv_after_json_updates_the_same_meps_in_place(db):
    report = import_file(db, path=EP_CSV, actor="tests")
    assert report.created == 0 and report.updated + report.unchanged == 718
    assert _people_with(db, "ep_id") == 718
    again = import_file(db, path=EP_CSV, actor="tests")
    assert again.unchanged == 718 and again.memberships_created == 0


def test_a_changed_file_updates_in_place_and_ends_dropped_seats(db, tmp_path):
    data = json.loads(UK_POPOLO.read_text())
    data["persons"][0]["contact_details"] = [{"type": "email", "value": "new.address@parliament.uk"}]
    dropped = data["memberships"].pop(1)
    path = tmp_path / "newer.json"
    path.write_text(json.dumps(data))
    report = import_file(db, path=path, country="GB", actor="tests")
    assert report.created == 0 and report.updated == 2 and report.unchanged == 648
    assert report.memberships_ended == 1
    person = db.execute(sa.select(Person).join(Identifier).where(Identifier.scheme == "popolo_id",
                                                                 Identifier.value == data["persons"][0]["id"])).scalar_one()
    assert person.email == "new.address@parliament.uk"
    gone = db.execute(sa.select(Person).join(Identifier).where(Identifier.scheme == "popolo_id",
                                                               Identifier.value == dropped["person_id"])).scalar_one()
    assert service.person_detail(db, person_id=gone.id).row.seat is None


# --- the directory ---------------------------------------------------------------------------------


def test_current_labour_mps_with_email(db):
    labour = _named(db, OrgClassification.party, "Labour")
    page = service.list_people(db, person_filter=PersonFilter(party=[labour.id], has_email=True, current_only=True))
    assert page.total == 359  # 360 Labour MPs, one of them published without an address
    assert all(row.party == "Labour" and row.person.email for row in page.rows)


def test_us_senators_on_senate_foreign_relations(db):
    senate, sfr = _org(db, "wikidata", "Q66096"), _org(db, "thomas_committee", "SSFR")
    page = service.list_people(db, person_filter=PersonFilter(chamber=[senate.id], committee=[sfr.id],
                                                              current_only=True))
    assert page.total == 22
    assert all("SSFR" in row.committees for row in page.rows)


def test_epp_meps_from_germany_and_poland(db):
    epp = _org(db, "ep_group", "EPP")
    page = service.list_people(db, person_filter=PersonFilter(party=[epp.id], country=["de", "PL"]))
    assert page.total == 53
    assert {row.seat.membership.country for row in page.rows} == {"DE", "PL"}


def test_parliament_filter_includes_its_chambers_and_committees(db):
    congress = _org(db, "wikidata", "Q11268")
    assert service.list_people(db, person_filter=PersonFilter(parliament=[congress.id])).total == 537


def test_name_search_ignores_accents_and_case(db):
    for query in ("orfhlaith begley", "ÓRFHLAITH", "Begley Órfhlaith", "zoe franklin"):
        names = [row.person.name for row in service.list_people(db, person_filter=PersonFilter(q=query)).rows]
        assert names and all(n in ("Órfhlaith Begley", "Zöe Franklin") for n in names), query


def test_area_text_filter(db):
    page = service.list_people(db, person_filter=PersonFilter(area="aldershot"))
    assert [row.person.name for row in page.rows] == ["Alex Baker"]


def test_cursor_pagination_walks_every_person_once_in_order(db):
    commons = _named(db, OrgClassification.parliament, "House of Commons")
    seen, keys, cursor = [], [], None
    while True:
        page = service.list_people(db, person_filter=PersonFilter(chamber=[commons.id]), cursor=cursor, limit=50)
        seen += [row.person.id for row in page.rows]
        keys += [(row.person.sort_key, row.person.id) for row in page.rows]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == 650
    assert keys == sorted(keys)


def test_a_page_of_fifty_takes_a_fixed_number_of_statements(db, loaded):
    ask = make_ask(db)
    epp = _org(db, "ep_group", "EPP")
    connection = loaded[0]
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    for limit in (5, 50):
        statements.clear()
        event.listen(connection, "before_cursor_execute", count)
        try:
            page = service.list_people(db, person_filter=PersonFilter(party=[epp.id], ask_id=ask.id,
                                                                      current_only=True), limit=limit)
            _ = [(m.organization.name, m.on_behalf_of and m.on_behalf_of.name) for r in page.rows for m in r.memberships]
        finally:
            event.remove(connection, "before_cursor_execute", count)
        assert len(page.rows) == limit
        # count + people + memberships + their organisations + current stances on the ask
        assert len(statements) == 5, statements
    statements.clear()
    event.listen(connection, "before_cursor_execute", count)
    try:
        later = service.list_people(db, person_filter=PersonFilter(party=[epp.id], ask_id=ask.id, current_only=True),
                                    limit=50, cursor=page.next_cursor)
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert later.total == page.total and later.rows[0].person.id not in {r.person.id for r in page.rows}
    assert len(statements) == 4, statements  # a later page is not counted again: its cursor carries the total


# --- stances, segments, export ----------------------------------------------------------------------


def test_stance_history_is_kept_and_filters_use_the_latest(db):
    ask = make_ask(db)
    user = make_user(db, role=Role.volunteer)
    labour = _named(db, OrgClassification.party, "Labour")
    mp = service.list_people(db, person_filter=PersonFilter(party=[labour.id]), limit=1).rows[0].person
    service.record_stance(db, person_id=mp.id, ask_id=ask.id, position="undecided", source_kind="note",
                          source_note="Said so at the surgery", actor=user)
    service.record_stance(db, person_id=mp.id, ask_id=ask.id, position=Position.supportive, source_kind="url",
                          source_url="https://hansard.parliament.uk/x", actor=user)
    history = service.stance_history(db, person_id=mp.id)
    assert [s.position for s in history[0].stances] == [Position.supportive, Position.undecided]
    assert history[0].current.source_url == "https://hansard.parliament.uk/x"
    supportive = service.list_people(db, person_filter=PersonFilter(ask_id=ask.id, stance=["supportive"],
                                                                    party=[labour.id], has_email=True))
    assert [row.person.id for row in supportive.rows] == [mp.id]
    assert supportive.rows[0].stance.position is Position.supportive
    undecided = service.list_people(db, person_filter=PersonFilter(ask_id=ask.id, stance=["undecided"]))
    assert undecided.total == 0
    unknown = service.list_people(db, person_filter=PersonFilter(ask_id=ask.id, stance=["unknown"], party=[labour.id]))
    assert unknown.total == 359


def test_segment_is_re_evaluated_when_used(db):
    user = make_user(db, role=Role.coordinator)
    epp = _org(db, "ep_group", "EPP")
    segment = service.create_segment(db, name="EPP Germany and Poland", actor=user,
                                     person_filter=PersonFilter(party=[epp.id], country=["DE", "PL"]))
    assert len(service.segment_person_ids(db, segment_id=segment.id)) == 53
    newcomer = service.upsert_person(db, name="Nowa Posłanka", identifiers={"ep_id": "999999"})
    service.add_membership(db, person_id=newcomer.id, organization_id=epp.id, role="Member", country="PL")
    assert len(service.segment_person_ids(db, segment_id=segment.id)) == 54
    service.update_segment(db, segment_id=segment.id, actor=user, person_filter=PersonFilter(party=[epp.id],
                                                                                            country=["DE"]))
    assert len(service.segment_person_ids(db, segment_id=segment.id)) < 54


def test_csv_export_of_a_filtered_list_neutralises_formulas(db):
    epp = _org(db, "ep_group", "EPP")
    sneaky = service.upsert_person(db, name="=HYPERLINK(\"http://evil\",\"x\")", email="@evil@example.org")
    service.add_membership(db, person_id=sneaky.id, organization_id=epp.id, role="Member", country="DE")
    germans = PersonFilter(party=[epp.id], country=["DE"])
    rows = list(csv.DictReader(io.StringIO(service.export_csv(db, person_filter=germans))))
    assert len(rows) == service.list_people(db, person_filter=germans).total > 20
    bad = next(r for r in rows if r["id"] == str(sneaky.id))
    assert bad["name"].startswith("'=") and bad["email"].startswith("'@")
    assert all(r["country"] == "DE" for r in rows if r["id"] != str(sneaky.id))


# --- duplicates ---------------------------------------------------------------------------------------


def test_duplicates_are_proposed_and_merged_keeping_everything(db):
    ask = make_ask(db)
    user = make_user(db, role=Role.coordinator)
    mep = db.execute(sa.select(Person).where(Person.name == "Séverine Werbrouck")).scalar_one()
    ep = _org(db, "wikidata", "Q8889")
    copy = service.upsert_person(db, name="WERBROUCK Severine", identifiers={"wikidata": "Q0000001"},
                                 phones=[{"label": "mobile", "value": "+33 6 00 00 00 00"}])
    service.add_membership(db, person_id=copy.id, organization_id=ep.id, role="Observer")
    service.record_stance(db, person_id=copy.id, ask_id=ask.id, position="opposed", source_kind="note",
                          source_note="Letter of 3 May", actor=user)
    pairs = service.find_duplicates(db)
    pair = next(p for p in pairs if {p.first.person.id, p.second.person.id} == {mep.id, copy.id})
    assert "European Parliament" in pair.shared
    memberships_before = len(service.person_detail(db, person_id=mep.id).row.memberships)
    service.merge_people(db, keep_id=mep.id, drop_id=copy.id, actor=user)
    detail = service.person_detail(db, person_id=mep.id)
    assert len(detail.row.memberships) == memberships_before + 1
    assert {i.scheme for i in detail.identifiers} >= {"ep_id", "wikidata"}
    assert detail.history[0].current.position is Position.opposed
    assert any(p["value"] == "+33 6 00 00 00 00" for p in detail.person.phones)
    assert db.get(Person, copy.id) is None


# --- API and pages on the real data ----------------------------------------------------------------------


def test_api_directory_filters_and_person(db, db_client):
    user = make_user(db, role=Role.volunteer)
    login(db_client, user)
    senate, sfr = _org(db, "wikidata", "Q66096"), _org(db, "thomas_committee", "SSFR")
    answer = db_client.get(f"/api/v1/people?chamber={senate.id}&committee={sfr.id}&current_only=1&limit=10")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == 22 and len(body["items"]) == 10 and body["next_cursor"]
    second = db_client.get(f"/api/v1/people?chamber={senate.id}&committee={sfr.id}&current_only=1&limit=50"
                           f"&cursor={body['next_cursor']}").json()
    assert len(second["items"]) == 12
    person = db_client.get(f"/api/v1/people/{body['items'][0]['id']}").json()
    assert any(i["scheme"] == "bioguide" for i in person["identifiers"])
    assert db_client.get("/api/v1/people?stance=maybe").status_code == 422
    assert db_client.get("/api/v1/people?cursor=nonsense").status_code == 422


def test_directory_and_person_pages(db, db_client):
    user = make_user(db, role=Role.coordinator)
    login(db_client, user)
    epp = _org(db, "ep_group", "EPP")
    page = db_client.get(f"/people?party={epp.id}&country=DE&country=PL")
    assert page.status_code == 200
    assert "53 people" in page.text and "Save segment" in page.text
    found = db_client.get("/people?q=severine")
    assert "Séverine Werbrouck" in found.text
    mep = db.execute(sa.select(Person).where(Person.name == "Séverine Werbrouck")).scalar_one()
    person = db_client.get(f"/people/{mep.id}")
    assert person.status_code == 200
    assert "severine.werbrouck@europarl.europa.eu" in person.text and "Current" in person.text
    saved = db_client.post("/segments", data={"csrf_token": page_csrf(db_client, "/people"), "name": "EPP DE+PL",
                                              "filter_query": f"party={epp.id}&country=DE&country=PL"})
    assert saved.status_code == 303
    segment_page = db_client.get(saved.headers["location"])
    assert "53 people now" in segment_page.text
    export = db_client.get(f"/people/export.csv?party={epp.id}&country=DE&country=PL")
    assert export.headers["content-type"].startswith("text/csv")
    assert len(export.text.strip().splitlines()) == 54


@pytest.mark.parametrize("path", [US_YAML])
def test_yaml_and_json_us_files_agree(db, path):
    assert import_file(db, path=path, actor="tests").unchanged == 537
