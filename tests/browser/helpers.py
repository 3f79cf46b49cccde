"""Steps the browser journeys share."""

from __future__ import annotations

from tests import live


def sign_in(page, base_url: str, email: str = live.ADMIN_EMAIL, password: str = live.ADMIN_PASSWORD) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    # Wait for the redirect away from the login page, so the session cookie is set before going on.
    try:
        page.wait_for_url(lambda url: "/login" not in url, timeout=15000)
    except Exception:
        raise AssertionError(f"sign-in as {email} did not succeed: {page.url}\n{page.content()[-3000:]}") from None
