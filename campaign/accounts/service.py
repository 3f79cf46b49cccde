"""Accounts: creating users, signing in (with a throttle), web sessions and API tokens."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from functools import cache
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from campaign import audit
from campaign.accounts.models import ApiToken, LoginAttempt, Role, User, WebSession
from campaign.db import utcnow
from campaign.errors import Conflict, FieldError, InvalidInput, NotFound, TooManyRequests
from campaign.settings import get_settings

# Argon2id at OWASP's recommended setting (19 MiB, 2 passes, 1 lane) rather than the library's 64 MiB:
# every web and worker process that hashes holds that memory, and each must stay under 150 MB.
# Hashes made with other settings are redone at the next sign-in (check_needs_rehash).
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@cache
def _dummy_hash() -> str:
    """Verifying against this keeps the time of a refusal the same whether or not the account exists."""
    return _hasher.hash("not a real password")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "cs_"


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def get_user_by_email(session: Session, *, email: str) -> User | None:
    return session.exec(select(User).where(User.email == normalise_email(email))).first()


def require_user_by_email(session: Session, *, email: str) -> User:
    user = get_user_by_email(session, email=email)
    if user is None:
        raise NotFound(f"No user with the e-mail address {email!r}.")
    return user


def create_user(session: Session, *, email: str, role: Role | str, password: str, name: str = "",
                actor: User | str | None = None) -> User:
    email = normalise_email(email)
    errors = []
    if not EMAIL_PATTERN.match(email):
        errors.append(FieldError("email", f"{email!r} is not an e-mail address."))
    try:
        role = Role(role)
    except ValueError:
        errors.append(FieldError("role", f"{role!r} is not a role; choose one of {', '.join(r.value for r in Role)}."))
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.append(FieldError("password", f"The password must have at least {MIN_PASSWORD_LENGTH} characters."))
    if errors:
        raise InvalidInput("The user could not be created.", errors=errors)
    if get_user_by_email(session, email=email) is not None:
        raise Conflict(f"A user with the e-mail address {email} already exists.",
                       errors=[FieldError("email", "already in use")])
    user = User(email=email, role=Role(role), name=name.strip(), password_hash=hash_password(password))
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="user.create", entity_type="user", entity_id=user.id,
                 after={"email": user.email, "role": user.role.value})
    return user


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(User.email)))


def set_active(session: Session, *, email: str, active: bool, actor: User | str | None = None) -> User:
    user = require_user_by_email(session, email=email)
    before = user.is_active
    user.is_active = active
    if not active:
        session.exec(sa.delete(WebSession).where(WebSession.user_id == user.id))
    session.add(user)
    audit.record(session, actor=actor, action="user.enable" if active else "user.disable", entity_type="user",
                 entity_id=user.id, before={"is_active": before}, after={"is_active": active})
    return user


def ensure_first_admin(session: Session, *, email: str, password: str | None) -> tuple[User, str | None]:
    """Create the first admin when there are no users; returns the generated password, if any."""
    existing = session.exec(select(User).where(User.role == Role.admin)).first()
    if existing is not None:
        return existing, None
    generated = None
    if not password:
        password = generated = generate_password()
    user = create_user(session, email=email, role=Role.admin, password=password, name="Administrator",
                       actor="setup")
    return user, generated


# --- signing in ------------------------------------------------------------------


def authenticate(session: Session, *, email: str, password: str, ip_address: str) -> User:
    """Check a password, refusing after too many recent failures for the account or the address.

    The attempt is recorded in the same transaction, so the caller must commit even
    when this raises (the login page does).
    """
    settings = get_settings()
    email = normalise_email(email)
    since = utcnow() - timedelta(seconds=settings.login_window_seconds)
    failures_for = sa.select(sa.func.count()).select_from(LoginAttempt).where(
        LoginAttempt.succeeded.is_(False), LoginAttempt.created_at >= since)
    account_failures = session.scalar(failures_for.where(LoginAttempt.email == email))
    address_failures = session.scalar(failures_for.where(LoginAttempt.ip_address == ip_address))
    if account_failures >= settings.login_failures_per_account or address_failures >= settings.login_failures_per_address:
        minutes = max(1, settings.login_window_seconds // 60)
        raise TooManyRequests(f"Too many failed sign-in attempts. Try again in {minutes} minutes.",
                              headers={"Retry-After": str(settings.login_window_seconds)})
    user = get_user_by_email(session, email=email)
    ok = _password_matches(user.password_hash if user else _dummy_hash(), password)
    ok = ok and user is not None and user.is_active
    session.add(LoginAttempt(email=email, ip_address=ip_address, succeeded=ok))
    if not ok:
        # One message for every failure, so the page does not reveal which accounts exist.
        raise InvalidInput("The e-mail address or password is not right, or the account is disabled.",
                           errors=[FieldError("password", "not accepted")])
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    session.add(user)
    return user


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class NewSecret:
    """A freshly issued session or token: the secret is only ever available here."""

    secret: str
    record_id: int


def start_web_session(session: Session, *, user: User, ip_address: str = "", user_agent: str = "") -> NewSecret:
    token = secrets.token_urlsafe(32)
    web_session = WebSession(
        token_hash=hash_secret(token), user_id=user.id,
        expires_at=utcnow() + timedelta(seconds=get_settings().session_max_age_seconds),
        ip_address=ip_address[:64], user_agent=user_agent[:300])
    session.add(web_session)
    session.flush()
    return NewSecret(token, web_session.id)


def user_for_session_token(session: Session, *, token: str) -> tuple[User, WebSession] | None:
    row = session.exec(
        select(User, WebSession).join(WebSession, WebSession.user_id == User.id)
        .where(WebSession.token_hash == hash_secret(token))).first()
    if row is None:
        return None
    user, web_session = row
    if web_session.expires_at <= utcnow() or not user.is_active:
        return None
    return user, web_session


def end_web_session(session: Session, *, token: str) -> None:
    session.exec(sa.delete(WebSession).where(WebSession.token_hash == hash_secret(token)))


def csrf_token_for(session_token: str) -> str:
    """The CSRF token of a browser: derived from its (secret) session cookie and the app's key."""
    key = get_settings().signing_key().encode()
    return hmac.new(key, b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()


def csrf_token_matches(session_token: str, candidate: str) -> bool:
    return bool(candidate) and hmac.compare_digest(csrf_token_for(session_token), candidate)


# --- API tokens ------------------------------------------------------------------


def create_api_token(session: Session, *, user: User, name: str = "", actor: User | str | None = None) -> NewSecret:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    api_token = ApiToken(user_id=user.id, name=name.strip()[:200], prefix=token[:10], token_hash=hash_secret(token))
    session.add(api_token)
    session.flush()
    audit.record(session, actor=actor or user, action="token.create", entity_type="api_token",
                 entity_id=api_token.id, after={"user": user.email, "name": api_token.name})
    return NewSecret(token, api_token.id)


def list_api_tokens(session: Session, *, user: User | None = None) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.id)
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(session.exec(query))


