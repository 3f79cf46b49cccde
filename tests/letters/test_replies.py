"""A reply that comes back by e-mail is matched to what Cosign sent and pre-fills the response."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest

from campaign.accounts.models import Role
from campaign.errors import InvalidInput
from letters import replies, sending, service
from letters.models import LetterState
from letters.schemas import Addressee, LetterTransition
from tests.factories import login, make_user, page_csrf
from tests.letters.factories import advance, make_campaign, make_letter, make_member


def _sent_letter(session):
    staff = make_user(session, role=Role.staff)
    member = make_member(session, "Alicia Kearns", family_name="Kearns", party="Conservative", prefix="Ms")
    letter = make_letter(session, make_campaign(session), actor=staff)
    letter.addressees = [Addressee(person_id=member.id).model_dump(exclude_defaults=True)]
    advance(session, letter, LetterState.in_review, LetterState.approved, actor=staff)
    service.transition(session, letter_id=letter.id, actor=staff, transition_in=LetterTransition(
        to=LetterState.scheduled, scheduled_at=datetime.now(UTC) + timedelta(minutes=5)))
    [message] = sending.letter_messages(session, letter_id=letter.id)
    return letter, member, message


def _reply(*, to_id: str = "", sender: str = "kearns@example.org", references: str = "") -> bytes:
    reply = EmailMessage()
    reply["From"] = f"Alicia Kearns <{sender}>"
    reply["To"] = "campaign@example.org"
    reply["Subject"] = "Re: Visit of Liu Jianchao"
    reply["Date"] = "Tue, 17 Nov 2026 18:05:00 +0000"
    if to_id:
        reply["In-Reply-To"] = to_id
    if references:
        reply["References"] = references
    reply.set_content("Thank you. I will raise this with the Foreign Secretary this week.\n\n"
                      "On Mon, 16 Nov 2026 at 09:00, Stop the visit <campaign@example.org> wrote:\n"
                      "> Dear Ms Kearns,\n> We write about the visit.\n")
    return reply.as_bytes()


def test_a_reply_is_matched_by_in_reply_to_and_fills_the_response(session):
    letter, member, message = _sent_letter(session)
    read = replies.read_reply(session, raw=_reply(to_id=message.message_id))
    assert read.matched.id == message.id
    assert read.form == {"kind": "reply", "channel": "email", "occurred_date": "2026-11-17",
                         "summary": "Thank you. I will raise this with the Foreign Secretary this week.",
                         "person_id": str(member.id), "letter_id": str(letter.id),
                         "campaign_id": str(letter.campaign_id)}
    assert read.notes[0].startswith("This answers our message “Visit of Liu Jianchao” to kearns@example.org")


def test_references_find_the_original_when_in_reply_to_names_someone_elses_message(session):
    letter, member, message = _sent_letter(session)
    read = replies.read_reply(session, raw=_reply(to_id="<office-forward@parliament.uk>",
                                                  references=f"{message.message_id} <office-forward@parliament.uk>"))
    assert read.matched.id == message.id and read.form["letter_id"] == str(letter.id)


def test_an_unmatched_reply_still_finds_the_person_by_address_and_says_what_is_missing(session):
    _, member, _ = _sent_letter(session)
    read = replies.read_reply(session, raw=_reply(to_id="<unknown@example.org>"))
    assert read.matched is None and read.form["person_id"] == str(member.id) and "letter_id" not in read.form
    assert "choose the letter by hand" in read.notes[0]
    stranger = replies.read_reply(session, raw=_reply(sender="someone@elsewhere.org"))
    assert "person_id" not in stranger.form and "someone@elsewhere.org" in stranger.notes[-1]


@pytest.mark.parametrize("raw,reason", [
    (b"", "paste the whole message"),
    (b"Thank you for your letter, I agree.", "this is not an e-mail message"),
    (b"From: a@example.org\nSubject: x\n\n" + b"x" * (replies.MAX_EML_BYTES + 1), "larger than 5 MB"),
])
def test_what_is_not_a_readable_reply_is_refused_with_the_reason(session, raw, reason):
    with pytest.raises(InvalidInput) as refused:
        replies.read_reply(session, raw=raw)
    assert refused.value.errors[0].loc == "eml" and reason in refused.value.errors[0].msg


def test_a_volunteer_uploads_a_reply_and_sees_the_form_filled_in(client, session):
    letter, member, message = _sent_letter(session)
    volunteer = make_user(session, role=Role.volunteer)
    session.commit()
    login(client, volunteer)
    csrf = page_csrf(client, "/responses/new")
    page = client.post("/responses/from-email", data={"csrf_token": csrf},
                       files={"eml": ("reply.eml", _reply(to_id=message.message_id), "message/rfc822")})
    assert page.status_code == 200, page.text
    assert f'value="{member.id}"' in page.text and "2026-11-17" in page.text
    assert "I will raise this with the Foreign Secretary" in page.text and "&gt; Dear Ms Kearns" not in page.text
    assert f'<option value="{letter.id}" selected>' in page.text
    pasted = client.post("/responses/from-email", data={"csrf_token": csrf, "raw": "not an e-mail"})
    assert pasted.status_code == 422 and "this is not an e-mail message" in pasted.text
    assert "not an e-mail</textarea>" in pasted.text
