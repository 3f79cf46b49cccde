"""The directory query: its total, its pages, its stance filter, and what it loads of each person."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from campaign.db import get_engine
from contacts import service
from contacts.schemas import PersonFilter
from tests.contacts.factories import make_ask, make_person

NAMES = ["Ada Anders", "Bea Anson", "Cy Brown", "Dan Andrews", "Eve Vance", "Flo Grant"]


@pytest.fixture
def people(session):
    return [make_person(session, name=name, chamber="Directory Chamber") for name in NAMES]


@pytest.fixture
def counts():
    """The COUNT statements sent while the test runs."""
    sent: list[str] = []

    def record(connection, cursor, statement, parameters, context, executemany):
        if "count(*)" in statement.lower():
            sent.append(statement)

    event.listen(get_engine(), "before_cursor_execute", record)
    yield sent
    event.remove(get_engine(), "before_cursor_execute", record)


def _names(page: service.PeoplePage) -> list[str]:
    return [row.person.name for row in page.rows]


def test_a_first_page_holding_everyone_is_its_own_total(session, people, counts):
    page = service.list_people(session, person_filter=PersonFilter(q="an"), limit=10)
    assert _names(page) == ["Ada Anders", "Dan Andrews", "Bea Anson", "Flo Grant", "Eve Vance"]  # by family name
    assert page.total == 5 and page.next_cursor is None
    assert counts == []


def test_a_longer_listing_is_counted_once_and_the_cursor_carries_the_total(session, people, counts):
    first = service.list_people(session, person_filter=PersonFilter(q="an"), limit=2)
    assert _names(first) == ["Ada Anders", "Dan Andrews"] and first.total == 5
    second = service.list_people(session, person_filter=PersonFilter(q="an"), limit=2, cursor=first.next_cursor)
    third = service.list_people(session, person_filter=PersonFilter(q="an"), limit=2, cursor=second.next_cursor)
    assert _names(second) == ["Bea Anson", "Flo Grant"] and _names(third) == ["Eve Vance"]
    assert second.total == third.total == 5 and third.next_cursor is None
    assert len(counts) == 1


def test_the_stance_filter_keeps_people_holding_one_of_the_stances(session, people):
    ask = make_ask(session)
    for person, position in zip(people, ["supportive", "champion", "opposed", "supportive", "undecided"]):
        service.record_stance(session, person_id=person.id, ask_id=ask.id, position=position, source_kind="note",
                              source_note="in the chamber", actor="tests")
    service.record_stance(session, person_id=people[3].id, ask_id=ask.id, position="opposed", source_kind="note",
                          source_note="changed their mind", actor="tests")
    supportive = service.list_people(session, person_filter=PersonFilter(ask_id=ask.id, stance=["supportive",
                                                                                                 "champion"]))
    assert _names(supportive) == ["Ada Anders", "Bea Anson"] and supportive.total == 2
    assert [row.stance.position.value for row in supportive.rows] == ["supportive", "champion"]
    unknown = service.list_people(session, person_filter=PersonFilter(ask_id=ask.id, stance=["unknown", "opposed"]))
    assert _names(unknown) == ["Dan Andrews", "Cy Brown", "Flo Grant"]


def test_a_page_leaves_contact_lists_until_asked_and_iter_people_loads_them(session, people):
    service.update_person(session, person_id=people[0].id, actor="tests",
                          phones=[{"label": "office", "value": "020 7946 0000"}])
    session.commit()
    session.expunge_all()
    row = service.list_people(session, person_filter=PersonFilter(q="ada")).rows[0]
    assert "phones" not in sa.inspect(row.person).dict
    assert row.person.phones == [{"label": "office", "value": "020 7946 0000"}]  # loaded on first use
    session.expunge_all()
    whole = next(iter(service.iter_people(session, person_filter=PersonFilter(q="ada"))))
    assert sa.inspect(whole.person).dict["phones"] == [{"label": "office", "value": "020 7946 0000"}]
