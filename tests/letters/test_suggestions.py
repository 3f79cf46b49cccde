"""Questions suggested to supportive members, and a question's tabling and answer recorded from a response."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from campaign import service as campaign_service
from campaign.accounts.models import Role
from campaign.errors import InvalidInput
from campaign.schemas import AskCreate
from contacts import service as contacts_service
from letters import responses, service, suggestions
from letters.models import QuestionState
from letters.questions import Chamber
from letters.schemas import QuestionCreate
from tests.factories import login, make_token, make_user, page_csrf
from tests.letters.factories import make_campaign, make_member
from workers.models import OutboxKind, OutboxMessage

FCDO = ("To ask the Secretary of State for Foreign, Commonwealth and Development Affairs, what assessment "
        "he has made of the role of Liu Jianchao in fugitive recovery operations.")
HOME = ("To ask the Secretary of State for the Home Department, how many reports of transnational "
        "repression the police received in 2023.")
LORDS = "To ask His Majesty's Government what representations they have made about the visit of Liu Jianchao."
SOON = datetime.now(UTC) + timedelta(hours=1)


@pytest.fixture
def world(session):
    campaign = make_campaign(session)
    ask = campaign_service.create_ask(session, campaign_id=campaign.id, actor="tests",
                                      ask_in=AskCreate(title="Refuse the visit"))
    supportive = make_member(session, "Alicia Kearns", family_name="Kearns", party="Conservative", prefix="Ms")
    champion = make_member(session, "Iain Duncan Smith", family_name="Smith", party="Conservative", prefix="Sir")
    undecided = make_member(session, "Tom Tugendhat", family_name="Tugendhat", party="Conservative")
    peer = make_member(session, "Lord Alton of Liverpool", family_name="Alton", chamber="House of Lords",
                       party="Crossbench", prefix="Lord")
    silent = make_member(session, "Rachel Reeves", family_name="Reeves")
    silent.email = ""
    for person, position in ((supportive, "supportive"), (champion, "champion"), (undecided, "undecided"),
                             (peer, "champion"), (silent, "champion")):
        contacts_service.record_stance(session, person_id=person.id, ask_id=ask.id, position=position,
                                       source_kind="note", source_note="said so at the APPG", actor="tests")
    questions = [service.create_question(session, actor="tests", question_in=QuestionCreate(
        campaign_id=campaign.id, chamber=Chamber.commons_written, text=text)) for text in (FCDO, HOME)]
    session.flush()
    return {"campaign": campaign, "ask": ask, "supportive": supportive, "champion": champion, "peer": peer,
            "questions": questions}


def test_candidates_are_current_members_of_the_chamber_who_support_the_ask_and_have_an_address(session, world):
    found = suggestions.candidates(session, ask_id=world["ask"].id, chamber=Chamber.commons_written)
    assert {c.person.id for c in found} == {world["supportive"].id, world["champion"].id}
    assert {c.chamber for c in found} == {"House of Commons"} and {c.party for c in found} == {"Conservative"}
    lords = suggestions.candidates(session, ask_id=world["ask"].id, chamber=Chamber.lords_written)
    assert [c.person.id for c in lords] == [world["peer"].id]


def test_each_member_gets_one_personal_message_listing_the_questions(session, world):
    people = [world["supportive"].id, world["champion"].id]
    queued = suggestions.suggest(session, question_ids=[q.id for q in world["questions"]], person_ids=people,
                                 scheduled_at=SOON, note="", actor="tests")
    assert [m.recipient_address for m in queued] == ["kearns@example.org", "smith@example.org"]
    kearns = queued[0]
    assert kearns.kind == OutboxKind.question_suggestion and kearns.campaign_id == world["campaign"].id
    assert kearns.subject.startswith("2 questions you might table")
    assert kearns.text_body.startswith("Dear Ms Kearns,")
    assert f"1. {FCDO}" in kearns.text_body and f"2. {HOME}" in kearns.text_body
    assert world["campaign"].name in kearns.text_body and "&lt;" not in kearns.text_body
    assert all(q.state == QuestionState.suggested for q in world["questions"])


def test_suggestions_that_cannot_go_are_refused_and_nothing_is_queued(session, world):
    lords = service.create_question(session, actor="tests", question_in=QuestionCreate(
        campaign_id=world["campaign"].id, chamber=Chamber.lords_written, text=LORDS))
    reeves = contacts_service.upsert_person(session, name="No Address", identifiers={"test": "no-address"})
    with pytest.raises(InvalidInput) as refused:
        suggestions.suggest(session, question_ids=[world["questions"][0].id, lords.id],
                            person_ids=[reeves.id, 99_999_999], scheduled_at=SOON, actor="tests")
    messages = [e.msg for e in refused.value.errors]
    assert "the questions are for different chambers; suggest them separately" in messages
    assert "no person 99999999" in messages and "No Address has no e-mail address" in messages
    assert session.exec(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.question_suggestion)).all() == []


def test_a_tabled_then_answered_question_is_recorded_from_volunteers_responses(session, world):
    question = world["questions"][0]
    volunteer = make_user(session, role=Role.volunteer)
    responses.log_response(session, actor=volunteer, response_in=responses.ResponseCreate(
        person_id=world["supportive"].id, question_id=question.id, kind="question_tabled", channel="email",
        occurred_date=date(2026, 11, 2), summary="Tabled as UIN 12345"))
    assert question.state == QuestionState.tabled and question.asking_member_id == world["supportive"].id
    assert question.tabled_date == date(2026, 11, 2)
    responses.log_response(session, actor=volunteer, response_in=responses.ResponseCreate(
        person_id=world["supportive"].id, question_id=question.id, kind="question_answered", channel="other",
        occurred_date=date(2026, 11, 9), summary="The Government does not comment on individual visits."))
    assert question.state == QuestionState.answered and question.answered_date == date(2026, 11, 9)
    assert question.answer_text == "The Government does not comment on individual visits."


def test_the_api_queues_suggestions_for_staff_only(client, session, world):
    staff, coordinator = make_user(session, role=Role.staff), make_user(session, role=Role.coordinator)
    session.commit()
    body = {"question_ids": [world["questions"][0].id], "person_ids": [world["champion"].id],
            "scheduled_at": SOON.isoformat()}
    refused = client.post("/api/v1/question-suggestions", json=body,
                          headers={"Authorization": f"Bearer {make_token(session, coordinator)}"})
    assert refused.status_code == 403
    created = client.post("/api/v1/question-suggestions", json=body,
                          headers={"Authorization": f"Bearer {make_token(session, staff)}"})
    assert created.status_code == 201, created.text
    assert created.json()["queued"] == 1
    naive = client.post("/api/v1/question-suggestions", json={**body, "scheduled_at": "2026-12-01T09:00"},
                        headers={"Authorization": f"Bearer {make_token(session, staff)}"})
    assert naive.status_code == 422 and "scheduled_at" in naive.text


def test_staff_draft_and_suggest_questions_from_the_pages(client, session, world):
    staff = make_user(session, role=Role.staff)
    session.commit()
    login(client, staff)
    campaign_id = world["campaign"].id
    csrf = page_csrf(client, f"/questions?campaign_id={campaign_id}")
    wrong = client.post("/questions", data={"csrf_token": csrf, "campaign_id": campaign_id,
                                            "chamber": "commons_written", "text": "Why is the visit going ahead?"})
    assert wrong.status_code == 422
    assert 'aria-invalid="true"' in wrong.text and "Why is the visit going ahead?" in wrong.text
    drafted = client.post("/questions", data={"csrf_token": csrf, "campaign_id": campaign_id,
                                              "chamber": "commons_written", "text": FCDO.replace("role", "record")},
                          follow_redirects=True)
    assert drafted.status_code == 200 and "Drafted question" in drafted.text

    ids = [q.id for q in world["questions"]]
    page = client.get("/questions/suggest", params={"question_id": ids, "ask_id": world["ask"].id})
    assert page.status_code == 200
    assert "Alicia Kearns" in page.text and "Iain Duncan Smith" in page.text and "Tom Tugendhat" not in page.text
    missing_time = client.post("/questions/suggest", data={
        "csrf_token": csrf, "question_id": ids, "person_id": [world["supportive"].id], "ask_id": world["ask"].id})
    assert missing_time.status_code == 422 and "a date and time are needed" in missing_time.text
    when = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT09:00")
    sent = client.post("/questions/suggest", data={
        "csrf_token": csrf, "question_id": ids, "person_id": [world["supportive"].id], "ask_id": world["ask"].id,
        "scheduled_at": when, "note": "Would you table these?"}, follow_redirects=True)
    assert sent.status_code == 200 and "Queued 1 suggestion." in sent.text
    session.expire_all()
    [message] = session.exec(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.question_suggestion)).all()
    assert "Would you table these?" in message.text_body
