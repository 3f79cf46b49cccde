"""The outbox: scheduling messages, claiming the due ones, and recording each delivery.

The database is the source of truth and the broker only carries wake-ups. A message
moves scheduled → sending → sent | failed | cancelled:

- ``claim_due`` atomically gives due rows a claim (a row of ``outbox_claim``: a new
  token and a lease), writing nothing to the messages themselves; a claimed message is
  not due again until the claim's lease runs out;
- ``start_attempt`` re-checks the claim and marks the row ``sending`` just before the
  message goes out (from then on it cannot be cancelled; ``next_attempt_at`` becomes the
  end of a new lease, so a row whose worker died is due again once it runs out), and
  commits;
- ``record_result`` marks it sent, or back to scheduled with a backoff, or failed, in
  the same transaction that records the server's answer (and starts the next message),
  committed before the next message goes out.

So a redelivered or stale ``deliver`` task changes nothing, a cancelled message is
never sent, and only a message in flight when a worker is killed can go twice, with
the same Message-ID.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import os
import random
import re
import secrets
import socket
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from functools import lru_cache
from operator import itemgetter
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlmodel import Session, select

from campaign import audit
from campaign.db import UTCDateTime, on_commit, utcnow
from campaign.errors import Conflict, FieldError, InvalidInput, NotFound
from campaign.models import Campaign
from campaign.settings import get_settings
from workers import prepared
from workers.mail import Accepted, Attachment, DeliveryError, OutgoingMail, PermanentFailure
from workers.models import (DeliveryAttempt, DeliveryOutcome, OutboxAttachment, OutboxClaim, OutboxKind,
                            OutboxMessage, OutboxPause, OutboxStatus)

ADDRESS_PATTERN = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
RATE_WINDOW = timedelta(minutes=1)
OUTBOX = OutboxMessage.__table__
ATTEMPTS = DeliveryAttempt.__table__
CLAIMS = OutboxClaim.__table__


@dataclass(frozen=True)
class SendingRules:
    """How sending behaves (the SEND_* settings)."""

    max_attempts: int = 10
    retry_base_seconds: float = 10.0
    retry_cap_seconds: float = 3600.0
    per_domain_per_minute: int = 600  # 0: no limit
    per_campaign_per_minute: int = 0  # 0: no limit
    dispatch_limit: int = 1000
    batch_size: int = 50
    lease_seconds: float = 90.0

    @classmethod
    def from_settings(cls) -> SendingRules:
        settings = get_settings()
        # The lease covers one message's SMTP exchange (it is renewed before each message).
        lease = settings.send_lease_seconds or max(3 * settings.smtp_timeout_seconds, 5.0)
        return cls(max_attempts=settings.send_max_attempts, retry_base_seconds=settings.send_retry_base_seconds,
                   retry_cap_seconds=settings.send_retry_cap_seconds,
                   per_domain_per_minute=settings.send_per_domain_per_minute,
                   per_campaign_per_minute=settings.send_per_campaign_per_minute,
                   dispatch_limit=settings.send_dispatch_limit, batch_size=settings.send_batch_size,
                   lease_seconds=lease)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --- time zones ------------------------------------------------------------------


def zone(name: str, loc: str = "timezone") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise InvalidInput(f"{name!r} is not a time zone.", errors=[FieldError(loc, "unknown time zone")]) from error


def local_to_utc(value: datetime, zone_name: str, loc: str = "scheduled_at") -> datetime:
    """A wall-clock time entered in a campaign's zone, as UTC; refuses times the clocks skip."""
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    tz = zone(zone_name)
    aware = value.replace(tzinfo=tz)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != value:
        raise InvalidInput(f"{value:%d %b %Y %H:%M} does not exist in {zone_name} (the clocks go forward).",
                           errors=[FieldError(loc, "this time is skipped when the clocks change")])
    return aware.astimezone(UTC)


def campaign_zone(session: Session, campaign_id: int | None) -> str:
    campaign = session.get(Campaign, campaign_id) if campaign_id is not None else None
    return campaign.timezone if campaign is not None else "Europe/London"


# --- scheduling ------------------------------------------------------------------


def make_message_id(outbox_id: int) -> str:
    """Deterministic: the same row always goes out under the same Message-ID."""
    settings = get_settings()
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "localhost"
    digest = hmac.new(settings.signing_key().encode(), f"outbox:{outbox_id}".encode(), hashlib.sha256).hexdigest()
    return f"<cosign.{outbox_id}.{digest[:12]}@{domain}>"


def _check_address(value: str, loc: str, errors: list[FieldError], *, required: bool = True) -> str:
    value = (value or "").strip()
    if not value:
        if required:
            errors.append(FieldError(loc, "an e-mail address is needed"))
        return value
    name, address = parseaddr(value)
    if not address or not ADDRESS_PATTERN.match(address) or "\n" in value or "\r" in value:
        errors.append(FieldError(loc, f"{value!r} is not an e-mail address"))
    return value


