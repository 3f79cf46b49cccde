from __future__ import annotations

import pytest
from sqlmodel import select

from campaign import audit
from campaign.accounts import service
from campaign.accounts.models import LoginAttempt, Role, WebSession
from campaign.deps import SESSION_COOKIE
from campaign.errors import Conflict, InvalidInput, NotFound
from tests.factories import PASSWORD, csrf_from, login, make_token, make_user, page_csrf


def test_login_sets_a_hardened_session_cookie_and_shows_the_home_page(client, session):
    user = make_user(session, role=Role.coordinator, name="Cora Ordinator")
    response = login(client, user)
    cookie = response.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # served over plain http in tests
    home = client.get("/")
    assert home.status_code == 200
    assert "Welcome, Cora Ordinator" in home.text
    assert "Signed in as" in home.text  # the flash message survives the redirect


def test_wrong_password_is_refused_with_the_form_kept(client, session):
    user = make_user(session)
    page = client.get("/login")
    response = client.post("/login", data={"email": user.email, "password": "not the password",
                                           "csrf_token": csrf_from(page.text)})
    assert response.status_code == 422
    assert "not right" in response.text
    assert f'value="{user.email}"' in response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert client.get("/").status_code == 303


def test_unknown_account_gets_the_same_answer_as_a_wrong_password(client, session):
    page = client.get("/login")
    unknown = client.post("/login", data={"email": "nobody@example.org", "password": "whatever-it-is",
                                          "csrf_token": csrf_from(page.text)})
    user = make_user(session)
    wrong = client.post("/login", data={"email": user.email, "password": "whatever-it-is",
                                        "csrf_token": csrf_from(page.text)})
    assert unknown.status_code == wrong.status_code == 422
    assert "not right" in unknown.text and "not right" in wrong.text


def test_failed_logins_are_limited_per_account(client, session):
    user = make_user(session)
    token = csrf_from(client.get("/login").text)
    for _ in range(5):
        assert client.post("/login", data={"email": user.email, "password": "bad-password!",
                                           "csrf_token": token}).status_code == 422
    # Even the right password is refused while the account is throttled.
    blocked = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert blocked.status_code == 429
    assert "Too many failed sign-in attempts" in blocked.text
    attempts = session.exec(select(LoginAttempt).where(LoginAttempt.email == user.email)).all()
    assert len(attempts) == 5 and not any(a.succeeded for a in attempts)


def test_failed_logins_are_limited_per_address(client, session):
    token = csrf_from(client.get("/login").text)
    for number in range(20):
        client.post("/login", data={"email": f"guess{number}@example.org", "password": "guess-guess",
                                    "csrf_token": token})
    user = make_user(session)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 429


def test_disabled_user_cannot_sign_in_and_loses_open_sessions(client, session):
    user = make_user(session)
    login(client, user)
    assert client.get("/").status_code == 200
    service.set_active(session, email=user.email, active=False, actor="tests")
    session.commit()
    assert client.get("/").status_code == 303  # the open session ended
    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 422


def test_login_without_csrf_token_is_refused(client, session):
    user = make_user(session)
    client.get("/login")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "did not come from Cosign" in response.text


def test_signed_in_form_without_csrf_token_is_refused_and_changes_nothing(client, session):
    user = make_user(session)
    login(client, user)
    response = client.post("/account/tokens", data={"name": "sneaky"})
    assert response.status_code == 403
    assert service.list_api_tokens(session, user=user) == []
    forged = client.post("/account/tokens", data={"name": "sneaky", "csrf_token": "0" * 64})
    assert forged.status_code == 403
    ok = client.post("/account/tokens", data={"name": "mine", "csrf_token": page_csrf(client, "/account")})
    assert ok.status_code == 201


def test_logout_ends_the_session_on_the_server(client, session):
    user = make_user(session)
    login(client, user)
    stolen_cookie = client.cookies.get(SESSION_COOKIE)
    response = client.post("/logout", data={"csrf_token": page_csrf(client)})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert session.exec(select(WebSession).where(WebSession.user_id == user.id)).all() == []
    client.cookies.set(SESSION_COOKIE, stolen_cookie)
    assert client.get("/").status_code == 303  # a copied cookie is worthless after logout


def test_login_issues_a_new_session_token(client, session):
    user = make_user(session)
    login(client, user)
    first = client.cookies.get(SESSION_COOKIE)
    again = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": page_csrf(client)})
    assert again.status_code == 303
    assert client.cookies.get(SESSION_COOKIE) != first
    client.cookies.set(SESSION_COOKIE, first)
    assert client.get("/").status_code == 303


def test_login_redirects_only_within_the_site(client, session):
    user = make_user(session)
    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token,
                                           "next": "https://evil.example/"})
    assert response.headers["location"] == "/"


def test_api_token_authenticates_and_stops_working_once_revoked(client, session):
    user = make_user(session, role=Role.volunteer)
    token = make_token(session, user)
    headers = {"Authorization": f"Bearer {token}"}
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200 and me.json()["email"] == user.email
    token_id = client.get("/api/v1/tokens", headers=headers).json()[0]["id"]
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=headers).status_code == 200
    refused = client.get("/api/v1/me", headers=headers)
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["title"] == "Not signed in"


