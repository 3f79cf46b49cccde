"""The current stance (the latest of each person on each ask) stays right through changes and merges."""

from __future__ import annotations

import sqlalchemy as sa

from contacts import service
from contacts.models import Stance
from contacts.schemas import PersonFilter
from tests.contacts.factories import make_ask, make_person


def _current(session, person_id):
    return [(s.ask_id, s.position.value) for s in session.execute(
        sa.select(Stance).where(Stance.person_id == person_id, Stance.is_current == sa.true())
        .order_by(Stance.ask_id)).scalars()]


def record(session, person, ask, position):
    return service.record_stance(session, person_id=person.id, ask_id=ask.id, position=position,
                                 source_kind="note", source_note="in the chamber", actor="tests")


def test_a_new_stance_becomes_current_and_the_directory_filters_on_it(session):
    ask, other_ask = make_ask(session), make_ask(session, title="Sanction the officials")
    ada, bob = make_person(session, name="Ada Example"), make_person(session, name="Bob Example")
    record(session, ada, ask, "opposed")
    record(session, ada, ask, "supportive")
    record(session, ada, other_ask, "undecided")
    record(session, bob, ask, "supportive")
    record(session, bob, ask, "leaning_against")
    assert _current(session, ada.id) == [(ask.id, "supportive"), (other_ask.id, "undecided")]
    assert len(service.stance_history(session, person_id=ada.id)[0].stances) == 2  # history kept
    page = service.list_people(session, person_filter=PersonFilter(ask_id=ask.id, stance=["supportive"]))
    assert [row.person.name for row in page.rows] == ["Ada Example"] and page.total == 1
    assert page.rows[0].stance.position.value == "supportive"
    unknown = service.list_people(session, person_filter=PersonFilter(ask_id=other_ask.id, stance=["unknown"]))
    assert [row.person.name for row in unknown.rows] == ["Bob Example"]


def test_a_merge_keeps_one_current_stance_per_ask_the_newest(session):
    ask = make_ask(session)
    keep, drop = make_person(session, name="Ada Example"), make_person(session, name="Ada Example", chamber="Senate")
    record(session, keep, ask, "opposed")
    record(session, drop, ask, "champion")  # recorded later: it wins
    service.merge_people(session, keep_id=keep.id, drop_id=drop.id, actor="tests")
    session.expire_all()
    assert _current(session, keep.id) == [(ask.id, "champion")]
    assert session.execute(sa.select(sa.func.count()).select_from(Stance)
                           .where(Stance.person_id == keep.id)).scalar_one() == 2
    record(session, keep, ask, "supportive")
    assert _current(session, keep.id) == [(ask.id, "supportive")]