def schedule(session: Session, *, recipient_address: str, subject: str, scheduled_at: datetime,
             text_body: str = "", html_body: str = "", recipient_name: str = "",
             kind: OutboxKind | str = OutboxKind.other, campaign_id: int | None = None,
             sender: str | None = None, reply_to: str | None = None, in_reply_to: str = "",
             references: str = "", attachments: Iterable[Attachment] = (), actor=None) -> OutboxMessage:
    """Put a message in the outbox to go at ``scheduled_at`` (timezone-aware; stored in UTC)."""
    errors: list[FieldError] = []
    recipient_address = _check_address(recipient_address, "recipient_address", errors)
    if recipient_address and parseaddr(recipient_address)[1] != recipient_address:
        errors.append(FieldError("recipient_address", "give the bare address; the name goes in recipient_name"))
    if any(c in recipient_name for c in "\r\n"):
        errors.append(FieldError("recipient_name", "must be on one line"))
    subject = (subject or "").strip()
    if not subject:
        errors.append(FieldError("subject", "a subject is needed"))
    elif "\n" in subject or "\r" in subject or len(subject) > 998:
        errors.append(FieldError("subject", "must be one line of at most 998 characters"))
    if not (text_body or "").strip() and not (html_body or "").strip():
        errors.append(FieldError("text_body", "the message has no text"))
    if scheduled_at is None or scheduled_at.tzinfo is None:
        errors.append(FieldError("scheduled_at", "give a time with its time zone (or enter it in the campaign's zone)"))
    try:
        kind = OutboxKind(kind)
    except ValueError:
        errors.append(FieldError("kind", f"{kind!r} is not one of {', '.join(k.value for k in OutboxKind)}"))
    campaign = None
    if campaign_id is not None:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            errors.append(FieldError("campaign_id", f"there is no campaign {campaign_id}"))
    sender = _check_address(sender or get_settings().mail_from, "sender", errors)
    reply_to = _check_address(reply_to if reply_to is not None else (campaign.reply_to if campaign else ""),
                              "reply_to", errors, required=False)
    for loc, value in (("in_reply_to", in_reply_to), ("references", references)):
        if any(c in (value or "") for c in "\r\n"):
            errors.append(FieldError(loc, "must be on one line"))
    attachments = list(attachments)
    for number, attachment in enumerate(attachments, start=1):
        if not attachment.filename or any(c in attachment.filename for c in "\r\n/\\"):
            errors.append(FieldError(f"attachments.{number}.filename", "a plain file name is needed"))
    if errors:
        raise InvalidInput("The message could not be scheduled.", errors=errors)

    when = scheduled_at.astimezone(UTC)
    paused = campaign_id is not None and session.get(OutboxPause, campaign_id) is not None
    message = OutboxMessage(
        campaign_id=campaign_id, kind=kind, sender=sender, recipient_address=recipient_address,
        recipient_name=recipient_name.strip(), recipient_domain=recipient_address.rpartition("@")[2].lower(),
        reply_to=reply_to, subject=subject, text_body=text_body or "", html_body=html_body or "",
        in_reply_to=in_reply_to or "", thread_references=references or "", scheduled_at=when,
        next_attempt_at=when, paused=paused, created_by_id=getattr(actor, "id", None))
    session.add(message)
    session.flush()
    message.message_id = make_message_id(message.id)
    for attachment in attachments:
        session.add(OutboxAttachment(outbox_message_id=message.id, filename=attachment.filename,
                                     content_type=attachment.content_type, content=attachment.content))
    session.flush()
    audit.record(session, actor=actor, action="outbox.schedule", entity_type="outbox_message", entity_id=message.id,
                 after={"recipient": recipient_address, "subject": subject, "scheduled_at": when,
                        "kind": kind.value, "campaign_id": campaign_id})
    return message


def get_message(session: Session, *, message_id: int) -> OutboxMessage:
    message = session.exec(select(OutboxMessage).where(OutboxMessage.id == message_id)
                           .execution_options(populate_existing=True)).first()
    if message is None:
        raise NotFound(f"No outbox message {message_id}.")
    return message


def list_messages(session: Session, *, status: OutboxStatus | None = None, campaign_id: int | None = None,
                  limit: int = 100) -> list[OutboxMessage]:
    """A page of the outbox: the next to go first for scheduled ones, the latest first otherwise."""
    query = select(OutboxMessage).execution_options(populate_existing=True).limit(limit)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    if campaign_id is not None:
        query = query.where(OutboxMessage.campaign_id == campaign_id)
    if status in (OutboxStatus.scheduled, OutboxStatus.sending):
        query = query.order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
    else:
        query = query.order_by(OutboxMessage.next_attempt_at.desc(), OutboxMessage.id.desc())
    return list(session.exec(query))


def count_by_status(session: Session, *, campaign_id: int | None = None) -> dict[OutboxStatus, int]:
    query = sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
    if campaign_id is not None:
        query = query.where(OutboxMessage.campaign_id == campaign_id)
    counts = dict.fromkeys(OutboxStatus, 0)
    counts.update({OutboxStatus(status): number for status, number in session.execute(query)})
    return counts


def attempts_for(session: Session, *, message_id: int) -> list[DeliveryAttempt]:
    return list(session.exec(select(DeliveryAttempt).where(DeliveryAttempt.outbox_message_id == message_id)
                             .order_by(DeliveryAttempt.id)))


def paused_campaign_ids(session: Session) -> set[int]:
    return set(session.scalars(sa.select(OutboxPause.campaign_id)))


def _not_started():
    """Scheduled (perhaps claimed, but no worker has begun sending it): still ours to change.

    A worker holding it in its queue re-reads the row before it starts, so it finds the
    change (cancelled, or due later) and gives up its claim.
    """
    return OutboxMessage.status == OutboxStatus.scheduled


