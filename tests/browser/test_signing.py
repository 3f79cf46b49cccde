"""A parliamentarian signs from the link in their e-mail; the coordinator's counts change. In Chromium."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests import live
from tests.browser.helpers import mailed, sign_in, signing_link

pytestmark = [pytest.mark.browser, pytest.mark.slow]

UK_COMMONS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "uk-commons" / "uk-commons-current-popolo.json"


def _api(instance) -> httpx.Client:
    token = instance.cli("tokens", "create", live.ADMIN_EMAIL).stdout.strip().splitlines()[-1]
    return httpx.Client(base_url=instance.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def _mailed_link(instance, address: str) -> str:
    """The signing link in the invitation the worker delivered to ``address``."""
    return signing_link(mailed(instance, address))


def test_a_signer_signs_from_the_mailed_link_and_the_coordinator_sees_it(live_cosign, page, browser,
                                                                         screenshot_dir):
    api = _api(live_cosign)
    with UK_COMMONS.open("rb") as upload:
        imported = api.post("/api/v1/imports", files={"file": ("uk-commons.json", upload, "application/json")})
    assert imported.status_code == 200, imported.text
    people = api.get("/api/v1/people", params={"has_email": "1", "q": "champion"}).json()["items"]
    people += api.get("/api/v1/people", params={"has_email": "1", "q": "carmichael"}).json()["items"]
    assert len(people) == 2, people

    demo = next(letter for letter in api.get("/api/v1/letters").json() if "Prime Minister" in letter["title"])
    letter = api.post("/api/v1/letters", json={
        "campaign_id": demo["campaign_id"], "title": "Second letter on the visit", "template_id": demo["template_id"],
        "addressees": demo["addressees"], "sender_name": "Cosign test"}).json()
    for state in ("in_review", "approved", "open_for_signatures"):
        moved = api.post(f"/api/v1/letters/{letter['id']}/transitions", json={"to": state})
        assert moved.status_code == 200, moved.text
    invited = api.post(f"/api/v1/letters/{letter['id']}/invitations",
                       json={"person_ids": [person["id"] for person in people]})
    assert invited.status_code == 201, invited.text

    sign_in(page, live_cosign.base_url)
    page.goto(f"{live_cosign.base_url}/letters/{letter['id']}/signatures")
    assert page.locator("#count-signed").inner_text() == "0"
    assert page.locator("#count-no-answer").inner_text() == "2"

    champion = next(person for person in people if "Champion" in person["name"])
    link = _mailed_link(live_cosign, champion["email"])
    signer = browser.new_context(viewport={"width": 390, "height": 844}).new_page()  # on a phone
    signer.goto(link)
    assert signer.get_by_role("heading", name="Second letter on the visit").is_visible()
    signer.get_by_label("Your title or role, printed under your name (optional)").fill(
        "Chair, International Development Committee")
    signer.get_by_role("button", name="Sign the letter").click()
    signer.wait_for_load_state()
    signer.screenshot(path=str(screenshot_dir / "signing-page-signed.png"), full_page=True)
    # The same link again does not sign twice.
    signer.goto(link)
    assert signer.get_by_role("button", name="Withdraw my signature").is_visible()
    forged = signer.goto(link[:-4] + ("AAAA" if not link.endswith("AAAA") else "BBBB"))
    assert forged.status in (403, 404)

    page.reload()
    assert page.locator("#count-signed").inner_text() == "1"
    assert page.locator("#count-no-answer").inner_text() == "1"
    assert "Labour: 1" in page.content()
    page.screenshot(path=str(screenshot_dir / "coordinator-signatures.png"), full_page=True)
