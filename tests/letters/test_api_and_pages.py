from __future__ import annotations

import io
import re
import zipfile

from pypdf import PdfReader

from campaign.accounts.models import Role
from letters import service
from letters.models import LetterState
from letters.schemas import InvitationCreate
from tests.factories import csrf_from, login, make_token, make_user, page_csrf
from tests.letters.factories import advance, make_campaign, make_letter, make_member, open_for_signatures


def _auth(session, role=Role.staff):
    user = make_user(session, role=role)
    return user, {"Authorization": f"Bearer {make_token(session, user)}"}


def test_api_creates_updates_with_a_version_and_refuses_a_stale_save(client, session):
    campaign = make_campaign(session)
    session.commit()
    _, headers = _auth(session)
    created = client.post("/api/v1/letters", headers=headers, json={
        "campaign_id": campaign.id, "title": "To the PM", "subject": "Visit", "body": "{{ recipient.salutation }},",
        "addressees": [{"name": "Rishi Sunak", "office": "Prime Minister"}]})
    assert created.status_code == 201, created.text
    letter_id = created.json()["id"]
    first = client.patch(f"/api/v1/letters/{letter_id}", headers=headers, json={"version": 1, "title": "Mine"})
    assert first.status_code == 200 and first.json()["version"] == 2
    stale = client.patch(f"/api/v1/letters/{letter_id}", headers=headers, json={"version": 1, "title": "Theirs"})
    assert stale.status_code == 409
    assert stale.headers["content-type"].startswith("application/problem+json")
    assert "version 2" in stale.json()["detail"]
    assert "Dear Prime Minister," in client.get(f"/api/v1/letters/{letter_id}/text", headers=headers).text
    assert [v["version"] for v in client.get(f"/api/v1/letters/{letter_id}/versions", headers=headers).json()] == [1, 2]


def test_api_render_error_names_line_and_field(client, session):
    campaign = make_campaign(session)
    letter = make_letter(session, campaign, body="Dear {{ recipient.salutation }},\n\n{{ recipient.constituency }}")
    session.commit()
    _, headers = _auth(session, Role.coordinator)
    response = client.get(f"/api/v1/letters/{letter.id}/pdf", headers=headers)
    assert response.status_code == 422
    assert "line 3" in response.json()["detail"] and "constituency" in response.json()["detail"]


