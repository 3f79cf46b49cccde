"""Plain factory functions for test data, and helpers that act as a browser would."""

from __future__ import annotations

import re
import secrets

from sqlmodel import Session

from campaign.accounts import service as accounts_service
from campaign.accounts.models import Role, User

PASSWORD = "correct horse battery"


def make_user(session: Session, *, role: Role | str = Role.staff, email: str | None = None,
              password: str = PASSWORD, name: str = "") -> User:
    email = email or f"{Role(role).value}-{secrets.token_hex(3)}@example.org"
    user = accounts_service.create_user(session, email=email, role=role, password=password, name=name,
                                        actor="tests")
    # Committed (to a savepoint of the test's transaction) so a request that fails and
    # rolls back does not take the test's own data with it.
    session.commit()
    return user


def make_token(session: Session, user: User) -> str:
    secret = accounts_service.create_api_token(session, user=user, name="tests").secret
    session.commit()
    return secret


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token in a form"
    return match.group(1)


def login(client, user: User, password: str = PASSWORD):
    """Sign in through the login form, as a browser does; returns the redirect response."""
    page = client.get("/login")
    response = client.post("/login", data={"email": user.email, "password": password,
                                           "csrf_token": csrf_from(page.text), "next": "/"})
    assert response.status_code == 303, response.text
    return response


def page_csrf(client, path: str = "/") -> str:
    """The CSRF token of a signed-in browser, read from a page it can open."""
    return csrf_from(client.get(path).text)