def _change_unsent(session: Session, *, message_id: int, values: dict, verb: str) -> OutboxMessage:
    # One conditional UPDATE, so it cannot interleave with a worker starting to send the row.
    result = session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.id == message_id, _not_started())
        .values(claimed_by=None, claimed_at=None, lease_expires_at=None, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False))
    message = get_message(session, message_id=message_id)
    if result.rowcount == 0:
        state = "is being sent now" if message.status == OutboxStatus.sending else f"is {message.status.value}"
        raise Conflict(f"Message {message_id} {state}; it can no longer be {verb}.",
                       errors=[FieldError("status", message.status.value)])
    return message


def reschedule(session: Session, *, message_id: int, scheduled_at: datetime, actor=None) -> OutboxMessage:
    if scheduled_at.tzinfo is None:
        raise InvalidInput("Give the new time with its time zone.",
                           errors=[FieldError("scheduled_at", "a timezone-aware time is needed")])
    before = get_message(session, message_id=message_id).scheduled_at
    when = scheduled_at.astimezone(UTC)
    message = _change_unsent(session, message_id=message_id, verb="rescheduled",
                             values={"status": OutboxStatus.scheduled, "scheduled_at": when, "next_attempt_at": when})
    audit.record(session, actor=actor, action="outbox.reschedule", entity_type="outbox_message", entity_id=message_id,
                 before={"scheduled_at": before}, after={"scheduled_at": when})
    return message


def cancel(session: Session, *, message_id: int, actor=None) -> OutboxMessage:
    """Cancel a message until it goes; a worker holding it in its queue will then skip it."""
    message = _change_unsent(session, message_id=message_id, verb="cancelled",
                             values={"status": OutboxStatus.cancelled})
    audit.record(session, actor=actor, action="outbox.cancel", entity_type="outbox_message", entity_id=message_id)
    return message


def retry(session: Session, *, message_id: int, actor=None) -> OutboxMessage:
    """Send a failed message again now, with a fresh allowance of attempts."""
    now = utcnow()
    result = session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.failed)
        .values(status=OutboxStatus.scheduled, attempts=0, next_attempt_at=now, updated_at=now, claimed_by=None,
                lease_expires_at=None, send_started_at=None)
        .execution_options(synchronize_session=False))
    message = get_message(session, message_id=message_id)
    if result.rowcount == 0:
        raise Conflict(f"Message {message_id} is {message.status.value}; only failed messages can be retried.",
                       errors=[FieldError("status", message.status.value)])
    # The failed attempt's claim may still be within its lease: given up, so the retry is due now.
    session.execute(sa.update(CLAIMS).where(CLAIMS.c.message_id == message_id, CLAIMS.c.lease_until > now)
                    .values(lease_until=now))
    audit.record(session, actor=actor, action="outbox.retry", entity_type="outbox_message", entity_id=message_id,
                 before={"last_error": message.last_error})
    return message


def pause_campaign(session: Session, *, campaign_id: int, actor=None) -> int:
    """Hold every unsent message of a campaign (and any scheduled later) until resumed; returns how many."""
    if session.get(Campaign, campaign_id) is None:
        raise NotFound(f"No campaign {campaign_id}.")
    if session.get(OutboxPause, campaign_id) is None:
        session.add(OutboxPause(campaign_id=campaign_id, paused_by_id=getattr(actor, "id", None)))
    result = session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.campaign_id == campaign_id,
                                       OutboxMessage.status.in_([OutboxStatus.scheduled, OutboxStatus.sending]))
        .values(paused=True, updated_at=utcnow()).execution_options(synchronize_session=False))
    session.flush()
    audit.record(session, actor=actor, action="outbox.pause", entity_type="campaign", entity_id=campaign_id,
                 after={"held": result.rowcount})
    return result.rowcount


def resume_campaign(session: Session, *, campaign_id: int, actor=None) -> int:
    if session.get(Campaign, campaign_id) is None:
        raise NotFound(f"No campaign {campaign_id}.")
    session.execute(sa.delete(OutboxPause).where(OutboxPause.campaign_id == campaign_id))
    result = session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.campaign_id == campaign_id, OutboxMessage.paused.is_(True))
        .values(paused=False, updated_at=utcnow()).execution_options(synchronize_session=False))
    audit.record(session, actor=actor, action="outbox.resume", entity_type="campaign", entity_id=campaign_id,
                 after={"released": result.rowcount})
    return result.rowcount


# --- claiming and dispatching ---------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    token: str
    ids: list[int]


# What the claim statement returns for each message it took: (id, campaign_id, recipient_domain),
# plain tuples read with these (namedtuples of the 1,000 rows cost 0.4 ms of a dispatch).
_ID, _CAMPAIGN, _DOMAIN = (itemgetter(n) for n in range(3))


def _due_rows(status: OutboxStatus):
    """The due rows of one status that hold no live claim, in the order they fell due."""
    now = sa.bindparam("b_now", type_=UTCDateTime)
    live_claim = sa.select(CLAIMS.c.message_id).where(CLAIMS.c.message_id == OUTBOX.c.id, CLAIMS.c.lease_until > now)
    return (sa.select(OUTBOX.c.id, sa.bindparam("b_token", type_=sa.String), now,
                      sa.bindparam("b_lease", type_=UTCDateTime), OUTBOX.c.recipient_domain, OUTBOX.c.campaign_id)
            .where(OUTBOX.c.status == status, OUTBOX.c.next_attempt_at <= now,
                   OUTBOX.c.paused.is_(False), ~sa.exists(live_claim))
            .order_by(OUTBOX.c.next_attempt_at).limit(sa.bindparam("b_limit", type_=sa.Integer)))


