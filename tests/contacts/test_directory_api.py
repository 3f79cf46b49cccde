"""The directory's JSON: list_people_summaries gives what list_people and the PersonPage model gave."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from campaign.accounts.models import Role
from contacts import api, service
from contacts.models import OrgClassification
from contacts.schemas import PersonFilter, PersonPage
from tests.contacts.factories import make_ask, make_person
from tests.factories import make_token, make_user

NAMES = ["Ada Anders", "Bea Anson", "Cy Brown", "Dan Andrews", "Eve Vance", "Flo Grant", "Gus Anwar"]


@pytest.fixture
def directory(session):
    """People in a chamber, some for a party, one with an ended and an undated-start membership, stances on an ask."""
    people = [make_person(session, name=name, chamber="Directory Chamber", party="Party A" if i % 2 else "",
                          email=f"p{i}@example.org" if i % 3 else "") for i, name in enumerate(NAMES)]
    committee = service.get_or_create_organization(session, name="Finance Committee",
                                                   classification=OrgClassification.committee, abbreviation="FIN")
    service.add_membership(session, person_id=people[0].id, organization_id=committee.id, role="Chair",
                           start_date=date(2020, 1, 1), end_date=date(2022, 6, 30))
    service.add_membership(session, person_id=people[0].id, organization_id=committee.id, role="Member",
                           start_date=date(2023, 1, 1), end_date=service.today() + timedelta(days=30))
    ask = make_ask(session)
    for person, position in zip(people, ["supportive", "champion", "opposed", "supportive", "undecided", "champion"]):
        service.record_stance(session, person_id=person.id, ask_id=ask.id, position=position, source_kind="note",
                              source_note="in the chamber", actor="tests")
    session.commit()
    return people, ask


def _model_page(session, person_filter: PersonFilter, cursor: str | None, limit: int) -> dict:
    """What the route answered before: list_people's rows through the PersonPage model."""
    page = service.list_people(session, person_filter=person_filter, cursor=cursor, limit=limit)
    return PersonPage(items=api._summaries(page.rows), total=page.total,
                      next_cursor=page.next_cursor).model_dump(mode="json")


@pytest.mark.parametrize("filters", [{}, {"q": "an"}, {"q": "an", "sort": "-name"}, {"sort": "-updated"},
                                     {"stance": ["supportive", "champion"]}, {"stance": ["unknown", "opposed"]},
                                     {"q": "an", "stance": ["champion", "supportive"], "party": True},
                                     {"q": "nobody"}])
def test_summaries_are_the_pages_list_people_gives_as_the_model_read_them(session, directory, filters):
    people, ask = directory
    filters = dict(filters)
    if "stance" in filters:
        filters["ask_id"] = ask.id
    if filters.pop("party", False):
        filters["party"] = [service.list_organizations(session, classification=["party"], q="Party A")[0].id]
    person_filter = PersonFilter(**filters)
    cursor, seen = None, []
    while True:
        expected = _model_page(session, person_filter, cursor, limit=2)
        page = service.list_people_summaries(session, person_filter=person_filter, cursor=cursor, limit=2)
        assert PersonPage.model_validate({"items": page.items, "total": page.total,
                                          "next_cursor": page.next_cursor}).model_dump(mode="json") == expected
        assert {"items": page.items, "total": page.total, "next_cursor": page.next_cursor} == expected
        seen += [item["id"] for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == expected["total"]


def test_a_summary_shows_memberships_current_first_with_their_organisations(session, directory):
    people, ask = directory
    page = service.list_people_summaries(session, person_filter=PersonFilter(q="ada anders", ask_id=ask.id,
                                                                            stance=["supportive"]))
    (ada,) = page.items
    assert ada["stance"] == "supportive" and page.total == 1 and page.next_cursor is None
    assert [(m["organization"]["name"], m["role"], m["current"]) for m in ada["memberships"]] == [
        ("Directory Chamber", "Member", True), ("Finance Committee", "Member", True),
        ("Finance Committee", "Chair", False)]
    chair = ada["memberships"][2]
    assert chair["start_date"] == "2020-01-01" and chair["end_date"] == "2022-06-30"
    assert chair["organization"] == {"id": chair["organization"]["id"], "name": "Finance Committee",
                                     "abbreviation": "FIN", "classification": "committee", "parent_id": None,
                                     "country": ""}


def test_the_api_sends_the_same_bytes_the_response_model_made(client, session, directory):
    people, ask = directory
    client.headers["Authorization"] = f"Bearer {make_token(session, make_user(session, role=Role.volunteer))}"
    for query in ({"q": "an", "limit": 3}, {"ask_id": ask.id, "stance": "supportive,champion"}, {}):
        response = client.get("/api/v1/people", params=query)
        assert response.status_code == 200 and response.headers["content-type"] == "application/json"
        expected = PersonPage.model_validate(_model_page(session, PersonFilter(**{
            k: (v.split(",") if k == "stance" else v) for k, v in query.items() if k != "limit"}), None,
            query.get("limit", 50)))
        assert response.content == expected.model_dump_json().encode()
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-content-type-options"] == "nosniff"


def test_wildcards_in_a_name_search_match_only_themselves(session, directory):
    plain = service.list_people_summaries(session, person_filter=PersonFilter(q="an"))
    for q in ("an%", "%an", "a_n", "an_", "AN/"):
        page = service.list_people_summaries(session, person_filter=PersonFilter(q=q))
        if q == "a_n":  # the underscore separates two words, as any punctuation does
            assert page.total == len([n for n in NAMES if "a" in n.lower() and "n" in n.lower()])
        else:
            assert [p["name"] for p in page.items] == [p["name"] for p in plain.items]


def test_filters_of_one_shape_each_get_their_own_answer(session, directory):
    """The statements are kept per shape of filter; the values are bound afresh at each call."""
    people, ask = directory

    def names(**filters) -> list[str]:
        page = service.list_people_summaries(session, person_filter=PersonFilter(**filters))
        assert [row.person.name for row in service.list_people(session, person_filter=PersonFilter(**filters)).rows] \
            == [item["name"] for item in page.items]
        return [item["name"] for item in page.items]

    assert names(q="ada") == ["Ada Anders"] and names(q="bea") == ["Bea Anson"]
    service.add_tag(session, person_id=people[2].id, tag="press")
    service.add_tag(session, person_id=people[4].id, tag="donor")
    assert names(tag=["press"]) == ["Cy Brown"] and names(tag=["donor"]) == ["Eve Vance"]
    chamber = service.list_organizations(session, q="Directory Chamber")[0]
    service.add_membership(session, person_id=people[5].id, organization_id=chamber.id, role="Member",
                           post_label="100% North_East", start_date=date(2024, 7, 5))
    assert names(area="100% north_") == ["Flo Grant"] and names(area="1_0") == [] and names(area="%e") == []
    committee = service.list_organizations(session, classification=["committee"])[0]
    assert names(committee=[committee.id], current_only=True) == ["Ada Anders"]
    assert names(committee=[committee.id], current_only=True, q="bea") == []
    assert names(ask_id=ask.id, stance=["unknown"]) == ["Gus Anwar"]
    assert names(ask_id=ask.id, stance=["opposed"]) == ["Cy Brown"]
