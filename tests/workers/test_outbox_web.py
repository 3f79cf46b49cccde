"""The outbox page and API, as staff and others use them."""

from __future__ import annotations

import base64
from datetime import timedelta

from campaign.accounts.models import Role
from campaign.db import utcnow
from workers import outbox
from workers.models import OutboxStatus
from tests.factories import login, make_token, make_user, page_csrf
from tests.workers.factories import make_campaign, make_message


def test_staff_see_scheduled_sent_and_failed_with_the_failure_reason(client, session):
    failed = make_message(session, number=1, subject="Letter that bounced")
    session.execute(outbox.sa.update(outbox.OutboxMessage).where(outbox.OutboxMessage.id == failed.id).values(
        status=OutboxStatus.failed, last_error="550 5.1.1 No such mailbox <script>"))
    make_message(session, number=2, subject="Letter still to go")
    session.commit()
    login(client, make_user(session, role=Role.staff))
    page = client.get("/outbox?status=failed")
    assert page.status_code == 200
    assert "Letter that bounced" in page.text and "Letter still to go" not in page.text
    assert "550 5.1.1 No such mailbox &lt;script&gt;" in page.text  # escaped
    assert f'action="/outbox/{failed.id}/retry"' in page.text
    assert "Letter still to go" in client.get("/outbox?status=scheduled").text


def test_staff_cancel_retry_and_reschedule_from_the_page(client, session):
    campaign = make_campaign(session, timezone="Europe/Paris")
    message = make_message(session, campaign_id=campaign.id, when=utcnow() + timedelta(days=1))
    session.commit()
    login(client, make_user(session, role=Role.staff))
    token = page_csrf(client, "/outbox")
    response = client.post(f"/outbox/{message.id}/reschedule", data={"csrf_token": token,
                                                                      "scheduled_at": "2030-06-01T09:30"})
    assert response.status_code == 303
    moved = outbox.get_message(session, message_id=message.id)
    assert moved.scheduled_at.isoformat() == "2030-06-01T07:30:00+00:00"  # 09:30 in Paris, summer time
    bad = client.post(f"/outbox/{message.id}/reschedule", data={"csrf_token": token, "scheduled_at": "soon"})
    assert bad.status_code == 422 and 'value="soon"' in bad.text and "enter a date and time" in bad.text
    assert client.post(f"/outbox/{message.id}/cancel", data={"csrf_token": token}).status_code == 303
    assert outbox.get_message(session, message_id=message.id).status == OutboxStatus.cancelled
    again = client.post(f"/outbox/{message.id}/cancel", data={"csrf_token": token})
    assert again.status_code == 409 and "can no longer be cancelled" in again.text


def test_staff_pause_and_resume_a_campaign_from_the_page(client, session):
    campaign = make_campaign(session)
    message = make_message(session, campaign_id=campaign.id)
    session.commit()
    login(client, make_user(session, role=Role.staff))
    token = page_csrf(client, "/outbox")
    assert client.post(f"/outbox/campaigns/{campaign.id}/pause", data={"csrf_token": token}).status_code == 303
    assert outbox.get_message(session, message_id=message.id).paused
    assert "Resume sending" in client.get("/outbox").text
    assert client.post(f"/outbox/campaigns/{campaign.id}/resume", data={"csrf_token": token}).status_code == 303
    assert not outbox.get_message(session, message_id=message.id).paused


def test_volunteers_and_coordinators_cannot_change_sends(client, session):
    message = make_message(session)
    session.commit()
    login(client, make_user(session, role=Role.volunteer))
    token = page_csrf(client, "/account")
    assert client.get("/outbox").status_code == 403
    assert client.post(f"/outbox/{message.id}/cancel", data={"csrf_token": token}).status_code == 403
    assert outbox.get_message(session, message_id=message.id).status == OutboxStatus.scheduled


def test_api_schedules_in_the_campaign_zone_and_lists_by_status(client, session):
    campaign = make_campaign(session, timezone="America/New_York")
    staff = make_user(session, role=Role.staff)
    headers = {"Authorization": f"Bearer {make_token(session, staff)}"}
    pdf = base64.b64encode(b"%PDF-1.4 letter").decode()
    response = client.post("/api/v1/outbox", headers=headers, json={
        "recipient_address": "pm@parliament.example", "recipient_name": "Prime Minister", "subject": "Stop the visit",
        "text_body": "Dear Prime Minister", "kind": "letter", "campaign_id": campaign.id,
        "scheduled_at": "2030-01-15T09:00:00",
        "attachments": [{"filename": "letter.pdf", "content_type": "application/pdf", "content_base64": pdf}]})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["scheduled_at"].startswith("2030-01-15T14:00:00")  # 09:00 in New York
    assert created["status"] == "scheduled" and created["message_id"].startswith(f"<cosign.{created['id']}.")
    listed = client.get("/api/v1/outbox?status=scheduled", headers=headers).json()
    assert created["id"] in [m["id"] for m in listed]
    detail = client.get(f"/api/v1/outbox/{created['id']}", headers=headers).json()
    assert detail["delivery_attempts"] == [] and detail["text_body"] == "Dear Prime Minister"
    cancelled = client.post(f"/api/v1/outbox/{created['id']}/cancel", headers=headers)
    assert cancelled.json()["status"] == "cancelled"
    retry = client.post(f"/api/v1/outbox/{created['id']}/retry", headers=headers)
    assert retry.status_code == 409 and retry.headers["content-type"] == "application/problem+json"


def test_api_refuses_bad_input_with_problem_json(client, session):
    staff = make_user(session, role=Role.staff)
    headers = {"Authorization": f"Bearer {make_token(session, staff)}"}
    response = client.post("/api/v1/outbox", headers=headers, json={
        "recipient_address": "not-an-address", "subject": "Hi", "text_body": "x",
        "scheduled_at": "2030-01-15T09:00:00+00:00"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["loc"] for e in response.json()["errors"]] == ["recipient_address"]
    volunteer = make_user(session, role=Role.volunteer)
    refused = client.post("/api/v1/outbox", headers={"Authorization": f"Bearer {make_token(session, volunteer)}"},
                          json={"recipient_address": "a@b.example", "subject": "Hi", "text_body": "x",
                                "scheduled_at": "2030-01-15T09:00:00+00:00"})
    assert refused.status_code == 403