def revoke_api_token(session: Session, *, token_id: int, actor: User | str | None = None,
                     owner: User | None = None) -> ApiToken:
    """Revoke a token; with ``owner`` given, only that user's token may be revoked."""
    api_token = session.get(ApiToken, token_id)
    if api_token is None or (owner is not None and api_token.user_id != owner.id):
        raise NotFound(f"No API token with id {token_id}.")
    if api_token.revoked_at is None:
        api_token.revoked_at = utcnow()
        session.add(api_token)
        audit.record(session, actor=actor, action="token.revoke", entity_type="api_token", entity_id=token_id)
    return api_token


TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)
# Every API request runs this, so it is built once, and reads the token's id and stamp
# rather than building a second ORM object.
_TOKEN_OWNER = (sa.select(User, ApiToken.id, ApiToken.last_used_at).join(ApiToken, ApiToken.user_id == User.id)
                .where(ApiToken.token_hash == sa.bindparam("token_hash"), ApiToken.revoked_at.is_(None)))


def user_for_api_token(session: Session, *, token: str) -> User | None:
    row = session.execute(_TOKEN_OWNER, {"token_hash": hash_secret(token)}).first()
    if row is None:
        return None
    user, token_id, last_used_at = row
    if not user.is_active:
        return None
    now = utcnow()
    # Touch at most once a minute, so a busy script does not write on every call.
    if last_used_at is None or now - last_used_at > TOKEN_TOUCH_INTERVAL:
        _touch_token(session, token_id, now)
    return user


def _touch_token(session: Session, token_id: int, now: datetime) -> None:
    """Best effort: a read-only request on SQLite cannot always take the write lock, and a missed
    "last used" stamp must never fail the request (another call will stamp it)."""
    try:
        with session.begin_nested():
            session.execute(sa.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
    except sa.exc.OperationalError:
        return