@lru_cache(maxsize=4)
def _claim_statement(dialect: str, status: OutboxStatus | None = None):
    """INSERT ... SELECT of claims on the due rows that hold no live claim, returning what it took.

    Built once per dialect, with bound parameters: building it per dispatch cost about 2 ms
    of each (profiled). Table statements, not ORM ones, for the same reason.

    On PostgreSQL one statement takes the rows whose sending lease ran out first, then the
    scheduled ones (``status`` None): the scheduled rows are only read when the first part
    leaves room. Two statements, one per status, cost a round trip and a planning more.
    """
    columns = ["message_id", "token", "claimed_at", "lease_until", "recipient_domain", "campaign_id"]
    returning = (CLAIMS.c.message_id.label("id"), CLAIMS.c.campaign_id, CLAIMS.c.recipient_domain)
    if dialect == "postgresql":
        # Rows another dispatcher is claiming right now are skipped, not waited for (a row
        # lock only: the row itself is not rewritten).
        parts = [sa.select(_due_rows(part).with_for_update(skip_locked=True, key_share=True).subquery(part.value))
                 for part in (OutboxStatus.sending, OutboxStatus.scheduled)]
        due = sa.union_all(*parts).limit(sa.bindparam("b_limit", type_=sa.Integer))
        return sa.insert(CLAIMS).from_select(columns, due).returning(*returning)
    # On SQLite the single statement runs under the one write lock: atomic. A plain INSERT:
    # an upsert (one claim row per message) cost PostgreSQL twice as much, speculative
    # insertion being slower than insertion.
    return sa.insert(CLAIMS).from_select(columns, _due_rows(status)).returning(*returning)


_NO_WAIT_FOR_DISK = sa.text("SET LOCAL synchronous_commit TO OFF")


def claim_due(session: Session, *, now: datetime, limit: int, worker: str = "",
              rules: SendingRules | None = None, durable: bool = True) -> Claim:
    """Atomically take up to ``limit`` due messages for sending, within the rate limits.

    Rows whose lease ran out while ``sending`` (their worker died) are due again and come
    first. Rows over a rate limit are put back, due again when the window has room.
    ``durable=False``: the transaction's commit does not wait for the disk (PostgreSQL).
    """
    rules = rules or SendingRules.from_settings()
    token = f"{secrets.token_hex(8)}/{worker or worker_name()}"[:100]
    lease_until = now + timedelta(seconds=rules.lease_seconds)
    connection = session.connection()
    params = {"b_now": now, "b_token": token, "b_lease": lease_until}
    limits = _rate_limits(rules)
    counts = [(_over_limit(column), {"b_since": now - RATE_WINDOW, "b_per_minute": per_minute})
              for per_minute, column, _ in limits]
    dialect = connection.dialect.name
    # On the driver's cursor: SQLAlchemy's result rows cost more than the query (1,000 rows).
    if dialect == "postgresql":
        # The setting, the claim and the rate limits' counts (which see the claim's rows) go to
        # the server in one round trip: the counts in a round trip of their own cost a tenth
        # more (interleaved medians).
        first = [] if durable else [(_NO_WAIT_FOR_DISK, {})]
        claimed, *over = prepared.run_together(
            connection, [*first, (_claim_statement(dialect), {**params, "b_limit": limit}), *counts])[len(first):]
    else:
        claimed = prepared.run(connection, _claim_statement(dialect, OutboxStatus.sending),
                               {**params, "b_limit": limit})
        if len(claimed) < limit:
            claimed += prepared.run(connection, _claim_statement(dialect, OutboxStatus.scheduled),
                                    {**params, "b_limit": limit - len(claimed)})
        over = [prepared.run(connection, statement, values) for statement, values in counts]
    claimed.sort()
    held = _over_rate_limits(claimed, [(per_minute, key_of, dict(rows))
                                       for (per_minute, _, key_of), rows in zip(limits, over)])
    for windows, ids in held.items():
        delay = RATE_WINDOW * windows + timedelta(seconds=random.uniform(0, 5))
        connection.execute(sa.delete(CLAIMS).where(CLAIMS.c.message_id.in_(ids), CLAIMS.c.token == token))
        connection.execute(sa.update(OUTBOX).where(OUTBOX.c.id.in_(ids)).values(next_attempt_at=now + delay))
    held_ids = {id_ for ids in held.values() for id_ in ids}
    return Claim(token=token, ids=[id_ for id_ in map(_ID, claimed) if id_ not in held_ids])


def _rate_limits(rules: SendingRules) -> list[tuple[int, sa.Column, Callable]]:
    """The limits in force: (per minute, the claims' column, the key of a claimed row)."""
    return [(per_minute, column, key_of)
            for per_minute, column, key_of in ((rules.per_domain_per_minute, CLAIMS.c.recipient_domain, _DOMAIN),
                                               (rules.per_campaign_per_minute, CLAIMS.c.campaign_id, _CAMPAIGN))
            if per_minute > 0]


@lru_cache(maxsize=4)
def _over_limit(column):
    """The keys with more than ``b_per_minute`` claims since ``b_since`` (the current claim's own
    included), and their counts: usually none.

    Whatever the keys, so it needs nothing from the claim and goes to the server with it. Read
    from the claims' time index alone (the keys are included in it); excluding the current
    claim here (token != this one) would make the database fetch every row just claimed.
    """
    return (sa.select(column, sa.func.count())
            .where(CLAIMS.c.claimed_at > sa.bindparam("b_since", type_=UTCDateTime), column.is_not(None))
            .group_by(column).having(sa.func.count() > sa.bindparam("b_per_minute", type_=sa.Integer)))


