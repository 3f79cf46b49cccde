"""The person page shows what the campaign did with one legislator; editors change their details."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from campaign.accounts.models import Role
from campaign.audit import AuditEntry
from campaign.db import utcnow
from contacts.models import Person, PersonTag
from letters import responses
from letters import service as letters_service
from letters.models import FollowUp, FollowUpKind
from letters.schemas import Addressee, InvitationCreate, LetterCreate
from tests.factories import login, make_user, page_csrf
from tests.letters.factories import make_campaign, make_letter, make_member, open_for_signatures
from workers import outbox


def history_of(session, *, staff):
    """A member with a letter addressed and e-mailed to her, an invitation she signed, a response, a follow-up."""
    campaign = make_campaign(session)
    member = make_member(session, "Sarah Champion", family_name="Champion")
    other = make_member(session, "Tim Loughton", family_name="Loughton", party="Conservative")
    addressed = letters_service.create_letter(session, actor=staff, letter_in=LetterCreate(
        campaign_id=campaign.id, title="Ask the Foreign Secretary", body="{{ recipient.salutation }},\n\nPlease act.",
        addressees=[Addressee(person_id=member.id)]))
    message = outbox.schedule(session, recipient_address=member.email, subject="Ask the Foreign Secretary",
                              text_body="Dear Ms Champion", scheduled_at=utcnow() - timedelta(hours=1), actor="tests")
    message.letter_id = addressed.id
    letter = open_for_signatures(session, make_letter(session, campaign), staff)
    letters_service.invite(session, letter_id=letter.id, actor=staff,
                           invitation_in=InvitationCreate(person_ids=[member.id, other.id], send_email=False))
    letters_service.record_signature(session, letter_id=letter.id, person_id=member.id,
                                     printed_name="Sarah Champion MP", actor=staff)
    responses.log_response(session, actor=staff, response_in=responses.ResponseCreate(
        person_id=member.id, letter_id=letter.id, kind="reply", channel="email", occurred_date=utcnow().date(),
        summary="Will raise it at questions"))
    session.add(FollowUp(source_key=f"test-{member.id}", campaign_id=campaign.id, person_id=member.id,
                         letter_id=addressed.id, kind=FollowUpKind.reminder, sent_at=utcnow() - timedelta(days=20),
                         due_at=utcnow() - timedelta(days=6)))
    session.commit()
    return member, other, addressed, letter


def test_the_person_page_shows_letters_signing_responses_and_follow_ups(client, session):
    coordinator = make_user(session, role=Role.coordinator)
    member, other, addressed, letter = history_of(session, staff=make_user(session, role=Role.staff))
    login(client, coordinator)
    page = client.get(f"/people/{member.id}").text
    letters_part = page[page.index('id="letters"'):page.index('id="signing"')]
    assert "Ask the Foreign Secretary" in letters_part and "addressee" in letters_part
    assert f"{member.email}: scheduled" in letters_part
    signing = page[page.index('id="signing"'):page.index('id="responses"')]
    assert letter.title in signing and "signed" in signing and "Sarah Champion MP" in signing
    answered = page[page.index('id="responses"'):page.index('id="follow-ups"')]
    assert "Will raise it at questions" in answered and "Reply" in answered
    assert "Reminder, due" in page[page.index('id="follow-ups"'):]
    # Someone invited who has not answered, and nothing else: the empty states say what to do next.
    page = client.get(f"/people/{other.id}").text
    assert "no answer yet" in page
    assert "No letter has been addressed or e-mailed to Tim Loughton yet" in page
    assert "log the response" in page and "Nothing to chase" in page


def test_an_editor_changes_details_errors_keep_what_was_typed(client, session):
    member = make_member(session, "Sarah Champion", family_name="Champion")
    session.commit()
    volunteer = make_user(session, role=Role.volunteer)
    login(client, volunteer)
    assert client.get(f"/people/{member.id}/edit").status_code == 403
    client.cookies.clear()
    login(client, make_user(session, role=Role.coordinator))
    form = client.get(f"/people/{member.id}/edit").text
    assert 'value="Sarah Champion"' in form and "champion@example.org" in form
    typed = {"csrf_token": page_csrf(client, f"/people/{member.id}/edit"), "name": "Sarah Champion",
             "honorific_suffix": "MP", "emails": "office@example.org\nnot-an-address",
             "phones": "Office: 020 7219 3000", "links": "Site | ftp://example.org", "tags": "APPG, China",
             "notes": "Chairs the committee"}
    refused = client.post(f"/people/{member.id}/edit", data=typed)
    assert refused.status_code == 422
    assert "line 2: &#39;not-an-address&#39; is not an e-mail address" in refused.text
    assert "is not an http(s) address" in refused.text
    assert "Chairs the committee" in refused.text and "Office: 020 7219 3000" in refused.text
    session.expire_all()
    assert session.get(Person, member.id).notes == ""
    without_csrf = client.post(f"/people/{member.id}/edit", data={**typed, "csrf_token": "forged"})
    assert without_csrf.status_code == 403
    saved = client.post(f"/people/{member.id}/edit", data={
        **typed, "emails": "office@example.org\nchampion@example.org", "links": "Site | https://example.org"})
    assert saved.status_code == 303 and saved.headers["location"] == f"/people/{member.id}"
    session.expire_all()
    person = session.get(Person, member.id)
    assert (person.email, person.emails, person.honorific_suffix) == (
        "office@example.org", ["office@example.org", "champion@example.org"], "MP")
    assert person.phones == [{"label": "Office", "value": "020 7219 3000"}]
    assert person.links == [{"note": "Site", "url": "https://example.org"}]
    assert sorted(session.execute(sa.select(PersonTag.tag).where(PersonTag.person_id == member.id)).scalars()) == [
        "APPG", "China"]
    entry = session.execute(sa.select(AuditEntry).where(AuditEntry.action == "person.update",
                                                        AuditEntry.entity_id == str(member.id))).scalars().one()
    assert entry.before["email"] == "champion@example.org" and entry.after["tags"] == ["APPG", "China"]
    assert "Chairs the committee" in client.get(f"/people/{member.id}").text


def test_the_api_patches_a_person_with_field_errors(client, session):
    member = make_member(session, "Sarah Champion", family_name="Champion")
    session.commit()
    from tests.factories import make_token

    client.headers["Authorization"] = f"Bearer {make_token(session, make_user(session, role=Role.staff))}"
    bad = client.patch(f"/api/v1/people/{member.id}", json={"emails": ["nope"], "name": ""})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    ok = client.patch(f"/api/v1/people/{member.id}", json={"honorific_prefix": "Dr", "tags": ["APPG"]})
    assert ok.status_code == 200, ok.text
    assert ok.json()["honorific_prefix"] == "Dr" and ok.json()["tags"] == ["APPG"]
    assert ok.json()["name"] == "Sarah Champion"
