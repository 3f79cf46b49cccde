"""Request dependencies: the transaction, the signed-in user, and who may call each route.

Every route declares its callers with ``allow(...)`` (signed-in users with one of the
roles; admins always) or ``public`` (anyone). The role matrix test walks the app's
routes and fails for a route that declares neither.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from campaign.accounts import service as accounts_service
from campaign.accounts.models import Role, User
from campaign.db import new_session
from campaign.errors import NotAuthenticated, PermissionDenied

SESSION_COOKIE = "cosign_session"
ANON_COOKIE = "cosign_anon"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def writes_on_read(endpoint):
    """Mark a GET route that writes (an audited download), so its transaction starts as a writer."""
    endpoint.writes_on_read = True
    return endpoint


def get_session(request: Request) -> Iterator[Session]:
    """The request's transaction: committed when the handler returns, rolled back if it raises."""
    writes = request.method in UNSAFE_METHODS or getattr(request.scope.get("endpoint"), "writes_on_read", False)
    session = new_session(writes=writes)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def submitted_csrf_token(request: Request) -> str:
    """The CSRF token a browser sent with an unsafe request: a form field or the X-CSRF-Token header."""
    if request.method not in UNSAFE_METHODS:
        return ""
    header = request.headers.get("x-csrf-token", "")
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token", "")
        return value if isinstance(value, str) else ""
    return ""


def _bearer_token(request: Request) -> str:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


@dataclass(frozen=True)
class SignedIn:
    """Who is signed in, as the page layout shows it."""

    id: int
    email: str
    name: str
    role: Role

    @classmethod
    def of(cls, user: User) -> SignedIn:
        return cls(id=user.id, email=user.email, name=user.name, role=user.role)


class Access:
    """A route's declaration of who may call it, and the dependency that enforces it."""

    def __init__(self, *roles: Role, public: bool = False):
        self.public = public
        self.roles = frozenset(roles) | ({Role.admin} if not public else frozenset())

    def __repr__(self) -> str:
        return "public" if self.public else f"allow({', '.join(sorted(r.value for r in self.roles))})"

    def __call__(self, request: Request, session: SessionDep,
                 csrf_token: Annotated[str, Depends(submitted_csrf_token)]) -> User | None:
        user = self._identify(request, session, csrf_token)
        # Pages read a snapshot: an error page is rendered after the session has rolled back and closed.
        request.state.user = SignedIn.of(user) if user is not None else None
        if self.public:
            return user
        if user is None:
            raise NotAuthenticated("Sign in to continue.")
        if user.role not in self.roles:
            raise PermissionDenied(f"Your role ({user.role.value}) may not do this.")
        return user

    @staticmethod
    def _identify(request: Request, session: Session, csrf_token: str) -> User | None:
        bearer = _bearer_token(request)
        if bearer:
            user = accounts_service.user_for_api_token(session, token=bearer)
            if user is None:
                raise NotAuthenticated("The API token is not valid or has been revoked.",
                                       headers={"WWW-Authenticate": "Bearer"})
            return user
        # Cookie-borne requests must prove they come from our own pages.
        cookie = request.cookies.get(SESSION_COOKIE, "")
        found = accounts_service.user_for_session_token(session, token=cookie) if cookie else None
        # (An API call with neither a token nor a session is simply not signed in.)
        if request.method in UNSAFE_METHODS and (found or not request.url.path.startswith("/api/")):
            csrf_base = cookie if found else request.cookies.get(ANON_COOKIE, "")
            if not accounts_service.csrf_token_matches(csrf_base, csrf_token):
                raise PermissionDenied("The form has expired or did not come from Cosign. Reload the page and try again.")
        if found is None:
            return None
        request.state.session_token = cookie
        return found[0]


def allow(*roles: Role) -> Access:
    return Access(*roles)


public = Access(public=True)

AnyUser = Annotated[User, Depends(allow(*Role))]
AdminUser = Annotated[User, Depends(allow(Role.admin))]
MaybeUser = Annotated[User | None, Depends(public)]