def test_api_tokens_are_stored_hashed_and_shown_once(client, session):
    user = make_user(session)
    headers = {"Authorization": f"Bearer {make_token(session, user)}"}
    created = client.post("/api/v1/tokens", json={"name": "import script"}, headers=headers)
    assert created.status_code == 201
    secret = created.json()["token"]
    assert secret.startswith("cs_")
    listed = client.get("/api/v1/tokens", headers=headers).json()
    assert all("token" not in row for row in listed)
    stored = service.list_api_tokens(session, user=user)
    assert all(secret not in (t.token_hash, t.prefix) for t in stored)
    assert any(t.token_hash == service.hash_secret(secret) for t in stored)


def test_a_user_cannot_revoke_someone_elses_token(client, session):
    owner, other = make_user(session), make_user(session)
    make_token(session, owner)
    owner_token_id = service.list_api_tokens(session, user=owner)[0].id
    response = client.delete(f"/api/v1/tokens/{owner_token_id}",
                             headers={"Authorization": f"Bearer {make_token(session, other)}"})
    assert response.status_code == 404
    assert service.list_api_tokens(session, user=owner)[0].revoked_at is None


def test_disabled_users_tokens_stop_working(client, session):
    user = make_user(session)
    headers = {"Authorization": f"Bearer {make_token(session, user)}"}
    service.set_active(session, email=user.email, active=False, actor="tests")
    session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_create_user_reports_every_problem_and_writes_nothing(session):
    with pytest.raises(InvalidInput) as caught:
        service.create_user(session, email="not-an-email", role="overlord", password="short")
    fields = {error.loc for error in caught.value.errors}
    assert fields == {"email", "role", "password"}
    assert service.list_users(session) == []


def test_duplicate_email_is_a_conflict(session):
    make_user(session, email="dup@example.org")
    with pytest.raises(Conflict):
        service.create_user(session, email="DUP@example.org ", role="staff", password=PASSWORD)


def test_admin_creates_a_user_from_the_users_page(client, session):
    admin = make_user(session, role=Role.admin)
    login(client, admin)
    token = page_csrf(client, "/admin/users")
    bad = client.post("/admin/users", data={"email": "new@example.org", "role": "staff", "password": "short",
                                            "name": "New Person", "csrf_token": token})
    assert bad.status_code == 422
    assert "at least 10 characters" in bad.text and 'value="New Person"' in bad.text
    good = client.post("/admin/users", data={"email": "new@example.org", "role": "staff", "password": PASSWORD,
                                             "name": "New Person", "csrf_token": token})
    assert good.status_code == 303
    assert service.get_user_by_email(session, email="new@example.org").role == Role.staff
    actions = [entry.action for entry in audit.recent(session, entity_type="user")]
    assert "user.create" in actions


def test_disabling_an_unknown_user_is_not_found(session):
    with pytest.raises(NotFound):
        service.set_active(session, email="ghost@example.org", active=False)


def test_audit_log_records_before_and_after(session):
    user = make_user(session)
    service.set_active(session, email=user.email, active=False, actor="tests")
    entry = audit.recent(session, entity_type="user", entity_id=user.id)[0]
    assert entry.action == "user.disable"
    assert entry.before == {"is_active": True} and entry.after == {"is_active": False}
    assert entry.actor_label == "tests"
    assert entry.created_at.tzinfo is not None


def test_an_api_call_succeeds_while_another_process_holds_the_write_lock(backend):
    """Stamping a token's "last used" is best effort: a read-only call must not fail on SQLite's lock."""
    import secrets as _secrets

    import sqlalchemy as sa

    from campaign.accounts import service as accounts
    from campaign.accounts.models import ApiToken, Role, User
    from campaign.db import get_engine, new_session

    with new_session(writes=True) as setup:
        user = accounts.create_user(setup, email=f"lock-{_secrets.token_hex(4)}@example.org", role=Role.staff,
                                    password="a long enough password")
        setup.flush()
        secret = accounts.create_api_token(setup, user=user).secret
        setup.commit()
        user_id = user.id
    reader = new_session()
    writer = get_engine().execution_options(sqlite_begin="IMMEDIATE").connect()
    try:
        reader.execute(sa.select(User.id).where(User.id == user_id)).all()
        writer.begin()
        writer.execute(sa.update(User).where(User.id == user_id).values(name="writing"))
        assert accounts.user_for_api_token(reader, token=secret).id == user_id
        reader.commit()
        writer.commit()
    finally:
        reader.close()
        writer.close()
    with new_session(writes=True) as cleanup:
        stamped = cleanup.exec(sa.select(ApiToken.last_used_at).where(ApiToken.user_id == user_id)).scalar_one()
        # On PostgreSQL the row lock is elsewhere, so the stamp lands; on SQLite it is skipped this once.
        assert (stamped is not None) == (backend == "postgresql")
        cleanup.execute(sa.delete(ApiToken).where(ApiToken.user_id == user_id))
        cleanup.execute(sa.delete(User).where(User.id == user_id))
        cleanup.commit()


def test_a_password_hashed_with_older_settings_is_redone_at_sign_in(session):
    from argon2 import PasswordHasher

    from campaign.accounts import service as accounts

    user = make_user(session, role=Role.staff)
    user.password_hash = PasswordHasher().hash("an older strong password")  # the library's 64 MiB default
    session.add(user)
    session.flush()
    assert accounts.authenticate(session, email=user.email, password="an older strong password",
                                 ip_address="127.0.0.1") is not None
    assert "m=19456,t=2,p=1" in user.password_hash
