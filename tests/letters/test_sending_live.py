"""A scheduled letter goes out through `campaign serve`'s own worker and beat, and the letter says so."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pypdf import PdfReader

from tests import live
from tests.browser.helpers import mailed

pytestmark = pytest.mark.slow


def _api(instance) -> httpx.Client:
    token = instance.cli("tokens", "create", live.ADMIN_EMAIL).stdout.strip().splitlines()[-1]
    return httpx.Client(base_url=instance.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def test_a_scheduled_letter_is_delivered_by_the_worker_and_marked_sent(live_cosign):
    api = _api(live_cosign)
    demo = next(letter for letter in api.get("/api/v1/letters").json() if "Prime Minister" in letter["title"])
    address = f"private-office-{time.monotonic_ns()}@example.gov.uk"
    created = api.post("/api/v1/letters", json={
        "campaign_id": demo["campaign_id"], "title": "Letter sent by the worker", "template_id": demo["template_id"],
        "addressees": [{**demo["addressees"][0], "email": address}], "sender_name": "Cosign test"})
    assert created.status_code == 201, created.text
    letter_id = created.json()["id"]
    for state in ("in_review", "approved"):
        assert api.post(f"/api/v1/letters/{letter_id}/transitions", json={"to": state}).status_code == 200
    when = datetime.now(UTC) + timedelta(seconds=2)
    scheduled = api.post(f"/api/v1/letters/{letter_id}/transitions",
                         json={"to": "scheduled", "scheduled_at": when.isoformat()})
    assert scheduled.status_code == 200 and scheduled.json()["state"] == "scheduled", scheduled.text

    deadline = time.monotonic() + 60
    while api.get(f"/api/v1/letters/{letter_id}").json()["state"] != "sent":
        assert time.monotonic() < deadline, f"the letter was not marked sent:\n{live_cosign.log()[-3000:]}"
        time.sleep(0.5)

    mail = mailed(live_cosign, address, timeout=5)  # the SMTP server accepted it before the letter turned sent
    assert mail["Subject"] and len(live_cosign.sink.by_message_id(mail["Message-ID"])) == 1
    assert "Dear Prime Minister" in mail.get_body(preferencelist=("plain",)).get_content()
    [pdf] = [part for part in mail.iter_attachments() if part.get_content_type() == "application/pdf"]
    assert "Dear Prime Minister" in PdfReader(io.BytesIO(pdf.get_content())).pages[0].extract_text()
    sent_at = datetime.fromisoformat(api.get(f"/api/v1/letters/{letter_id}").json()["sent_at"])
    assert sent_at >= when - timedelta(seconds=1)
    events = api.get(f"/api/v1/campaigns/{demo['campaign_id']}/events").json()
    assert any(event["title"] == "Sent: Letter sent by the worker" for event in events)
