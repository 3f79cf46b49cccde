"""Logging responses: the record, the stance it changes (history kept), the timeline, the
audit log, the follow-ups it closes, and the page and API with their role checks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from campaign import audit
from campaign import service as campaign_service
from campaign.accounts.models import Role
from campaign.db import utcnow
from campaign.errors import InvalidInput
from campaign.models import Event, EventKind
from campaign.schemas import AskCreate
from contacts import service as contacts_service
from contacts.models import Position, Stance, StanceSource
from letters import followups, responses
from letters.models import FollowUpAction, FollowUpSource, FollowUpStatus, ResponseKind
from tests.factories import login, make_user, page_csrf
from tests.letters.factories import make_campaign, make_letter, make_member, open_for_signatures


@pytest.fixture
def app(app):
    """The app with the responses routers, until campaign/app.py mounts them itself."""
    from fastapi import APIRouter

    from letters import responses_api, responses_pages

    if not any(getattr(route, "path", "") == "/responses/new" for route in app.routes):
        api = APIRouter(prefix="/api/v1")
        api.include_router(responses_api.router)
        app.include_router(api)
        app.include_router(responses_pages.router, include_in_schema=False)
    return app


def setup_world(session):
    """A campaign with an ask, a letter open for signatures, and one invited member."""
    staff = make_user(session, role=Role.staff)
    campaign = make_campaign(session)
    ask = campaign_service.create_ask(session, campaign_id=campaign.id, ask_in=AskCreate(title="Ban the visit"),
                                      actor="tests")
    member = make_member(session, "Iain Duncan Smith", family_name="Smith", party="Conservative")
    letter = open_for_signatures(session, make_letter(session, campaign), staff)
    session.commit()
    return staff, campaign, ask, member, letter


def log(session, actor, **values):
    values.setdefault("kind", "reply")
    values.setdefault("channel", "email")
    values.setdefault("occurred_date", utcnow().date())
    return responses.log_response(session, response_in=responses.ResponseCreate(**values), actor=actor)


def test_a_logged_response_lands_on_the_timeline_and_in_the_audit_log(session):
    staff, campaign, ask, member, letter = setup_world(session)
    volunteer = make_user(session, role=Role.volunteer)
    response = log(session, volunteer, person_id=member.id, letter_id=letter.id, summary="Will consider it.")
    assert response.campaign_id == campaign.id
    assert response.logged_by_label == volunteer.email
    event = session.get(Event, response.event_id)
    assert event.kind is EventKind.response_logged and event.campaign_id == campaign.id
    assert "Iain Duncan Smith" in event.title and event.start_date == response.occurred_date
    entries = audit.recent(session, entity_type="response", entity_id=response.id)
    assert [e.action for e in entries] == ["response.log"] and entries[0].actor_id == volunteer.id
    assert responses.list_responses(session, person_id=member.id) == [response]


def test_a_stance_change_is_recorded_with_the_response_as_its_source_and_history_kept(session):
    staff, campaign, ask, member, letter = setup_world(session)
    contacts_service.record_stance(session, person_id=member.id, ask_id=ask.id, position=Position.undecided,
                                   source_kind=StanceSource.note, source_note="Said so at a hustings", actor=staff)
    response = log(session, staff, person_id=member.id, letter_id=letter.id, kind="meeting", channel="meeting",
                   ask_id=ask.id, position="supportive", summary="Backs the ban.")
    stances = session.exec(select(Stance).where(Stance.person_id == member.id).order_by(Stance.id)).all()
    assert [s.position for s in stances] == [Position.undecided, Position.supportive]
    assert stances[-1].source_kind is StanceSource.response and stances[-1].source_response_id == response.id
    assert response.stance_id == stances[-1].id
    current = contacts_service.current_stances(session, person_ids=[member.id], ask_id=ask.id)
    assert current[member.id].position is Position.supportive


def test_bad_input_names_the_field_and_writes_nothing(session):
    staff, campaign, ask, member, letter = setup_world(session)
    other = make_campaign(session, "Other")
    before = len(responses.list_responses(session))
    cases = [
        (dict(person_id=999_999, letter_id=letter.id), "person_id"),
        (dict(person_id=member.id), "campaign_id"),
        (dict(person_id=member.id, letter_id=letter.id, ask_id=ask.id), "position"),
        (dict(person_id=member.id, campaign_id=other.id, letter_id=letter.id), "campaign_id"),
        (dict(person_id=member.id, letter_id=letter.id, occurred_date=utcnow().date() + timedelta(days=3)),
         "occurred_date"),
    ]
    for values, loc in cases:
        with pytest.raises(InvalidInput) as raised:
            with session.begin_nested():
                log(session, staff, **values)
        assert loc in [e.loc for e in raised.value.errors], (values, raised.value.errors)
    assert len(responses.list_responses(session)) == before
    assert session.exec(select(Stance).where(Stance.person_id == member.id)).all() == []


def test_a_response_closes_the_persons_open_follow_up_on_that_letter_only(session):
    staff, campaign, ask, member, letter = setup_world(session)
    second = open_for_signatures(session, make_letter(session, campaign), staff)
    from letters import service
    from letters.schemas import InvitationCreate

    for each in (letter, second):
        service.invite(session, letter_id=each.id, invitation_in=InvitationCreate(person_ids=[member.id],
                                                                                   send_email=False), actor=staff)
    followups.set_rule(session, campaign_id=campaign.id, actor=staff, rule_in=followups.FollowUpRuleIn(
        applies_to=FollowUpSource.signing_invitation, days=7, action=FollowUpAction.remind_owner))
    created = followups.scan_followups(session, now=utcnow() + timedelta(days=8))
    assert len(created) == 2
    response = log(session, staff, person_id=member.id, letter_id=letter.id, kind="declined")
    by_letter = {f.letter_id: f for f in created}
    assert by_letter[letter.id].status is FollowUpStatus.closed
    assert by_letter[letter.id].closed_by_response_id == response.id
    assert by_letter[second.id].status is FollowUpStatus.open


# --- the page and the API ----------------------------------------------------------


def test_a_volunteer_logs_a_response_from_the_page_with_the_person_prefilled(client, session):
    staff, campaign, ask, member, letter = setup_world(session)
    volunteer = make_user(session, role=Role.volunteer)
    login(client, volunteer)
    page = client.get(f"/responses/new?person_id={member.id}")
    assert page.status_code == 200
    assert f'value="{member.id}"' in page.text and "Iain Duncan Smith" in page.text
    answer = client.post("/responses/new", data={
        "csrf_token": page_csrf(client, "/responses/new"), "person_id": str(member.id), "letter_id": str(letter.id),
        "kind": "reply", "channel": "letter", "occurred_date": date.today().isoformat(),
        "summary": "Thanks for the letter.", "ask_id": str(ask.id), "position": "leaning_for"})
    assert answer.status_code == 303, answer.text
    listing = client.get("/responses")
    assert "Thanks for the letter." in listing.text and "Iain Duncan Smith" in listing.text
    current = contacts_service.current_stances(session, person_ids=[member.id], ask_id=ask.id)
    assert current[member.id].position is Position.leaning_for


def test_the_page_keeps_typed_values_and_shows_errors_next_to_fields(client, session):
    staff, campaign, ask, member, letter = setup_world(session)
    login(client, make_user(session, role=Role.volunteer))
    answer = client.post("/responses/new", data={
        "csrf_token": page_csrf(client, "/responses/new"), "person_id": str(member.id), "letter_id": "",
        "kind": "reply", "channel": "phone", "occurred_date": "not a date", "summary": "Kept <b>text</b>"})
    assert answer.status_code == 422
    assert 'id="response-occurred_date-error"' in answer.text
    assert "Kept &lt;b&gt;text&lt;/b&gt;" in answer.text
    assert 'value="phone" selected' in answer.text
    assert responses.list_responses(session, person_id=member.id) == []


def test_the_api_logs_and_lists_responses(client, session):
    staff, campaign, ask, member, letter = setup_world(session)
    from tests.factories import make_token

    token = make_token(session, make_user(session, role=Role.volunteer))
    headers = {"Authorization": f"Bearer {token}"}
    created = client.post("/api/v1/responses", headers=headers, json={
        "person_id": member.id, "letter_id": letter.id, "kind": "signed", "channel": "email",
        "occurred_date": date.today().isoformat(), "summary": "Signed it."})
    assert created.status_code == 201, created.text
    assert created.json()["kind"] == "signed" and created.json()["campaign_id"] == campaign.id
    listed = client.get(f"/api/v1/responses?person_id={member.id}", headers=headers)
    assert [r["id"] for r in listed.json()] == [created.json()["id"]]
    bad = client.post("/api/v1/responses", headers=headers, json={
        "person_id": member.id, "kind": "reply", "channel": "email", "occurred_date": date.today().isoformat()})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == "campaign_id"


def test_roles_on_the_response_routes(client, session):
    staff, campaign, ask, member, letter = setup_world(session)
    assert client.get("/responses/new").status_code in (303, 307)
    assert client.post("/api/v1/responses", json={}).status_code == 401
    for role in Role:
        client.cookies.clear()
        login(client, make_user(session, role=role))
        assert client.get("/responses/new").status_code == 200, role
        assert client.get("/responses").status_code == 200, role
        assert client.get("/api/v1/responses").status_code == 200, role


def test_a_volunteer_finds_the_person_by_name_instead_of_a_number(client, session):
    staff, campaign, ask, member, letter = setup_world(session)
    login(client, make_user(session, role=Role.volunteer))
    found = client.get(f"/responses/new?q=duncan&letter_id={letter.id}")
    assert found.status_code == 200
    assert f'href="/responses/new?person_id={member.id}&amp;letter_id={letter.id}"' in found.text
    chosen = client.get(f"/responses/new?person_id={member.id}&letter_id={letter.id}")
    assert "Response from <strong>" in chosen.text and f'name="person_id" value="{member.id}"' in chosen.text
    assert "Search by name" not in chosen.text
    nobody = client.get("/responses/new?q=zzzzzz")
    assert "Nobody in the directory matches “zzzzzz”" in nobody.text
