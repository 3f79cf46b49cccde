"""Schemathesis fuzzes every API operation as each role.

It must find no 500, no answer that breaks the documented schema, and no answer that
lets a role do what its route's declaration forbids. The number of examples is
bounded (FUZZ_EXAMPLES, default 15 per operation and role) to keep CI short.
"""

from __future__ import annotations

import os

import schemathesis
from schemathesis import checks
from fastapi.routing import APIRoute, iter_route_contexts
from hypothesis import HealthCheck, settings

from campaign.accounts.models import Role
from campaign.app import create_app
from tests.campaign.test_role_matrix import access_of
from tests.factories import make_token, make_user

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
# What the API promises: no 500, answers and headers as documented. (Whether lenient parsing
# accepts more than the schema describes is not checked here.)
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance,
          checks.allow_header_conformance, checks.unsupported_method]


# The schema is read from an app built at import; each call goes to the test's own app,
# whose database session is rolled back after the test.
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app())


def _declared_access(app, method: str, path: str):
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path_format == path and method.upper() in route.methods:
            return access_of(route)
    return None  # schemathesis also tries methods a path does not have (answered 405)


def _fuzz_as(role: Role):
    @schema.parametrize()
    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def fuzz(case, app, session):
        tokens = session.info.setdefault("fuzz_tokens", {})
        if role not in tokens:
            tokens[role] = make_token(session, make_user(session, role=role))
        response = case.call(app=app, headers={"Authorization": f"Bearer {tokens[role]}"})
        case.validate_response(response, checks=CHECKS)
        access = _declared_access(app, case.method, case.path)
        if access is not None and not (access.public or role in access.roles):
            # Refused (403), or refused earlier still because the body could not even be read.
            assert response.status_code in (400, 403, 422), (
                f"{role} is not allowed {case.method} {case.path} ({access!r}) but got {response.status_code}")

    return fuzz


test_api_as_admin = _fuzz_as(Role.admin)
test_api_as_staff = _fuzz_as(Role.staff)
test_api_as_coordinator = _fuzz_as(Role.coordinator)
test_api_as_volunteer = _fuzz_as(Role.volunteer)
