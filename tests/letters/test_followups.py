"""Follow-ups: the scan with a moved clock, idempotence, rules, chasers held until approved,
closing by a logged response, and the page's role checks."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from campaign.accounts.models import Role
from campaign.db import utcnow
from campaign.errors import Conflict
from letters import followups, service
from letters.models import (FollowUp, FollowUpAction, FollowUpKind, FollowUpSource, FollowUpStatus, LetterState)
from letters.schemas import InvitationCreate
from tests.letters.concurrency import fresh_writer, twice_at_once
from tests.factories import login, make_user, page_csrf
from tests.letters.factories import make_member
from tests.letters.test_responses import app, log, setup_world  # noqa: F401  (the app fixture mounts the routers)
from workers import outbox
from workers.models import OutboxKind, OutboxMessage, OutboxStatus


def invite(session, letter, staff, *people):
    return service.invite(session, letter_id=letter.id, actor=staff, invitation_in=InvitationCreate(
        person_ids=[p.id for p in people], send_email=False))


def rule(session, campaign, staff, applies_to=FollowUpSource.signing_invitation, days=7,
         action=FollowUpAction.remind_owner):
    return followups.set_rule(session, campaign_id=campaign.id, actor=staff, rule_in=followups.FollowUpRuleIn(
        applies_to=applies_to, days=days, action=action))


def test_nothing_is_due_before_the_set_days_and_a_second_scan_creates_nothing(session):
    staff, campaign, ask, member, letter = setup_world(session)
    invite(session, letter, staff, member)
    rule(session, campaign, staff, days=7)
    assert followups.scan_followups(session, now=utcnow() + timedelta(days=6)) == []
    later = utcnow() + timedelta(days=7, hours=1)
    created = followups.scan_followups(session, now=later)
    assert [(f.person_id, f.letter_id, f.kind, f.status) for f in created] == [
        (member.id, letter.id, FollowUpKind.reminder, FollowUpStatus.open)]
    assert followups.scan_followups(session, now=later) == []
    assert followups.scan_followups(session, now=later + timedelta(days=30)) == []
    assert len(session.exec(select(FollowUp).where(FollowUp.letter_id == letter.id)).all()) == 1


def test_signers_and_people_who_responded_are_not_followed_up(session):
    staff, campaign, ask, member, letter = setup_world(session)
    signer = make_member(session, "Signer Person", family_name="Signer")
    responder = make_member(session, "Responder Person", family_name="Responder")
    invited = {i.person.id: i for i in invite(session, letter, staff, member, signer, responder)}
    service.respond(session, token=invited[signer.id].token, action="sign",
                    printed_name="Signer Person")
    log(session, staff, person_id=responder.id, letter_id=letter.id, kind="reply", summary="Thinking about it")
    rule(session, campaign, staff, days=3)
    created = followups.scan_followups(session, now=utcnow() + timedelta(days=4))
    assert [f.person_id for f in created] == [member.id]


def test_invitations_are_not_chased_once_signing_closes(session):
    staff, campaign, ask, member, letter = setup_world(session)
    invite(session, letter, staff, member)
    letter.signing_closes_at = utcnow() + timedelta(days=5)
    rule(session, campaign, staff, days=7)
    assert followups.scan_followups(session, now=utcnow() + timedelta(days=8)) == []
    letter.signing_closes_at = None
    letter.state = LetterState.signatures_closed
    assert followups.scan_followups(session, now=utcnow() + timedelta(days=8)) == []


def test_a_disabled_rule_or_no_rule_creates_nothing(session):
    staff, campaign, ask, member, letter = setup_world(session)
    invite(session, letter, staff, member)
    assert followups.scan_followups(session, now=utcnow() + timedelta(days=60)) == []
    followups.set_rule(session, campaign_id=campaign.id, actor=staff, rule_in=followups.FollowUpRuleIn(
        applies_to=FollowUpSource.signing_invitation, days=7, enabled=False))
    assert followups.scan_followups(session, now=utcnow() + timedelta(days=60)) == []


def test_a_chaser_is_held_until_staff_approve_it_then_is_an_outbox_row_and_a_new_round_starts(session):
    staff, campaign, ask, member, letter = setup_world(session)
    invite(session, letter, staff, member)
    rule(session, campaign, staff, days=7, action=FollowUpAction.queue_chaser)
    first_scan = utcnow() + timedelta(days=8)
    [pending] = followups.scan_followups(session, now=first_scan)
    assert pending.kind is FollowUpKind.chaser and pending.status is FollowUpStatus.open
    chasers = select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.chaser,
                                          OutboxMessage.campaign_id == campaign.id)
    assert session.exec(chasers).all() == []
    approved = followups.approve_chaser(session, follow_up_id=pending.id, actor=staff, now=first_scan)
    assert approved.status is FollowUpStatus.chaser_queued
    [message] = session.exec(chasers).all()
    assert message.id == approved.chaser_outbox_id and message.recipient_address == member.email
    assert "/sign/" in message.text_body and message.status is OutboxStatus.scheduled
    with pytest.raises(Conflict):
        followups.approve_chaser(session, follow_up_id=pending.id, actor=staff)
    # The next round is counted from the chase, and still only once per round.
    assert followups.scan_followups(session, now=first_scan + timedelta(days=6)) == []
    [second] = followups.scan_followups(session, now=first_scan + timedelta(days=7))
    assert second.invitation_id == pending.invitation_id and second.id != pending.id
    assert followups.scan_followups(session, now=first_scan + timedelta(days=7)) == []


def test_sent_letter_mail_is_followed_up_and_a_response_closes_it(session):
    staff, campaign, ask, member, letter = setup_world(session)
    message = outbox.schedule(session, recipient_address=member.email, recipient_name=member.name,
                              subject="Visit of Liu Jianchao", text_body="Dear Sir", scheduled_at=utcnow(),
                              kind=OutboxKind.letter, campaign_id=campaign.id, actor=staff)
    message.status, message.sent_at = OutboxStatus.sent, utcnow()
    message.message_id = outbox.make_message_id(message.id)
    rule(session, campaign, staff, applies_to=FollowUpSource.letter, days=14, action=FollowUpAction.queue_chaser)
    assert followups.scan_followups(session, now=utcnow() + timedelta(days=13)) == []
    [follow_up] = followups.scan_followups(session, now=utcnow() + timedelta(days=15))
    assert follow_up.outbox_message_id == message.id and follow_up.person_id == member.id
    response = log(session, staff, person_id=member.id, campaign_id=campaign.id, kind="reply", channel="email")
    assert follow_up.status is FollowUpStatus.closed and follow_up.closed_by_response_id == response.id
    assert followups.list_followups(session, campaign_id=campaign.id) == []
    assert followups.scan_followups(session, now=utcnow() + timedelta(days=40)) == []


def test_each_scan_reads_the_mail_that_became_due_since_the_last(session):
    staff, campaign, ask, member, letter = setup_world(session)
    other = make_member(session, "Later Member", family_name="Later")
    start = utcnow()

    def sent(person, days_after_start):
        message = outbox.schedule(session, recipient_address=person.email, subject="Visit of Liu Jianchao",
                                  text_body="Dear Member", scheduled_at=start, kind=OutboxKind.letter,
                                  campaign_id=campaign.id, actor=staff)
        message.status, message.sent_at = OutboxStatus.sent, start + timedelta(days=days_after_start)
        return message

    first, later = sent(member, 0), sent(other, 3)
    seven_days = rule(session, campaign, staff, applies_to=FollowUpSource.letter, days=7)
    [due] = followups.scan_followups(session, now=start + timedelta(days=8))
    assert due.outbox_message_id == first.id
    assert seven_days.scanned_through == start + timedelta(days=1)
    [then] = followups.scan_followups(session, now=start + timedelta(days=11))
    assert then.outbox_message_id == later.id and seven_days.scanned_through == start + timedelta(days=4)
    assert followups.scan_followups(session, now=start + timedelta(days=12)) == []
    # A clock that goes back (a scan run by hand with an older time) does not move the window back.
    assert followups.scan_followups(session, now=start + timedelta(days=9)) == []
    assert seven_days.scanned_through == start + timedelta(days=5)


def test_an_approved_letter_chaser_threads_under_the_original(session):
    staff, campaign, ask, member, letter = setup_world(session)
    message = outbox.schedule(session, recipient_address=member.email, subject="Visit of Liu Jianchao",
                              text_body="Dear Sir", scheduled_at=utcnow(), kind=OutboxKind.letter,
                              campaign_id=campaign.id, actor=staff)
    message.status, message.sent_at = OutboxStatus.sent, utcnow()
    rule(session, campaign, staff, applies_to=FollowUpSource.letter, days=14, action=FollowUpAction.queue_chaser)
    [follow_up] = followups.scan_followups(session, now=utcnow() + timedelta(days=15))
    followups.approve_chaser(session, follow_up_id=follow_up.id, actor=staff)
    chaser = session.get(OutboxMessage, follow_up.chaser_outbox_id)
    assert chaser.subject == "Re: Visit of Liu Jianchao"
    assert chaser.in_reply_to == message.message_id and chaser.thread_references == message.message_id


def test_the_follow_ups_page_is_for_staff_and_coordinators_and_staff_approve(client, session):
    staff, campaign, ask, member, letter = setup_world(session)
    invite(session, letter, staff, member)
    rule(session, campaign, staff, days=7, action=FollowUpAction.queue_chaser)
    [pending] = followups.scan_followups(session, now=utcnow() + timedelta(days=8))
    session.commit()
    login(client, make_user(session, role=Role.volunteer))
    assert client.get("/follow-ups").status_code == 403
    assert client.get("/api/v1/follow-ups").status_code == 403
    client.cookies.clear()
    login(client, make_user(session, role=Role.coordinator))
    page = client.get("/follow-ups")
    assert page.status_code == 200 and member.name in page.text and "Approve chaser" not in page.text
    refused = client.post(f"/follow-ups/{pending.id}/approve", data={"csrf_token": page_csrf(client, "/follow-ups")})
    assert refused.status_code == 403
    client.cookies.clear()
    login(client, staff)
    page = client.get("/follow-ups")
    assert "Approve chaser" in page.text
    done = client.post(f"/follow-ups/{pending.id}/approve", data={"csrf_token": page_csrf(client, "/follow-ups")})
    assert done.status_code == 303
    session.refresh(pending)
    assert pending.status is FollowUpStatus.chaser_queued and pending.chaser_outbox_id


def test_rules_through_the_api_need_a_coordinator(client, session):
    staff, campaign, ask, member, letter = setup_world(session)
    from tests.factories import make_token

    body = {"applies_to": "letter", "days": 10, "action": "remind_owner"}
    volunteer = {"Authorization": f"Bearer {make_token(session, make_user(session, role=Role.volunteer))}"}
    coordinator = {"Authorization": f"Bearer {make_token(session, make_user(session, role=Role.coordinator))}"}
    path = f"/api/v1/campaigns/{campaign.id}/follow-up-rules"
    assert client.put(path, json=body, headers=volunteer).status_code == 403
    saved = client.put(path, json=body, headers=coordinator)
    assert saved.status_code == 200 and saved.json()["days"] == 10
    assert client.put(path, json={**body, "days": 0}, headers=coordinator).status_code == 422
    assert [r["days"] for r in client.get(path, headers=volunteer).json()] == [10]


def test_beat_runs_the_scan_task():
    from workers import tasks  # noqa: F401  (registers the tasks)
    from workers.celery_app import celery_app

    entry = celery_app.conf.beat_schedule["followups.scan"]
    assert entry["task"] == "followups.scan" and entry["schedule"] <= 24 * 3600
    assert "followups.scan" in celery_app.tasks


def test_the_daily_digest_goes_to_coordinators_once_a_day(session):
    from datetime import datetime, UTC

    staff, campaign, ask, member, letter = setup_world(session)
    coordinator = make_user(session, role=Role.coordinator)
    signer = make_member(session, "Signer Person", family_name="Signer")
    invited = {i.person.id: i for i in invite(session, letter, staff, member, signer)}
    service.respond(session, token=invited[signer.id].token, action="sign", printed_name="Signer Person")
    log(session, staff, person_id=member.id, campaign_id=campaign.id, kind="meeting", channel="phone",
        summary="Agreed to meet")
    failed = outbox.schedule(session, recipient_address="gone@parliament.example", subject="Bounced letter",
                             text_body="x", scheduled_at=utcnow(), campaign_id=campaign.id, actor=staff)
    failed.status, failed.last_error = OutboxStatus.failed, "550 no such user"
    other = make_member(session, "Quiet Member", family_name="Quiet")
    for invited_now in invite(session, letter, staff, other):
        invited_now.invitation.created_at = utcnow() - timedelta(days=3)
    rule(session, campaign, staff, days=1)
    # The next 07:30 UTC: within a day of now, so today's activity is in its window.
    now = utcnow()
    morning = datetime(now.year, now.month, now.day, 7, 30, tzinfo=UTC)
    morning += timedelta(days=1) if morning <= now else timedelta(0)
    followups.scan_followups(session, now=morning)
    assert followups.send_digests(session, now=morning - timedelta(hours=1)) == []  # before 07:00 UTC
    sent = followups.send_digests(session, now=morning)
    mine = [m for m in sent if m.recipient_address == coordinator.email]
    assert len(mine) == 1 and mine[0].kind is OutboxKind.digest
    text = mine[0].text_body
    assert "New signatures: 1" in text and "Signer Person signed" in text
    assert "Responses logged: 1" in text and "Agreed to meet" in text
    assert "Follow-ups due: 1" in text and "Quiet Member: reminder on letter" in text
    assert "Failed messages: 1" in text and "550 no such user" in text
    assert staff.email not in [m.recipient_address for m in sent]
    assert followups.send_digests(session, now=morning + timedelta(hours=5)) == []
    # The next day's digest covers only what happened since, plus what is still due.
    [tomorrow] = [m for m in followups.send_digests(session, now=morning + timedelta(days=1))
                  if m.recipient_address == coordinator.email]
    assert "New signatures: 0" in tomorrow.text_body and "Follow-ups due: 1" in tomorrow.text_body


def test_coordinators_set_the_rules_on_the_follow_ups_page(client, session):
    staff, campaign, ask, member, letter = setup_world(session)
    coordinator = make_user(session, role=Role.coordinator)
    session.commit()
    login(client, coordinator)
    page = client.get(f"/follow-ups?campaign_id={campaign.id}")
    assert page.status_code == 200 and "Not set yet for this campaign" in page.text
    assert 'id="rule-letter-enabled" name="enabled" value="on" checked' in page.text  # on by default
    csrf = page_csrf(client, f"/follow-ups?campaign_id={campaign.id}")
    wrong = client.post("/follow-ups/rules", data={"csrf_token": csrf, "campaign_id": campaign.id,
                                                   "applies_to": "signing_invitation", "days": "0", "enabled": "on"})
    assert wrong.status_code == 422
    assert 'id="rule-signing_invitation-days-error"' in wrong.text  # beside the field of the form that was sent
    assert 'name="days" type="number" min="1" max="365" inputmode="numeric" value="0"' in wrong.text
    assert followups.list_rules(session, campaign_id=campaign.id) == []
    saved = client.post("/follow-ups/rules", data={"csrf_token": csrf, "campaign_id": campaign.id,
                                                   "applies_to": "signing_invitation", "days": "5",
                                                   "action": "queue_chaser", "enabled": "on"}, follow_redirects=True)
    assert saved.status_code == 200 and "Follow-ups on signing invitations: after 5 days." in saved.text
    [rule_row] = followups.list_rules(session, campaign_id=campaign.id)
    assert (rule_row.days, rule_row.action, rule_row.enabled) == (5, FollowUpAction.queue_chaser, True)
    off = client.post("/follow-ups/rules", data={"csrf_token": csrf, "campaign_id": campaign.id,
                                                 "applies_to": "signing_invitation", "days": "5"},
                      follow_redirects=True)
    assert "Follow-ups on signing invitations: off." in off.text


def test_a_scan_reads_sent_letters_and_letter_mail_in_one_statement(session):
    staff, campaign, ask, member, letter = setup_world(session)
    other = make_member(session, "Mail Member", family_name="Mail")
    start = utcnow()
    letter.state, letter.sent_at, letter.addressees = LetterState.sent, start, [{"person_id": member.id}]
    message = outbox.schedule(session, recipient_address=other.email, subject="Visit of Liu Jianchao",
                              text_body="Dear Member", scheduled_at=start, kind=OutboxKind.letter,
                              campaign_id=campaign.id, actor=staff)
    message.status, message.sent_at = OutboxStatus.sent, start
    rule(session, campaign, staff, applies_to=FollowUpSource.letter, days=7)
    statements = []
    sa.event.listen(session.connection(), "before_cursor_execute",
                    lambda conn, cursor, statement, *args: statements.append(statement))
    created = followups.scan_followups(session, now=start + timedelta(days=8))
    assert {(f.letter_id, f.outbox_message_id, f.person_id) for f in created} == {
        (letter.id, None, member.id), (None, message.id, other.id)}
    reads = [s for s in statements if "FROM letter" in s or "FROM outbox_message" in s]
    assert len(reads) == 1, reads  # letters and letter mail together: one round trip, not one each
    # In steady state (nothing new) a scan is two statements: the rules, locked as they are read, and
    # the candidates.
    session.flush()
    statements.clear()
    assert followups.scan_followups(session, now=start + timedelta(days=8)) == []
    assert len(statements) == 2, statements


def test_two_scans_at_once_follow_each_item_up_once(tmp_path, monkeypatch):
    """Two beats by mistake, or a redelivered task: the second scan waits, then finds the first's work."""
    responded = followups._responded

    def slow_responded(*args, **kwargs):  # were the scans not run in turn, both would now add the follow-up
        time.sleep(0.3)
        return responded(*args, **kwargs)

    monkeypatch.setattr(followups, "_responded", slow_responded)
    with fresh_writer(tmp_path, "scans") as writer:
        with Session(writer, expire_on_commit=False) as session:
            staff, campaign, _, member, letter = setup_world(session)
            invite(session, letter, staff, member)
            rule(session, campaign, staff, days=7)  # invitations: the scan writes no watermark
            session.commit()
        made = twice_at_once(writer, lambda session: len(followups.scan_followups(
            session, now=utcnow() + timedelta(days=8))))
        assert made == [0, 1]
        with Session(writer) as session:
            assert len(session.exec(select(FollowUp).where(FollowUp.letter_id == letter.id)).all()) == 1
