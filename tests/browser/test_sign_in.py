"""Signing in and out in a real Chromium against `campaign serve`."""

from __future__ import annotations

import pytest

from tests import live

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_admin_signs_in_sees_role_navigation_and_signs_out(live_cosign, page, screenshot_dir):
    page.goto(f"{live_cosign.base_url}/admin/users")
    assert page.url.startswith(f"{live_cosign.base_url}/login?next=")
    page.get_by_label("E-mail address").fill(live.ADMIN_EMAIL)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text().startswith("The e-mail address or password is not right")
    assert page.get_by_label("E-mail address").input_value() == live.ADMIN_EMAIL  # kept after the error
    page.screenshot(path=str(screenshot_dir / "sign-in-error.png"))

    page.get_by_label("Password").fill(live.ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_cosign.base_url}/admin/users")
    assert page.get_by_role("heading", name="Users").is_visible()
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Audit log").is_visible()
    page.screenshot(path=str(screenshot_dir / "users.png"), full_page=True)

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_cosign.base_url}/login")
    assert "You have signed out." in page.content()
    page.goto(f"{live_cosign.base_url}/admin/users")
    assert "/login?next=" in page.url


def test_admin_adds_a_volunteer_who_sees_only_their_navigation(live_cosign, page, browser):
    page.goto(f"{live_cosign.base_url}/login")
    page.get_by_label("E-mail address").fill(live.ADMIN_EMAIL)
    page.get_by_label("Password").fill(live.ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_cosign.base_url}/admin/users")
    page.get_by_label("E-mail address").fill("vol@example.org")
    page.get_by_label("Name").fill("Val Unteer")
    page.get_by_label("Password (at least 10 characters)").fill("volunteer password")
    page.get_by_label("Role").select_option("volunteer")
    page.get_by_role("button", name="Add user").click()
    assert page.get_by_role("status").inner_text() == "Created vol@example.org as volunteer."

    phone = browser.new_context(viewport={"width": 390, "height": 844})
    volunteer = phone.new_page()
    volunteer.goto(f"{live_cosign.base_url}/login")
    volunteer.get_by_label("E-mail address").fill("vol@example.org")
    volunteer.get_by_label("Password").fill("volunteer password")
    volunteer.get_by_role("button", name="Sign in").click()
    volunteer.wait_for_url(f"{live_cosign.base_url}/")
    nav = volunteer.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Users").count() == 0
    response = volunteer.goto(f"{live_cosign.base_url}/admin/users")
    assert response.status == 403
    phone.close()
