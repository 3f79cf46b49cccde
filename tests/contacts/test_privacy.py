"""An admin exports everything held about a person, and erases them; both are audited."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from campaign import service as campaign_service
from campaign.accounts.models import Role
from campaign.audit import AuditEntry
from campaign.db import utcnow
from campaign.models import Event
from campaign.schemas import AskCreate
from contacts import service as contacts_service
from contacts.models import Identifier, Membership, Person, PersonTag, Stance
from letters import responses
from letters import service as letters_service
from letters.models import (FollowUp, FollowUpKind, Letter, LetterState, Response, Signature, SigningInvitation)
from letters.schemas import InvitationCreate
from tests.factories import login, make_token, make_user, page_csrf
from tests.letters.factories import make_campaign, make_letter, make_member, open_for_signatures
from workers import outbox
from workers.models import OutboxMessage, OutboxStatus


def world(session, staff):
    """Sarah signed a letter that was then sent, holds a stance, answered, and has a letter still to come."""
    campaign = make_campaign(session)
    ask = campaign_service.create_ask(session, campaign_id=campaign.id, ask_in=AskCreate(title="Ban the visit"),
                                      actor="tests")
    member = make_member(session, "Sarah Champion", family_name="Champion", prefix="", suffix="MP")
    bystander = make_member(session, "Tim Loughton", family_name="Loughton", party="Conservative")
    contacts_service.add_tag(session, person_id=member.id, tag="APPG")
    contacts_service.edit_person(session, person_id=member.id, actor=staff, person_in=contacts_service.PersonUpdate(
        notes="Met at the party conference", phones=[{"label": "Office", "value": "020 7219 3000"}]))
    sent = open_for_signatures(session, make_letter(session, campaign), staff)
    letters_service.invite(session, letter_id=sent.id, actor=staff,
                           invitation_in=InvitationCreate(person_ids=[member.id, bystander.id], send_email=False))
    for person, printed in ((member, "Sarah Champion MP"), (bystander, "Tim Loughton MP")):
        letters_service.record_signature(session, letter_id=sent.id, person_id=person.id, printed_name=printed,
                                         actor=staff)
    later = open_for_signatures(session, make_letter(session, campaign), staff)
    letters_service.record_signature(session, letter_id=later.id, person_id=member.id, printed_name="Sarah Champion",
                                     actor=staff)
    contacts_service.record_stance(session, person_id=member.id, ask_id=ask.id, position="supportive",
                                   source_kind="note", source_note="Said so in the debate", actor=staff)
    responses.log_response(session, actor=staff, response_in=responses.ResponseCreate(
        person_id=member.id, letter_id=sent.id, kind="reply", channel="email", occurred_date=utcnow().date(),
        summary="Thanked us privately", ask_id=ask.id, position="champion"))
    session.add(FollowUp(source_key=f"privacy-{member.id}", campaign_id=campaign.id, person_id=member.id,
                         letter_id=later.id, kind=FollowUpKind.reminder, sent_at=utcnow() - timedelta(days=20),
                         due_at=utcnow() - timedelta(days=6)))
    delivered = outbox.schedule(session, recipient_address=member.email, recipient_name="Sarah Champion",
                                subject="Stop the visit", text_body="Dear Ms Champion, ...",
                                scheduled_at=utcnow() - timedelta(hours=2), actor="tests")
    delivered.status, delivered.sent_at = OutboxStatus.sent, utcnow()
    waiting = outbox.schedule(session, recipient_address=member.email, subject="Chaser", text_body="Dear Ms Champion",
                              scheduled_at=utcnow() + timedelta(days=1), actor="tests")
    sent.state = LetterState.sent  # as letters.sending leaves it once delivered
    session.commit()
    return member, bystander, sent, later, delivered, waiting


def test_an_admin_exports_everything_held_and_the_export_is_audited(client, session):
    staff = make_user(session, role=Role.staff)
    member, _, sent, later, delivered, waiting = world(session, staff)
    client.headers["Authorization"] = f"Bearer {make_token(session, staff)}"
    assert client.get(f"/api/v1/people/{member.id}/export").status_code == 403
    client.headers["Authorization"] = f"Bearer {make_token(session, make_user(session, role=Role.admin))}"
    response = client.get(f"/api/v1/people/{member.id}/export")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == f'attachment; filename="person-{member.id}.json"'
    data = json.loads(response.content)
    assert data["person"]["name"] == "Sarah Champion" and data["person"]["notes"] == "Met at the party conference"
    assert data["tags"] == ["APPG"] and data["identifiers"][0]["scheme"] == "test"
    assert data["memberships"][0]["organization_name"] == "House of Commons"
    assert [s["position"] for s in data["stances"]] == ["supportive", "champion"]
    assert data["responses"][0]["summary"] == "Thanked us privately"
    assert {s["printed_name"] for s in data["signatures"]} == {"Sarah Champion MP", "Sarah Champion"}
    assert len(data["signing_invitations"]) == 1 and "nonce" not in data["signing_invitations"][0]
    assert data["follow_ups"][0]["letter_id"] == later.id
    assert {m["id"] for m in data["outbox_messages"]} == {delivered.id, waiting.id}
    actions = {e["action"] for e in data["audit_entries"]}
    assert {"person.update", "stance.record", "response.log"} <= actions, actions
    session.expire_all()
    exported = session.execute(sa.select(AuditEntry).where(AuditEntry.action == "person.export")).scalars().one()
    assert exported.entity_id == str(member.id) and exported.after["counts"]["stances"] == 2


def test_an_admin_erases_a_person_what_goes_and_what_stays(client, session):
    staff = make_user(session, role=Role.staff)
    member, bystander, sent, later, delivered, waiting = world(session, staff)
    person_id = member.id
    login(client, make_user(session, role=Role.admin))
    person_page = client.get(f"/people/{person_id}").text
    assert f'href="/api/v1/people/{person_id}/export"' in person_page and "Erase this person" in person_page
    assert client.get(f"/api/v1/people/{person_id}/export").status_code == 200  # the signed-in admin's download
    page = client.get(f"/people/{person_id}/erase")
    assert page.status_code == 200 and "What stays" in page.text
    erase_page = f"/people/{person_id}/erase"
    unconfirmed = client.post(erase_page, data={"csrf_token": page_csrf(client, erase_page)})
    assert unconfirmed.status_code == 422 and 'type the word "erase"' in unconfirmed.text.replace("&#34;", '"')
    session.expire_all()
    assert session.get(Person, person_id).name == "Sarah Champion"

    done = client.post(erase_page, data={"csrf_token": page_csrf(client, erase_page), "confirm": "erase"})
    assert done.status_code == 303 and done.headers["location"] == f"/people/{person_id}"
    session.expire_all()
    person = session.get(Person, person_id)
    assert person.name == f"Erased person {person_id}"
    assert (person.email, person.emails, person.phones, person.notes, person.honorific_suffix, person.family_name) == (
        "", [], [], "", "", "")

    def count(model, *where):
        return session.execute(sa.select(sa.func.count()).select_from(model).where(*where)).scalar_one()

    for model in (Stance, Response, SigningInvitation, FollowUp, Identifier, PersonTag, Membership):
        assert count(model, model.person_id == person_id) == 0, model.__name__
    assert count(Event, Event.title.contains("Sarah Champion")) == 0
    # The letter already sent keeps her printed name; the letter not yet sent loses her signature.
    kept = session.execute(sa.select(Signature).where(Signature.person_id == person_id)).scalars().all()
    assert [(s.letter_id, s.printed_name) for s in kept] == [(sent.id, "Sarah Champion MP")]
    assert session.get(Letter, later.id).state == LetterState.open_for_signatures
    # Messages to her address keep no address or text; the one still waiting will not go.
    for message_id, status in ((delivered.id, OutboxStatus.sent), (waiting.id, OutboxStatus.cancelled)):
        message = session.get(OutboxMessage, message_id)
        assert message.status == status and "champion" not in message.recipient_address.lower()
        assert message.text_body == "" and message.recipient_name == f"Erased person {person_id}"
    # Others are untouched.
    assert count(Signature, Signature.person_id == bystander.id) == 1
    assert count(SigningInvitation, SigningInvitation.person_id == bystander.id) == 1
    assert session.get(Person, bystander.id).email == "loughton@example.org"
    # The audit log says who erased her, and earlier snapshots no longer hold her details.
    entries = session.execute(sa.select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
    erase = [e for e in entries if e.action == "person.erase"]
    assert len(erase) == 1 and erase[0].entity_id == str(person_id) and erase[0].after["erased"]["stances"] == 2
    assert [e.action for e in entries if e.action == "person.export"] == ["person.export"]
    text = json.dumps([[e.before, e.after] for e in entries], default=str)
    for secret in ("Sarah Champion", "champion@example.org", "Met at the party conference", "020 7219 3000",
                   "Thanked us privately"):
        assert secret not in text, secret
    assert "Tim Loughton MP" in text or "loughton@example.org" in text  # others' entries keep their details
    page = client.get(f"/people/{person_id}").text
    assert f"Erased person {person_id}" in page and "Met at the party conference" not in page
    assert page.count("Sarah Champion") == 1 and "as “Sarah Champion MP”" in page  # the sent letter's signature


def test_the_audited_export_opens_a_writing_transaction_though_it_is_a_get(app, monkeypatch):
    """On SQLite a read transaction that then writes can fail at once when another writer got in first."""
    from fastapi.testclient import TestClient

    from campaign import deps

    opened: list[bool] = []
    real = deps.new_session
    monkeypatch.setattr(deps, "new_session", lambda *a, **kw: opened.append(kw["writes"]) or real(*a, **kw))
    app.dependency_overrides.clear()  # the real request session, not the test's
    with TestClient(app) as plain:
        plain.get("/api/v1/people/1/export")
        plain.get("/api/v1/people/1")
    assert opened == [True, False]
