"""Rendering pages: the Jinja2 environment, the base layout's context, flash messages, CSRF."""

from __future__ import annotations

import secrets
from datetime import datetime
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeSerializer

from campaign.accounts import service as accounts_service
from campaign.accounts.models import Role
from campaign.deps import ANON_COOKIE, SESSION_COOKIE
from campaign.errors import CosignError
from campaign.settings import TEMPLATES_DIR, get_settings

FLASH_COOKIE = "cosign_flash"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def _local(value: datetime | None, tz: str = "Europe/London", fmt: str = "%d %b %Y, %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(tz)).strftime(fmt)


templates.env.filters["local"] = _local

# Navigation: (label, path, roles that see it).
NAVIGATION: list[tuple[str, str, frozenset[Role]]] = [
    ("Home", "/", frozenset(Role)),
    ("Campaigns", "/campaigns", frozenset(Role)),
    ("People", "/people", frozenset(Role)),
    ("Letters", "/letters", frozenset({Role.admin, Role.staff, Role.coordinator})),
    ("Questions", "/questions", frozenset({Role.admin, Role.staff, Role.coordinator})),
    ("Responses", "/responses", frozenset(Role)),
    ("Follow-ups", "/follow-ups", frozenset({Role.admin, Role.staff, Role.coordinator})),
    ("Outbox", "/outbox", frozenset({Role.admin, Role.staff})),
    ("Users", "/admin/users", frozenset({Role.admin})),
    ("Set up", "/first-run", frozenset({Role.admin})),
    ("Audit log", "/admin/audit", frozenset({Role.admin})),
    ("Account", "/account", frozenset(Role)),
]


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().signing_key(), salt="flash")


def flash(response: Response, message: str, category: str = "info") -> Response:
    """Show a message on the next page the browser loads (after a redirect)."""
    response.set_cookie(FLASH_COOKIE, _serializer().dumps([category, message]), httponly=True, samesite="lax",
                        secure=get_settings().https, max_age=60)
    return response


def redirect(url: str, message: str | None = None, category: str = "info") -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    if message:
        flash(response, message, category)
    return response


def _read_flash(request: Request) -> list[tuple[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    try:
        category, message = _serializer().loads(raw)
    except (BadSignature, ValueError, TypeError):
        return []
    return [(str(category), str(message))]


def csrf_token(request: Request) -> tuple[str, str | None]:
    """The token to put in this page's forms, and a new anonymous cookie value if one must be set."""
    session_token = getattr(request.state, "session_token", None)
    if session_token:
        return accounts_service.csrf_token_for(session_token), None
    anon = request.cookies.get(ANON_COOKIE)
    new_anon = None
    if not anon:
        anon = new_anon = secrets.token_urlsafe(24)
    return accounts_service.csrf_token_for(anon), new_anon


def render(request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200) -> HTMLResponse:
    user = getattr(request.state, "user", None)
    token, new_anon = csrf_token(request)
    flashes = _read_flash(request)
    page_context = {
        "user": user,
        "csrf_token": token,
        "flashes": flashes,
        "navigation": [(label, path) for label, path, roles in NAVIGATION if user is not None and user.role in roles],
        "current_path": request.url.path,
        **(context or {}),
    }
    response = templates.TemplateResponse(request, name, page_context, status_code=status_code)
    secure = get_settings().https
    if new_anon:
        response.set_cookie(ANON_COOKIE, new_anon, httponly=True, samesite="lax", secure=secure)
    if flashes:
        response.delete_cookie(FLASH_COOKIE)
    return response


def set_session_cookie(response: Response, token: str) -> None:
    settings = get_settings()
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=settings.https,
                        max_age=settings.session_max_age_seconds, path="/")


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def field_errors(error: CosignError, *, fields: Iterable[str] | None = None) -> dict[str, str]:
    """An error's messages by form field, to show next to each field; ``form`` holds the rest.

    ``body:line 3`` names the field and where in it: the place stays in the message.
    ``addresses.2.value`` belongs to the ``addresses`` field.
    """
    known = set(fields) if fields is not None else None
    found: dict[str, str] = {}
    for item in error.errors:
        name, _, where = item.loc.partition(":")
        name = name.split(".")[0]
        if known is not None and name not in known:
            name = "form"
        message = f"{where}: {item.msg}" if where else item.msg
        found[name] = f"{found[name]} {message}" if name in found else message
    return found or {"form": error.detail}
