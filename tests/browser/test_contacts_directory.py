"""The people directory in a real Chromium: import the UK Commons, filter, open a person."""

from __future__ import annotations

import httpx
import pytest

from tests import live
from tests.contacts.conftest import UK_POPOLO

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_coordinator_filters_the_directory_and_opens_a_person(live_cosign, page, screenshot_dir):
    token = live_cosign.cli("tokens", "create", live.ADMIN_EMAIL, "--name", "contacts browser test").stdout.split()[-1]
    with UK_POPOLO.open("rb") as handle:
        imported = httpx.post(f"{live_cosign.base_url}/api/v1/imports", headers={"Authorization": f"Bearer {token}"},
                              files={"file": ("uk.json", handle, "application/json")}, data={"country": "GB"},
                              timeout=120)
    assert imported.status_code == 200, imported.text
    report = imported.json()
    # The demo campaign may already hold a few MPs: they are matched by name in the House of Commons.
    assert report["created"] + report["updated"] + report["unchanged"] == 650

    page.goto(f"{live_cosign.base_url}/login?next=/people")
    page.get_by_label("E-mail address").fill(live.ADMIN_EMAIL)
    page.get_by_label("Password").fill(live.ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_cosign.base_url}/people")

    page.get_by_label("Party or group").select_option(label="Sinn Féin (GB)")
    page.get_by_label("Current members only").check()
    page.get_by_role("button", name="Filter", exact=True).click()
    assert page.get_by_role("heading", name="7 people").is_visible()
    page.get_by_label("Has e-mail").check()  # the filters are kept after filtering
    page.get_by_role("button", name="Filter", exact=True).click()
    assert page.get_by_role("heading", name="6 people").is_visible()  # one MP's address is not published
    page.screenshot(path=str(screenshot_dir / "contacts-directory.png"), full_page=True)

    page.get_by_label("Has e-mail").uncheck()
    page.get_by_label("Name", exact=True).fill("orfhlaith")  # no accent typed
    page.get_by_role("button", name="Filter", exact=True).click()
    assert page.get_by_role("heading", name="1 person").is_visible()
    page.get_by_role("link", name="Órfhlaith Begley").click()
    assert page.get_by_role("heading", name="Órfhlaith Begley").is_visible()
    assert page.get_by_text("Sinn Féin").first.is_visible()
    page.screenshot(path=str(screenshot_dir / "contacts-person.png"), full_page=True)
