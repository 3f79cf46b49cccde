from __future__ import annotations

from campaign.accounts.models import Role
from tests.factories import login, make_token, make_user


def test_api_errors_are_problem_json_with_what_and_where(client, session):
    admin = make_user(session, role=Role.admin)
    headers = {"Authorization": f"Bearer {make_token(session, admin)}"}
    response = client.post("/api/v1/users", json={"email": "x@example.org", "role": "emperor", "password": "short"},
                           headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 422 and body["instance"] == "/api/v1/users"
    locations = {error["loc"] for error in body["errors"]}
    assert {"role", "password"} <= locations


def test_domain_conflict_is_409_problem(client, session):
    admin = make_user(session, role=Role.admin, email="taken@example.org")
    headers = {"Authorization": f"Bearer {make_token(session, admin)}"}
    response = client.post("/api/v1/users", json={"email": "taken@example.org", "role": "staff",
                                                  "password": "long enough password"}, headers=headers)
    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]


def test_unknown_api_path_is_a_problem_and_unknown_page_is_a_friendly_page(client, session):
    api = client.get("/api/v1/nothing-here")
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"
    login(client, make_user(session))
    page = client.get("/nothing-here")
    assert page.status_code == 404
    assert "text/html" in page.headers["content-type"]
    assert "Back to the start page" in page.text


def test_pages_carry_security_headers(client):
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_openapi_is_served_under_the_api_prefix(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/me" in spec["paths"]


def test_htmx_is_served_from_our_own_static_files(client):
    response = client.get("/static/htmx.min.js")
    assert response.status_code == 200 and "htmx" in response.text[:2000]
    assert 'src="/static/htmx.min.js"' in client.get("/login").text


def test_navigation_follows_the_role(client, session):
    login(client, make_user(session, role=Role.volunteer))
    page = client.get("/account").text
    assert 'href="/admin/users"' not in page and 'href="/account"' in page
    client.cookies.clear()
    login(client, make_user(session, role=Role.admin))
    assert 'href="/admin/users"' in client.get("/account").text


def test_user_text_is_escaped_in_pages(client, session):
    user = make_user(session, name='<script>alert(1)</script>')
    login(client, user)
    page = client.get("/account").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["broker"] == "ok"


def test_healthz_of_a_signed_in_browser_uses_only_its_request_connection(client, session):
    """Two connections per check (the request's, held after signing in, and one more) let five
    checks at once wait on a pool of five until it timed out and reported "unavailable"."""
    from sqlalchemy import event

    from campaign.db import get_engine

    login(client, make_user(session))
    checkouts = []
    listener = lambda *_args: checkouts.append(1)  # noqa: E731
    event.listen(get_engine(), "checkout", listener)
    try:
        response = client.get("/healthz")
    finally:
        event.remove(get_engine(), "checkout", listener)
    assert response.status_code == 200 and response.json()["database"] == "ok"
    assert checkouts == []  # the tests' request session is the test's own connection