def test_api_exports_pdf_and_docx(client, session):
    letter = make_letter(session, make_campaign(session))
    session.commit()
    _, headers = _auth(session, Role.volunteer)
    pdf = client.get(f"/api/v1/letters/{letter.id}/pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "Dear Prime Minister" in text and "Safeguard Defenders" in text
    docx = client.get(f"/api/v1/letters/{letter.id}/docx", headers=headers)
    with zipfile.ZipFile(io.BytesIO(docx.content)) as archive:
        assert "Involuntary Returns" in archive.read("word/footnotes.xml").decode()
    html = client.get(f"/api/v1/letters/{letter.id}/html", headers=headers).text
    assert 'id="note-1"' in html


def test_a_coordinator_cannot_approve_through_the_api(client, session):
    letter = make_letter(session, make_campaign(session))
    staff = make_user(session, role=Role.staff)
    advance(session, letter, LetterState.in_review, actor=staff)
    session.commit()
    _, headers = _auth(session, Role.coordinator)
    response = client.post(f"/api/v1/letters/{letter.id}/transitions", headers=headers, json={"to": "approved"})
    assert response.status_code == 403


def test_question_check_says_which_rule_is_broken(client, session):
    _, headers = _auth(session, Role.volunteer)
    response = client.post("/api/v1/question-checks", headers=headers, json={
        "chamber": "lords_written", "text": "To ask the Secretary of State for Defence, what steps he is taking."})
    assert response.json()["ok"] is False
    assert response.json()["problems"][0]["rule"] == "lords.addressee"


def test_signer_signs_through_the_page_and_the_coordinator_count_changes(client, session):
    staff = make_user(session, role=Role.staff)
    letter = open_for_signatures(session, make_letter(session, make_campaign(session), actor=staff), staff)
    member = make_member(session, "Sarah Champion", family_name="Champion", prefix="Ms", suffix="MP")
    token = service.invite(session, letter_id=letter.id, actor=staff,
                           invitation_in=InvitationCreate(person_ids=[member.id]))[0].token
    coordinator = make_user(session, role=Role.coordinator)
    session.commit()

    page = client.get(f"/sign/{token}")
    assert page.status_code == 200
    assert "Dear Prime Minister" in page.text and 'value="Sarah Champion MP"' in page.text
    posted = client.post(f"/sign/{token}", data={"csrf_token": csrf_from(page.text), "action": "sign",
                                                 "printed_name": "Sarah Champion MP",
                                                 "printed_title": "Chair, International Development Committee"})
    assert posted.status_code == 303
    again = client.post(f"/sign/{token}", data={"csrf_token": csrf_from(page.text), "action": "sign",
                                                "printed_name": "Sarah Champion MP",
                                                "printed_title": "Chair, International Development Committee"})
    assert again.status_code == 303
    assert "signed" in client.get(f"/sign/{token}").text

    login(client, coordinator)
    signatures = client.get(f"/letters/{letter.id}/signatures")
    assert signatures.status_code == 200
    assert re.search(r'id="count-signed">1<', signatures.text)
    assert "Labour: 1" in signatures.text


def test_forged_link_page_reveals_nothing(client, session):
    response = client.get("/sign/not-a-real-token")
    assert response.status_code == 404
    assert service.LINK_REFUSED.split(".")[0] in response.text


def test_letter_page_shows_preview_downloads_and_state_buttons(client, session):
    staff = make_user(session, role=Role.staff)
    letter = make_letter(session, make_campaign(session), actor=staff)
    session.commit()
    login(client, staff)
    page = client.get(f"/letters/{letter.id}")
    assert page.status_code == 200
    assert "Dear Prime Minister," in page.text and "/api/v1/letters/%d/pdf" % letter.id in page.text
    assert "Send for review" in page.text
    edited = client.post(f"/letters/{letter.id}/edit", data={
        "csrf_token": csrf_from(page.text), "version": "1", "title": "Edited", "subject": letter.subject,
        "body": letter.body + "\n\nPostscript.", "change_note": "added a postscript"})
    assert edited.status_code == 303
    stale = client.post(f"/letters/{letter.id}/edit", data={
        "csrf_token": csrf_from(page.text), "version": "1", "title": "Other", "subject": letter.subject,
        "body": letter.body + "\n\nSomething else.", "change_note": ""})
    assert stale.status_code == 409
    assert "Someone else saved this letter first" in stale.text and "Postscript." in stale.text
    compare = client.get(f"/letters/{letter.id}/compare?a=1&b=2")
    assert compare.status_code == 200 and "Postscript." in compare.text
    moved = client.post(f"/letters/{letter.id}/transition", data={"csrf_token": page_csrf(client, "/letters"),
                                                                   "to": "in_review"})
    assert moved.status_code == 303
    assert service.get_letter(session, letter_id=letter.id).state == LetterState.in_review


def test_letters_list_and_create_from_a_template(client, session):
    staff = make_user(session, role=Role.staff)
    campaign = make_campaign(session)
    session.commit()
    login(client, staff)
    page = client.get("/letters")
    assert page.status_code == 200 and "Letter to a head of government" in page.text
    template = next(t for t in service.list_templates(session) if t.slug == "open-letter")
    created = client.post("/letters", data={"csrf_token": csrf_from(page.text), "title": "Open letter",
                                            "campaign_id": str(campaign.id), "template_id": str(template.id)})
    assert created.status_code == 303
    missing = client.post("/letters", data={"csrf_token": csrf_from(page.text), "title": "",
                                            "campaign_id": str(campaign.id), "template_id": str(template.id)})
    assert missing.status_code == 422


def test_published_open_letter_is_public_once_sent(client, session):
    staff = make_user(session, role=Role.staff)
    letter = make_letter(session, make_campaign(session), actor=staff)
    session.commit()
    assert client.get(f"/open-letters/{letter.id}").status_code == 404
    letter.publish = True
    session.add(letter)
    advance(session, letter, LetterState.in_review, LetterState.approved, actor=staff)
    from datetime import UTC, datetime, timedelta

    from letters.schemas import LetterTransition
    service.transition(session, letter_id=letter.id, actor=staff, transition_in=LetterTransition(
        to=LetterState.scheduled, scheduled_at=datetime.now(UTC) + timedelta(hours=1)))
    advance(session, letter, LetterState.sent, actor=staff)
    session.commit()
    page = client.get(f"/open-letters/{letter.id}")
    assert page.status_code == 200 and "Safeguard Defenders" in page.text


def test_preview_shows_why_a_letter_does_not_render(client, session):
    staff = make_user(session, role=Role.staff)
    letter = make_letter(session, make_campaign(session), actor=staff,
                         body="{{ recipient.salutation }},\n\nAs MP for {{ recipient.constituency }}, ...")
    session.commit()
    login(client, staff)
    page = client.get(f"/letters/{letter.id}")
    assert page.status_code == 200
    assert "This letter does not render for The Rt Hon Rishi Sunak MP" in page.text
    assert "body, line 3: the field &#39;constituency&#39; is missing" in page.text
