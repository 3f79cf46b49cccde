"""Every route declares who may call it, and each role gets the answer that declaration promises.

The routes are discovered from the app, so routes added later are covered without
editing this test. Each role calls each route with placeholder parameters: a role the
route allows must get past authorisation (anything but 401/403, and never a 500); a
role it does not allow must get 403; nobody signed in gets 401 (API) or is sent to
the login page (pages).
"""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.convertors import IntegerConvertor

from campaign.accounts import service as accounts_service
from campaign.accounts.models import Role
from campaign.deps import SESSION_COOKIE, Access
from tests.factories import make_token, make_user


def access_of(route: APIRoute) -> Access | None:
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if isinstance(dependency.call, Access):
            return dependency.call
        pending.extend(dependency.dependencies)
    return None


def api_routes(app) -> list[tuple[str, APIRoute]]:
    """Every FastAPI route with its full path (routers included under a prefix keep theirs apart)."""
    return [(context.path_format, context.original_route) for context in iter_route_contexts(app.routes)
            if isinstance(context.original_route, APIRoute)]


def concrete_path(path: str, route: APIRoute) -> str:
    for name, convertor in route.param_convertors.items():
        path = path.replace("{" + name + "}", "999999" if isinstance(convertor, IntegerConvertor) else "none")
    return path


def calls(app):
    for path, route in sorted(api_routes(app), key=lambda pair: pair[0]):
        for method in sorted(route.methods - {"HEAD"}):
            yield concrete_path(path, route), route, method


def _request(client, method: str, path: str, headers: dict, is_api: bool):
    if method == "GET":
        return client.request(method, path, headers=headers)
    if is_api:
        return client.request(method, path, headers=headers, json={})
    return client.request(method, path, headers=headers, data={})


def test_every_route_declares_who_may_call_it(app):
    undeclared = [f"{sorted(r.methods)} {path}" for path, r in api_routes(app) if access_of(r) is None]
    assert undeclared == [], f"routes without allow(...) or public: {undeclared}"


def test_the_matrix_covers_api_and_pages(app):
    paths = [path for path, _, _ in calls(app)]
    assert "/api/v1/me" in paths and "/admin/users" in paths and "/login" in paths


@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_what_each_route_declares(app, client, session, role):
    user = make_user(session, role=role)
    token = make_token(session, user)
    failures = []
    for path, route, method in calls(app):
        access = access_of(route)
        is_api = path.startswith("/api/")
        client.cookies.clear()
        if is_api:
            headers = {"Authorization": f"Bearer {token}"}
        else:
            # A fresh browser session per call: some routes (sign-out) end the one they are called with.
            web = accounts_service.start_web_session(session, user=user)
            session.commit()
            client.cookies.set(SESSION_COOKIE, web.secret)
            headers = {"X-CSRF-Token": accounts_service.csrf_token_for(web.secret)}
        response = _request(client, method, path, headers, is_api)
        allowed = access.public or role in access.roles
        if response.status_code >= 500:
            failures.append(f"{method} {path}: {response.status_code} (a 500 is a bug)")
        elif allowed and response.status_code in (401, 403):
            failures.append(f"{method} {path}: {role} is allowed by {access!r} but got {response.status_code}")
        elif not allowed and response.status_code != 403:
            failures.append(f"{method} {path}: {role} is not allowed by {access!r} but got {response.status_code}")
    assert failures == []


def test_nobody_signed_in_is_refused_everywhere_but_public_routes(app, client):
    failures = []
    for path, route, method in calls(app):
        access = access_of(route)
        if access.public:
            continue
        is_api = path.startswith("/api/")
        client.cookies.clear()
        response = _request(client, method, path, {}, is_api)
        if is_api and response.status_code != 401:
            failures.append(f"{method} {path}: {response.status_code}, expected 401")
        if is_api and response.headers.get("content-type") != "application/problem+json":
            failures.append(f"{method} {path}: answered {response.headers.get('content-type')}")
        if not is_api and method == "GET" and not (
                response.status_code == 303 and response.headers["location"].startswith("/login?next=")):
            failures.append(f"{method} {path}: {response.status_code}, expected a redirect to the login page")
        if not is_api and method != "GET" and response.status_code not in (303, 403):
            # A form post without a session has no valid CSRF token either: refused or sent to log in.
            failures.append(f"{method} {path}: {response.status_code}, expected 403 or a redirect")
    assert failures == []
