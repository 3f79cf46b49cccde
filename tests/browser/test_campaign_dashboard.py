"""Staff open the demo campaign's dashboard and add an event to its timeline, in Chromium."""

from __future__ import annotations

import pytest

from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_dashboard_shows_the_demo_and_an_event_is_added(live_cosign, page, screenshot_dir):
    sign_in(page, live_cosign.base_url)
    page.goto(f"{live_cosign.base_url}/campaigns/stop-the-visit")
    assert page.get_by_role("heading", name="Key figures").is_visible()
    assert page.get_by_text("1,335", exact=True).first.is_visible()  # Sky Net returns in 2018, from the dossier
    assert page.locator("svg").count() >= 3  # stance charts and the returns charts, drawn by the server
    page.screenshot(path=str(screenshot_dir / "campaign-dashboard.png"), full_page=True)

    page.get_by_role("link", name="Add an event").click()
    page.get_by_label("Kind").select_option("hearing")
    page.get_by_label("What happened").fill("Foreign Affairs Committee hears victims of transnational repression")
    page.get_by_label("When").fill("2026-02-31")
    page.get_by_role("button", name="Add the event").click()
    # The impossible date is refused next to the field, and what was typed is kept.
    assert "February 2026 has 28 days" in page.content()
    assert page.get_by_label("What happened").input_value().startswith("Foreign Affairs Committee")
    page.get_by_label("When").fill("2026-02-11")
    page.get_by_role("button", name="Add the event").click()
    page.wait_for_load_state()
    assert page.get_by_text("Foreign Affairs Committee hears victims of transnational repression").first.is_visible()
    page.screenshot(path=str(screenshot_dir / "campaign-timeline.png"), full_page=True)
