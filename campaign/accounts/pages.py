from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from campaign import audit
from campaign.accounts import service
from campaign.accounts.models import Role
from campaign.deps import AdminUser, AnyUser, MaybeUser, SessionDep
from campaign.errors import CosignError
from campaign.web import clear_session_cookie, redirect, render, set_session_cookie

router = APIRouter()


def _safe_next(target: str) -> str:
    """Only same-site paths: an open redirect after login would help phishing."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/login")
def login_form(request: Request, user: MaybeUser, next: str = "/"):
    if user is not None:
        return redirect(_safe_next(next))
    return render(request, "pages/login.html", {"next": _safe_next(next), "email": "", "error": None})


@router.post("/login")
def login(request: Request, session: SessionDep, user: MaybeUser,
          email: Annotated[str, Form(max_length=320)] = "",
          password: Annotated[str, Form(max_length=200)] = "",
          next: Annotated[str, Form(max_length=2000)] = "/") -> Response:
    try:
        signed_in = service.authenticate(session, email=email, password=password,
                                         ip_address=_client_address(request))
    except CosignError as error:
        # The failed attempt is still committed, so the throttle sees it.
        return render(request, "pages/login.html", {"next": _safe_next(next), "email": email, "error": error.detail},
                      status_code=error.status_code)
    # A new session token on every sign-in: a token planted before login is worthless.
    if getattr(request.state, "session_token", None):
        service.end_web_session(session, token=request.state.session_token)
    new = service.start_web_session(session, user=signed_in, ip_address=_client_address(request),
                                    user_agent=request.headers.get("user-agent", ""))
    audit.record(session, actor=signed_in, action="user.login", entity_type="user", entity_id=signed_in.id)
    response = redirect(_safe_next(next), f"Signed in as {signed_in.email}.")
    set_session_cookie(response, new.secret)
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, user: AnyUser) -> Response:
    service.end_web_session(session, token=request.state.session_token)
    response = redirect("/login", "You have signed out.")
    clear_session_cookie(response)
    return response


@router.get("/account")
def account(request: Request, session: SessionDep, user: AnyUser):
    return render(request, "pages/account.html", {"tokens": service.list_api_tokens(session, user=user),
                                                  "new_token": None})


@router.post("/account/tokens")
def create_token(request: Request, session: SessionDep, user: AnyUser,
                 name: Annotated[str, Form(max_length=200)] = ""):
    created = service.create_api_token(session, user=user, name=name)
    # Shown on this response only; never stored in clear or put in a URL.
    return render(request, "pages/account.html", {"tokens": service.list_api_tokens(session, user=user),
                                                  "new_token": created.secret}, status_code=201)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(token_id: int, session: SessionDep, user: AnyUser):
    service.revoke_api_token(session, token_id=token_id, actor=user, owner=user)
    return redirect("/account", "The token has been revoked.")


@router.get("/admin/users")
def users_page(request: Request, session: SessionDep, admin: AdminUser):
    return render(request, "pages/users.html", {"users": service.list_users(session), "roles": list(Role),
                                                "form": {}, "errors": {}})


@router.post("/admin/users")
def create_user(request: Request, session: SessionDep, admin: AdminUser,
                email: Annotated[str, Form(max_length=320)] = "",
                role: Annotated[str, Form(max_length=20)] = "",
                name: Annotated[str, Form(max_length=200)] = "",
                password: Annotated[str, Form(max_length=200)] = ""):
    try:
        with session.begin_nested():
            service.create_user(session, email=email, role=role, password=password, name=name, actor=admin)
    except CosignError as error:
        return render(request, "pages/users.html", {
            "users": service.list_users(session), "roles": list(Role),
            "form": {"email": email, "role": role, "name": name},
            "errors": {e.loc: e.msg for e in error.errors} or {"email": error.detail},
        }, status_code=error.status_code)
    return redirect("/admin/users", f"Created {email.strip().lower()} as {role}.")


@router.post("/admin/users/{email}/disable")
def disable_user(email: str, session: SessionDep, admin: AdminUser):
    service.set_active(session, email=email, active=False, actor=admin)
    return redirect("/admin/users", f"Disabled {email}; their sessions have ended.")


@router.get("/admin/audit")
def audit_page(request: Request, session: SessionDep, admin: AdminUser):
    return render(request, "pages/audit.html", {"entries": audit.recent(session, limit=200)})
