"""Scheduling a letter puts one outbox message per recipient in the outbox; it is marked sent when all have gone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from campaign.accounts.models import Role
from campaign.errors import Conflict, InvalidInput
from campaign.models import Event, EventKind
from contacts import service as contacts_service
from contacts.service import PersonFilter
from letters import sending, service
from letters.models import LetterState
from letters.schemas import Addressee, LetterTransition
from tests.factories import login, make_user, page_csrf
from tests.letters.factories import PRIME_MINISTER, advance, make_campaign, make_letter, make_member
from workers.models import OutboxAttachment, OutboxKind, OutboxMessage, OutboxStatus

SOON = datetime.now(UTC) + timedelta(hours=2)


@pytest.fixture
def staff(session):
    return make_user(session, role=Role.staff)


def _approved_letter(session, staff, *addressees):
    campaign = make_campaign(session)
    letter = make_letter(session, campaign, actor=staff)
    letter.addressees = [a.model_dump(exclude_defaults=True) for a in addressees]
    session.add(letter)
    return advance(session, letter, LetterState.in_review, LetterState.approved, actor=staff)


def _schedule(session, letter, staff, when=SOON):
    return service.transition(session, letter_id=letter.id, actor=staff,
                              transition_in=LetterTransition(to=LetterState.scheduled, scheduled_at=when))


def _deliver(session, *messages):
    """What a worker records when the server accepts a message."""
    for message in messages:
        message.status, message.sent_at = OutboxStatus.sent, datetime.now(UTC)
        session.add(message)
    session.flush()


def test_scheduling_queues_the_rendered_letter_with_its_pdf_to_each_addressee_with_an_address(session, staff):
    minister = make_member(session, "Catherine West", family_name="West", prefix="Ms")
    letter = _approved_letter(session, staff, PRIME_MINISTER, Addressee(person_id=minister.id))
    _schedule(session, letter, staff)

    [message] = sending.letter_messages(session, letter_id=letter.id)
    assert message.recipient_address == "west@example.org" and message.kind == OutboxKind.letter
    assert message.scheduled_at == SOON
    assert message.status == OutboxStatus.scheduled and message.campaign_id == letter.campaign_id
    assert "Dear Ms West" in message.text_body and "Safeguard Defenders" in message.text_body
    [attachment] = session.exec(select(OutboxAttachment).where(OutboxAttachment.outbox_message_id == message.id))
    assert attachment.filename == "letter-to-the-prime-minister.pdf"
    assert attachment.content.startswith(b"%PDF")
    delivery = sending.delivery(session, letter=letter, recipients=service.recipients(session, letter=letter))
    assert delivery.recipients_without_email == ["The Rt Hon Rishi Sunak MP"] and delivery.unsent == 1


def test_a_segment_adds_personalised_messages_without_the_pdf(session, staff):
    make_member(session, "Alicia Kearns", family_name="Kearns", party="Conservative", prefix="Ms")
    segment = contacts_service.create_segment(session, name="Kearns", actor=staff,
                                              person_filter=PersonFilter(q="Kearns"))
    letter = _approved_letter(session, staff, Addressee(name="Prime Minister", email="pm@example.gov.uk"))
    letter.recipient_segment_id = segment.id
    _schedule(session, letter, staff)

    messages = {m.recipient_address: m for m in sending.letter_messages(session, letter_id=letter.id)}
    assert set(messages) == {"pm@example.gov.uk", "kearns@example.org"}
    assert messages["kearns@example.org"].kind == OutboxKind.personalised_letter
    assert "Dear Ms Kearns" in messages["kearns@example.org"].text_body
    attachments = session.exec(select(OutboxAttachment.outbox_message_id)).all()
    assert messages["pm@example.gov.uk"].id in attachments and messages["kearns@example.org"].id not in attachments


def test_a_wall_clock_time_is_read_in_the_campaigns_zone_and_a_past_time_is_refused(session, staff):
    letter = _approved_letter(session, staff, Addressee(name="Prime Minister", email="pm@example.gov.uk"))
    with pytest.raises(InvalidInput) as refused:
        _schedule(session, letter, staff, when=datetime.now(UTC) - timedelta(hours=1))
    assert refused.value.errors[0].loc == "scheduled_at"
    assert sending.letter_messages(session, letter_id=letter.id) == []

    next_summer = datetime(datetime.now().year + 1, 7, 1, 9, 0)  # British Summer Time: 08:00 UTC
    _schedule(session, letter, staff, when=next_summer)
    [message] = sending.letter_messages(session, letter_id=letter.id)
    assert message.scheduled_at == next_summer.replace(hour=8, tzinfo=UTC)


def test_reschedule_and_withdraw_move_or_cancel_the_unsent_messages(session, staff):
    letter = _approved_letter(session, staff, Addressee(name="Prime Minister", email="pm@example.gov.uk"))
    _schedule(session, letter, staff)
    later = SOON + timedelta(days=1)
    _schedule(session, letter, staff, when=later)
    [message] = sending.letter_messages(session, letter_id=letter.id)
    session.refresh(message)
    assert message.scheduled_at == later and message.next_attempt_at == later
    service.transition(session, letter_id=letter.id, actor=staff, transition_in=LetterTransition(to="withdrawn"))
    session.refresh(message)
    assert message.status == OutboxStatus.cancelled


def test_a_letter_whose_messages_have_gone_can_no_longer_be_withdrawn(session, staff):
    letter = _approved_letter(session, staff, Addressee(name="Prime Minister", email="pm@example.gov.uk"),
                              Addressee(name="Foreign Secretary", email="fs@example.gov.uk"))
    _schedule(session, letter, staff)
    first, second = sending.letter_messages(session, letter_id=letter.id)
    _deliver(session, first)
    with pytest.raises(Conflict, match="1 of this letter's messages have already gone"):
        service.transition(session, letter_id=letter.id, actor=staff, transition_in=LetterTransition(to="withdrawn"))
    with pytest.raises(Conflict, match="have not gone yet"):
        service.transition(session, letter_id=letter.id, actor=staff, transition_in=LetterTransition(to="sent"))
    session.refresh(second)
    assert second.status == OutboxStatus.scheduled


def test_the_letter_is_marked_sent_once_every_message_has_gone_with_an_event_on_the_timeline(session, staff):
    letter = _approved_letter(session, staff, Addressee(name="Prime Minister", email="pm@example.gov.uk"),
                              Addressee(name="Foreign Secretary", email="fs@example.gov.uk"))
    _schedule(session, letter, staff)
    first, second = sending.letter_messages(session, letter_id=letter.id)
    _deliver(session, first)
    assert sending.settle_sent_letters(session, letter_ids=[letter.id]) == []
    _deliver(session, second)
    assert sending.letters_of_messages(session, message_ids=[first.id, second.id]) == {letter.id}
    assert sending.settle_sent_letters(session) == [letter.id]
    assert sending.settle_sent_letters(session) == []  # a second run finds nothing to do
    session.refresh(letter)
    assert letter.state == LetterState.sent and letter.sent_at == second.sent_at
    [event] = session.exec(select(Event).where(Event.campaign_id == letter.campaign_id,
                                               Event.kind == EventKind.letter_sent))
    assert event.title == "Sent: Letter to the Prime Minister" and "2 recipients" in event.summary


def test_a_cancelled_message_does_not_hold_the_letter_back_but_a_failed_one_does(session, staff):
    letter = _approved_letter(session, staff, Addressee(name="Prime Minister", email="pm@example.gov.uk"),
                              Addressee(name="Foreign Secretary", email="fs@example.gov.uk"))
    _schedule(session, letter, staff)
    first, second = sending.letter_messages(session, letter_id=letter.id)
    _deliver(session, first)
    session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == second.id).values(status="failed"))
    assert sending.settle_sent_letters(session) == []
    session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == second.id).values(status="cancelled"))
    assert sending.settle_sent_letters(session) == [letter.id]


def test_the_letter_page_schedules_in_local_time_and_shows_errors_in_place(client, session, staff):
    letter = _approved_letter(session, staff, Addressee(name="Prime Minister", email="pm@example.gov.uk"),
                              PRIME_MINISTER)
    session.commit()
    login(client, staff)
    csrf = page_csrf(client, f"/letters/{letter.id}")
    refused = client.post(f"/letters/{letter.id}/transition", data={
        "csrf_token": csrf, "to": "scheduled", "scheduled_at": "2020-01-02T09:30"})
    assert refused.status_code == 422
    assert "That time has passed" in refused.text and 'value="2020-01-02T09:30"' in refused.text
    assert 'aria-invalid="true"' in refused.text

    when = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT09:30")
    moved = client.post(f"/letters/{letter.id}/transition", data={
        "csrf_token": csrf, "to": "scheduled", "scheduled_at": when}, follow_redirects=True)
    assert moved.status_code == 200
    assert "Scheduled: 1 message will go at the time you chose." in moved.text
    assert "pm@example.gov.uk" in moved.text and "Reschedule" in moved.text
    assert "No e-mail address for The Rt Hon Rishi Sunak MP" in moved.text
    assert f'value="{when}"' in moved.text


def test_staff_add_and_remove_addressees_and_a_segment_on_the_letter_page(client, session, staff):
    campaign = make_campaign(session)
    member = make_member(session, "Catherine West", family_name="West", prefix="Ms")
    segment = contacts_service.create_segment(session, name="West only", actor=staff,
                                              person_filter=PersonFilter(q="West"))
    letter = make_letter(session, campaign, actor=staff)
    session.commit()
    login(client, staff)
    page = client.get(f"/letters/{letter.id}?find=west")
    assert f'name="person_id" value="{member.id}"' in page.text
    csrf = page_csrf(client, f"/letters/{letter.id}")
    added = client.post(f"/letters/{letter.id}/addressees", data={
        "csrf_token": csrf, "version": letter.version, "action": "add_person", "person_id": member.id},
        follow_redirects=True)
    assert "Added an addressee from the directory." in added.text and "west@example.org" in added.text
    session.refresh(letter)
    assert letter.addressees[-1] == {"person_id": member.id} and letter.version == 2

    wrong = client.post(f"/letters/{letter.id}/addressees", data={
        "csrf_token": csrf, "version": letter.version, "action": "add_written", "name": "Foreign Secretary",
        "email": "not an address"})
    assert wrong.status_code == 422 and 'id="addressee-email-error"' in wrong.text
    assert 'value="Foreign Secretary"' in wrong.text
    stale = client.post(f"/letters/{letter.id}/addressees", data={
        "csrf_token": csrf, "version": 1, "action": "add_written", "name": "Foreign Secretary"})
    assert stale.status_code == 409 and "Someone else saved this letter first" in stale.text

    removed = client.post(f"/letters/{letter.id}/addressees", data={
        "csrf_token": csrf, "version": letter.version, "action": "remove", "index": "0"})
    assert removed.status_code == 303
    session.refresh(letter)
    moved = client.post(f"/letters/{letter.id}/segment", data={"csrf_token": csrf, "version": letter.version,
                                                               "segment_id": segment.id})
    assert moved.status_code == 303, moved.text[-2000:]
    session.refresh(letter)
    assert letter.addressees == [{"person_id": member.id}] and letter.recipient_segment_id == segment.id
    assert [v.change_note for v in service.list_versions(session, letter_id=letter.id)][-2:] == [
        "Removed the addressee Rishi Sunak", "Changed the recipient segment"]


def test_removing_an_addressee_that_is_not_there_is_refused(client, session, staff):
    letter = make_letter(session, make_campaign(session), actor=staff)
    session.commit()
    login(client, staff)
    csrf = page_csrf(client, f"/letters/{letter.id}")
    refused = client.post(f"/letters/{letter.id}/addressees", data={
        "csrf_token": csrf, "version": letter.version, "action": "remove", "index": "7"})
    assert refused.status_code == 422 and "There is no such addressee to remove." in refused.text
    session.refresh(letter)
    assert letter.version == 1 and len(letter.addressees) == 1
