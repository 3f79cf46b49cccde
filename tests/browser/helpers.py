"""Steps the browser journeys share."""

from __future__ import annotations

from tests import live


def sign_in(page, base_url: str, email: str = live.ADMIN_EMAIL, password: str = live.ADMIN_PASSWORD) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