def _over_rate_limits(claimed: Sequence, limits: list[tuple[int, Callable, dict]]) -> dict[int, list[int]]:
    """The claimed rows beyond a per-domain or per-campaign limit, grouped by how many windows they wait.

    ``limits``: (per minute, the key of a claimed row, the claims per key in the window for the
    keys over the limit). Rows whose key is within its limit never wait.
    """
    over = []
    for per_minute, key_of, window in limits:
        own = Counter(key for key in map(key_of, claimed) if key in window) if window else None
        if own:  # else the usual case: this claim and the others in the window fit
            over.append((key_of, Counter({key: window[key] - own[key] for key in own}), per_minute))
    held: dict[int, list[int]] = {}
    for row in claimed if over else ():
        # ``used``: the claims before this row, starting with those made before this claim.
        counted = [(used, key_of(row), per_minute) for key_of, used, per_minute in over if key_of(row) in used]
        # The n-th message over a limit waits for the n-th next window.
        wait = max((used[key] // per_minute for used, key, per_minute in counted), default=0)
        for used, key, _ in counted:
            used[key] += 1
        if wait:
            held.setdefault(wait, []).append(_ID(row))
    return held


def dispatch_due(session: Session, *, enqueue: Callable[[list[int], str], object], now: datetime | None = None,
                 rules: SendingRules | None = None, backlog: Callable[[], object] | None = None) -> Claim:
    """Claim what is due and, once the claim has committed, enqueue its delivery in batches.

    ``backlog`` is called (after the commit, before the deliveries are enqueued) when the
    claim took all it may: the next dispatch is then queued ahead of this claim's
    deliveries, so a free worker claims the next lot while the others send this one,
    instead of finding it behind every delivery of this claim.
    """
    rules = rules or SendingRules.from_settings()
    # The claims need not survive a crash of the database (messages whose claims are lost
    # are simply due again, and a worker holding a lost claim finds nothing to send), so
    # the commit does not wait for the disk: that wait was a tenth of a dispatch.
    claim = claim_due(session, now=now or utcnow(), limit=rules.dispatch_limit, rules=rules, durable=False)
    if backlog is not None and len(claim.ids) >= rules.dispatch_limit:
        on_commit(session, backlog)
    for start in range(0, len(claim.ids), rules.batch_size):
        batch = claim.ids[start:start + rules.batch_size]
        on_commit(session, lambda batch=batch: enqueue(batch, claim.token))
    return claim


def sweep_claims(session: Session, *, now: datetime | None = None) -> int:
    """Forget the claims that no longer hold a message nor count for a rate limit; returns how many."""
    now = now or utcnow()
    result = session.connection().execute(
        sa.delete(CLAIMS).where(CLAIMS.c.lease_until < now, CLAIMS.c.claimed_at < now - RATE_WINDOW))
    return result.rowcount


# --- delivering ----------------------------------------------------------------------
#
# The per-message hot path. Its statements are built once, with bound parameters, and run
# on the session's connection: building and caching a statement per message used to cost
# more than running it. A batch's content is read in one query up front; per message there
# is one short transaction that records the previous answer and starts the next message.


def backoff(attempts: int, rules: SendingRules) -> timedelta:
    """Exponential, capped, with jitter so retries from one outage do not arrive together."""
    ceiling = min(rules.retry_cap_seconds, rules.retry_base_seconds * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=ceiling / 2 + random.uniform(0, ceiling / 2))


@dataclass(frozen=True)
class Started:
    mail: OutgoingMail
    attempt_id: int
    attempts: int


_MAIL_COLUMNS = (OUTBOX.c.id, OUTBOX.c.sender, OUTBOX.c.recipient_address, OUTBOX.c.recipient_name,
                 OUTBOX.c.subject, OUTBOX.c.message_id, OUTBOX.c.text_body, OUTBOX.c.html_body, OUTBOX.c.reply_to,
                 OUTBOX.c.in_reply_to, OUTBOX.c.thread_references)
ATTACHMENTS = OutboxAttachment.__table__
_UNSENT = (OutboxStatus.scheduled, OutboxStatus.sending)
_LOAD_MAILS = (sa.select(*_MAIL_COLUMNS)
               .join(CLAIMS, CLAIMS.c.message_id == OUTBOX.c.id)
               .where(OUTBOX.c.id.in_(sa.bindparam("b_ids", expanding=True)),
                      CLAIMS.c.token == sa.bindparam("b_claim"), OUTBOX.c.status.in_(_UNSENT)))
_LOAD_ATTACHMENTS = (sa.select(ATTACHMENTS.c.outbox_message_id, ATTACHMENTS.c.filename, ATTACHMENTS.c.content_type,
                               ATTACHMENTS.c.content)
                     .where(ATTACHMENTS.c.outbox_message_id.in_(sa.bindparam("b_ids", expanding=True)))
                     .order_by(ATTACHMENTS.c.id))
_CLAIMED = sa.and_(OUTBOX.c.id == sa.bindparam("b_id"), OUTBOX.c.claimed_by == sa.bindparam("b_claim"))
# The message's latest claim holds it: once another dispatcher has claimed it again (its
# lease having run out), the earlier claim's worker finds nothing to send. A claim whose
# lease ran out but that nobody replaced still may start it: a slow worker still sends.
_MINE, _LATER = CLAIMS.alias("mine"), CLAIMS.alias("later")
_HOLDS_CLAIM = sa.exists(
    sa.select(_MINE.c.message_id)
    .where(_MINE.c.message_id == sa.bindparam("b_id"), _MINE.c.token == sa.bindparam("b_claim"),
           ~sa.exists(sa.select(_LATER.c.message_id).where(_LATER.c.message_id == _MINE.c.message_id,
                                                            _LATER.c.claimed_at > _MINE.c.claimed_at))))
# Started only if the row itself still says it may go (not cancelled, paused, moved later,
# or started by another worker whose lease still runs): a concurrent change to the row is
# re-checked by PostgreSQL before it updates, which a check on another table would not be.
_START = (sa.update(OUTBOX)
          .where(OUTBOX.c.id == sa.bindparam("b_id"), sa.or_(*(OUTBOX.c.status == status for status in _UNSENT)),
                 OUTBOX.c.paused.is_(False),
                 OUTBOX.c.next_attempt_at <= sa.bindparam("b_now"), _HOLDS_CLAIM)
          .values(status=OutboxStatus.sending, claimed_by=sa.bindparam("b_claim"), claimed_at=sa.bindparam("b_now"),
                  send_started_at=sa.bindparam("b_now"), lease_expires_at=sa.bindparam("b_lease"),
                  next_attempt_at=sa.bindparam("b_lease"), attempts=OUTBOX.c.attempts + 1,
                  updated_at=sa.bindparam("b_now"))
          .returning(OUTBOX.c.attempts))
# Not started (paused, cancelled or rescheduled while it waited in the queue) or retried
# later: the claim is given up, so the message is due again as soon as it may go.
_RELEASE_CLAIM = (sa.update(CLAIMS)
                  .where(CLAIMS.c.message_id == sa.bindparam("b_id"), CLAIMS.c.token == sa.bindparam("b_claim"))
                  .values(lease_until=sa.bindparam("b_now")))
_ADD_ATTEMPT = (sa.insert(ATTEMPTS)
                .values(outbox_message_id=sa.bindparam("b_id"), number=sa.bindparam("b_number"),
                        worker=sa.bindparam("b_worker"), started_at=sa.bindparam("b_now"),
                        outcome=DeliveryOutcome.sending, response="")
                .returning(ATTEMPTS.c.id))
_RELEASE = {"claimed_by": None, "lease_expires_at": None, "updated_at": sa.bindparam("b_now"),
            "smtp_response": sa.bindparam("b_answer"), "last_error": sa.bindparam("b_error")}
_RECORD = {
    OutboxStatus.sent: sa.update(OUTBOX).where(_CLAIMED).values(**_RELEASE, status=OutboxStatus.sent,
                                                                sent_at=sa.bindparam("b_now")),
    OutboxStatus.failed: sa.update(OUTBOX).where(_CLAIMED).values(**_RELEASE, status=OutboxStatus.failed),
    OutboxStatus.scheduled: sa.update(OUTBOX).where(_CLAIMED).values(
        **_RELEASE, status=OutboxStatus.scheduled, next_attempt_at=sa.bindparam("b_next"), send_started_at=None),
}
_FINISH_ATTEMPT = (sa.update(ATTEMPTS).where(ATTEMPTS.c.id == sa.bindparam("b_attempt"))
                   .values(outcome=sa.bindparam("b_outcome"), finished_at=sa.bindparam("b_now"),
                           response=sa.bindparam("b_response"), smtp_code=sa.bindparam("b_code")))


def load_mails(session: Session, *, ids: Sequence[int], claim: str) -> dict[int, OutgoingMail]:
    """The unsent messages carrying the claim, with their attachments, in two queries.

    Whether the claim still holds each one is checked as it starts (``_HOLDS_CLAIM``).
    """
    if not ids:
        return {}
    connection = session.connection()
    rows = connection.execute(_LOAD_MAILS, {"b_ids": list(ids), "b_claim": claim}).all()
    files: dict[int, list[Attachment]] = {}
    for row in connection.execute(_LOAD_ATTACHMENTS, {"b_ids": [row.id for row in rows]}) if rows else ():
        files.setdefault(row.outbox_message_id, []).append(Attachment(row.filename, row.content_type, row.content))
    return {row.id: OutgoingMail(
        sender=row.sender, recipient_address=row.recipient_address, recipient_name=row.recipient_name,
        subject=row.subject, message_id=row.message_id or make_message_id(row.id), text_body=row.text_body,
        html_body=row.html_body, reply_to=row.reply_to, in_reply_to=row.in_reply_to,
        references=row.thread_references, attachments=tuple(files.get(row.id, ()))) for row in rows}


def start_attempt(session: Session, *, message_id: int, claim: str, now: datetime, worker: str = "",
                  rules: SendingRules | None = None, mail: OutgoingMail | None = None) -> Started | None:
    """Re-check the claim and mark the message started; None when it is no longer ours to send.

    ``mail`` is the message as ``load_mails`` read it; it is read here when not given.
    """
    rules = rules or SendingRules.from_settings()
    connection = session.connection()
    params = {"b_id": message_id, "b_claim": claim, "b_now": now,
              "b_lease": now + timedelta(seconds=rules.lease_seconds)}
    started = prepared.run(connection, _START, params)
    if not started:
        prepared.run(connection, _RELEASE_CLAIM, params)
        return None
    attempts = started[0][0]
    if mail is None:
        mail = load_mails(session, ids=[message_id], claim=claim)[message_id]
    [(attempt_id,)] = prepared.run(connection, _ADD_ATTEMPT, {"b_id": message_id, "b_number": attempts, "b_now": now,
                                                             "b_worker": worker or worker_name()})
    return Started(mail=mail, attempt_id=attempt_id, attempts=attempts)


def record_result(session: Session, *, message_id: int, claim: str, started: Started,
                  result: Accepted | DeliveryError, now: datetime, rules: SendingRules | None = None) -> OutboxStatus:
    """Record the server's answer and the message's new state in one transaction."""
    rules = rules or SendingRules.from_settings()
    status, outcome, answer, error, text, retry_at = _outcome(started, result, now, rules)
    params = {"b_id": message_id, "b_claim": claim, "b_now": now, "b_answer": answer, "b_error": error}
    if retry_at is not None:
        params["b_next"] = retry_at
    connection = session.connection()
    prepared.run(connection, _RECORD[status], params)
    if status == OutboxStatus.scheduled:
        prepared.run(connection, _RELEASE_CLAIM, params)
    prepared.run(connection, _FINISH_ATTEMPT, {"b_attempt": started.attempt_id, "b_outcome": outcome, "b_now": now,
                                               "b_response": text[:2000], "b_code": result.code})
    return status


# On PostgreSQL each statement is a round trip to the server, and these were most of a
# message's time: the previous message's answer and the next message's start go in one
# statement (data-modifying CTEs, each run once whatever the main query reads).
_PG_STEP = sa.text("""
WITH recorded AS (
    UPDATE outbox_message
    SET status = CAST(:r_status AS VARCHAR), claimed_by = NULL, lease_expires_at = NULL,
        updated_at = CAST(:now AS TIMESTAMPTZ), smtp_response = :r_answer, last_error = :r_error,
        sent_at = CASE WHEN CAST(:r_status AS VARCHAR) = 'sent' THEN CAST(:now AS TIMESTAMPTZ) ELSE sent_at END,
        next_attempt_at = CASE WHEN CAST(:r_status AS VARCHAR) = 'scheduled' THEN CAST(:r_next AS TIMESTAMPTZ)
                               ELSE next_attempt_at END,
        send_started_at = CASE WHEN CAST(:r_status AS VARCHAR) = 'scheduled' THEN NULL ELSE send_started_at END
    WHERE id = :r_id AND claimed_by = :claim
), released AS (
    UPDATE outbox_claim SET lease_until = CAST(:now AS TIMESTAMPTZ)
    WHERE message_id = :r_id AND token = :claim AND CAST(:r_status AS VARCHAR) = 'scheduled'
), finished AS (
    UPDATE delivery_attempt
    SET outcome = :r_outcome, finished_at = CAST(:now AS TIMESTAMPTZ), response = :r_response, smtp_code = :r_code
    WHERE id = :r_attempt
), started AS (
    UPDATE outbox_message
    SET status = 'sending', claimed_by = :claim, claimed_at = CAST(:now AS TIMESTAMPTZ),
        send_started_at = CAST(:now AS TIMESTAMPTZ), lease_expires_at = CAST(:lease AS TIMESTAMPTZ),
        next_attempt_at = CAST(:lease AS TIMESTAMPTZ), attempts = attempts + 1, updated_at = CAST(:now AS TIMESTAMPTZ)
    WHERE id = :s_id AND status IN ('scheduled', 'sending') AND paused IS false
      AND next_attempt_at <= CAST(:now AS TIMESTAMPTZ)
      AND EXISTS (SELECT 1 FROM outbox_claim mine WHERE mine.message_id = :s_id AND mine.token = :claim
                  AND NOT EXISTS (SELECT 1 FROM outbox_claim later WHERE later.message_id = :s_id
                                  AND later.claimed_at > mine.claimed_at))
    RETURNING id, attempts
)
INSERT INTO delivery_attempt (outbox_message_id, number, worker, started_at, outcome, response)
SELECT id, attempts, :worker, CAST(:now AS TIMESTAMPTZ), 'sending', '' FROM started
RETURNING id, number
""").bindparams(sa.bindparam("now", type_=sa.DateTime(timezone=True)),
                sa.bindparam("lease", type_=sa.DateTime(timezone=True)),
                sa.bindparam("r_next", type_=sa.DateTime(timezone=True)),
                sa.bindparam("r_code", type_=sa.Integer), sa.bindparam("r_id", type_=sa.Integer),
                sa.bindparam("r_attempt", type_=sa.Integer), sa.bindparam("s_id", type_=sa.Integer))


def _outcome(started: Started, result: Accepted | DeliveryError, now: datetime,
             rules: SendingRules) -> tuple[OutboxStatus, DeliveryOutcome, str, str, str, datetime | None]:
    """The message's new status, the attempt's outcome, and the texts recorded: (answer, error, response)."""
    if isinstance(result, Accepted):
        return OutboxStatus.sent, DeliveryOutcome.sent, result.response, "", result.response, None
    if isinstance(result, PermanentFailure):
        return OutboxStatus.failed, DeliveryOutcome.failed, result.text, result.text, result.text, None
    if started.attempts >= rules.max_attempts:
        text = f"{result.text} (gave up after {started.attempts} attempts)"
        return OutboxStatus.failed, DeliveryOutcome.failed, result.text, text, text, None
    return (OutboxStatus.scheduled, DeliveryOutcome.retry, result.text, result.text, result.text,
            now + backoff(started.attempts, rules))


def _step_postgresql(session: Session, *, claim: str, now: datetime, worker: str, rules: SendingRules,
                     answered: tuple[int, Started, Accepted | DeliveryError] | None,
                     next_id: int | None, mail: OutgoingMail | None) -> tuple[OutboxStatus | None, Started | None]:
    params = {"claim": claim, "now": now, "worker": worker, "lease": now + timedelta(seconds=rules.lease_seconds),
              "s_id": next_id, "r_id": None, "r_attempt": None, "r_status": None, "r_outcome": None,
              "r_answer": None, "r_error": None, "r_response": None, "r_code": None, "r_next": None}
    status = None
    if answered is not None:
        done_id, started, result = answered
        status, outcome, answer, error, response, retry_at = _outcome(started, result, now, rules)
        params.update(r_id=done_id, r_attempt=started.attempt_id, r_status=status.value, r_outcome=outcome.value,
                      r_answer=answer, r_error=error, r_response=response[:2000], r_code=result.code,
                      r_next=retry_at)
    rows = prepared.run(session.connection(), _PG_STEP, params)
    if next_id is None or not rows:
        return status, None
    [(attempt_id, number)] = rows
    return status, Started(mail=mail, attempt_id=attempt_id, attempts=number)


def _step(session: Session, *, claim: str, now: datetime, worker: str, rules: SendingRules,
          answered: tuple[int, Started, Accepted | DeliveryError] | None,
          next_id: int | None, mail: OutgoingMail | None) -> tuple[OutboxStatus | None, Started | None]:
    """Record the previous message's answer and start the next one, in the caller's transaction.

    Returns the previous message's new status and the next one's start (None when it is
    no longer ours to send: its claim is then given up).
    """
    if session.get_bind().dialect.name == "postgresql":
        status, started = _step_postgresql(session, claim=claim, now=now, worker=worker, rules=rules,
                                           answered=answered, next_id=next_id, mail=mail)
        if next_id is not None and started is None:
            prepared.run(session.connection(), _RELEASE_CLAIM, {"b_id": next_id, "b_claim": claim, "b_now": now})
        return status, started
    status = None
    if answered is not None:
        done_id, started, result = answered
        status = record_result(session, message_id=done_id, claim=claim, started=started, result=result, now=now,
                               rules=rules)
    if next_id is None:
        return status, None
    return status, start_attempt(session, message_id=next_id, claim=claim, now=now, worker=worker, rules=rules,
                                 mail=mail)


class _FileLock:
    """An exclusive lock on a file, held around each of a worker's write transactions on SQLite.

    SQLite makes a writer that finds the database locked sleep and retry (1, 2, 5, 10 ms
    and up), so two workers committing once per message each spent most of their time
    asleep. Waiting on this lock instead wakes a worker the moment the other one is done.
    """

    def __init__(self, path: str):
        self.path = path
        self.fd: int | None = None

    def __enter__(self) -> None:
        if self.fd is None:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


_WRITER_LOCKS: dict[tuple[int, str], _FileLock] = {}


def _sqlite_writer_lock(session: Session) -> AbstractContextManager:
    url = session.get_bind().engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return nullcontext()
    key = (os.getpid(), url.database)  # a forked worker child opens its own descriptor
    if key not in _WRITER_LOCKS:
        _WRITER_LOCKS[key] = _FileLock(f"{url.database}.writer-lock")
    return _WRITER_LOCKS[key]


def deliver_batch(open_session: Callable[[], AbstractContextManager[Session]], *, ids: Sequence[int], claim: str,
                  backend, rules: SendingRules | None = None) -> Counter:
    """Send the claimed messages one by one, committing each answer before the next goes.

    One transaction records the previous message's answer and starts the next one, so
    at most one message per worker is ever sent but not yet recorded.
    """
    rules = rules or SendingRules.from_settings()
    worker = worker_name()
    tally: Counter = Counter()
    with open_session() as session:
        mails = load_mails(session, ids=ids, claim=claim)
        # Ends the read: on SQLite a transaction that read first and then writes fails when
        # another worker has written meanwhile; every transaction below begins with a write.
        session.commit()
        if len(mails) < len(ids):
            tally["skipped"] = len(ids) - len(mails)  # cancelled, rescheduled or re-claimed while queued
        answered: tuple[int, Started, Accepted | DeliveryError] | None = None
        writer_lock = _sqlite_writer_lock(session)
        for message_id in [*(i for i in ids if i in mails), None]:
            with writer_lock:
                status, started = _step(session, claim=claim, now=utcnow(), worker=worker, rules=rules,
                                        answered=answered, next_id=message_id,
                                        mail=mails[message_id] if message_id is not None else None)
                session.commit()
            if status is not None:
                tally[status.value] += 1
            answered = None
            if message_id is None:
                break
            if started is None:
                tally["skipped"] += 1
                continue
            try:
                result = backend.send(started.mail)
            except DeliveryError as error:
                result = error
            answered = (message_id, started, result)
    return tally


# --- the staff page ---------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignSends:
    id: int
    name: str
    timezone: str
    paused: bool


def overview(session: Session, *, status: OutboxStatus | None, limit: int = 100) -> dict:
    """What the outbox page shows: counts, a page of messages, and each campaign's zone and pause."""
    paused = paused_campaign_ids(session)
    campaigns = [CampaignSends(c.id, c.name, c.timezone, c.id in paused)
                 for c in session.exec(select(Campaign).order_by(Campaign.name))]
    return {"counts": count_by_status(session), "messages": list_messages(session, status=status, limit=limit),
            "campaigns": campaigns, "zones": {c.id: c.timezone for c in campaigns}}
