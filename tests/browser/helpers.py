"""Steps the browser journeys share."""

from __future__ import annotations

import email
import re
import time
from email import policy
from pathlib import Path

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


def signed_in_page(browser, base_url: str, email: str, password: str, *, width: int = 1280, height: int = 900):
    """A fresh browser (its own cookies) signed in as one user; a 390 px width is a phone."""
    page = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB",
                               timezone_id="Europe/London").new_page()
    sign_in(page, base_url, email, password)
    return page


def _delivered(instance) -> list:
    """Every message the worker has delivered: from the SMTP sink when the instance has one, else
    from the ``.eml`` files of the file mail backend."""
    sink = getattr(instance, "sink", None)
    if sink is not None:
        return [item.parsed() for item in list(sink.received)]
    outbox = Path(instance.env["VAR_DIR"]) / "outbox"
    return [email.message_from_bytes(path.read_bytes(), policy=policy.default) for path in sorted(outbox.glob("*.eml"))]


def mailed(instance, address: str, *, subject: str = "", timeout: float = 60):
    """The message the worker delivered to ``address`` (with ``subject`` in its subject), parsed."""
    deadline = time.monotonic() + timeout
    while True:
        for message in _delivered(instance):
            if address.lower() in str(message["To"]).lower() and subject in str(message["Subject"]):
                return message
        if time.monotonic() > deadline:
            seen = [f"{m['To']}: {m['Subject']}" for m in _delivered(instance)]
            raise AssertionError(f"no message to {address} with {subject!r} in its subject was delivered; "
                                 f"delivered: {seen}")
        time.sleep(0.3)


def signing_link(message) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https?://\S+/sign/\S+", text).group(0)
