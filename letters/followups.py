"""Follow-ups: sent items with no logged response after a campaign's set number of days.

A campaign's rules say, for sent letters and for signing invitations, after how many
days without a response to act, and how: remind the owner (the follow-up shows on the
follow-ups page and in the daily digest) or queue a chaser, which is held as an open
follow-up until staff approve it and only then becomes an outbox row.

``scan_followups`` is idempotent: each follow-up carries a ``source_key`` naming the
item it follows (for invitations, also the chasing round), so a second scan finds the
rows the first one made. Invitations are chased round after round until signing closes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, select

from campaign import audit
from campaign.accounts.models import Role, User
from campaign.db import UTCDateTime, one_at_a_time, utcnow
from campaign.errors import Conflict, FieldError, InvalidInput, NotFound
from campaign.models import Campaign
from contacts.models import Person
from letters.models import (FollowUp, FollowUpAction, FollowUpKind, FollowUpRule, FollowUpSource, FollowUpStatus,
                            Letter, LetterState, Response, Signature, SignatureStatus, SigningInvitation)
from workers.models import OutboxKind, OutboxMessage, OutboxStatus

LETTER_MAIL_KINDS = (OutboxKind.letter, OutboxKind.personalised_letter, OutboxKind.question_suggestion)


class FollowUpRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    applies_to: FollowUpSource
    days: int = Field(ge=1, le=365)
    action: FollowUpAction = FollowUpAction.remind_owner
    enabled: bool = True


class FollowUpRuleRead(FollowUpRuleIn):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    id: int
    campaign_id: int


class FollowUpRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_id: int
    person_id: int
    letter_id: int | None
    outbox_message_id: int | None
    invitation_id: int | None
    kind: FollowUpKind
    status: FollowUpStatus
    sent_at: datetime
    due_at: datetime
    closed_at: datetime | None
    closed_by_response_id: int | None
    chaser_outbox_id: int | None


# --- rules -----------------------------------------------------------------------


def set_rule(session: Session, *, campaign_id: int, rule_in: FollowUpRuleIn, actor) -> FollowUpRule:
    """Create or replace the campaign's rule for one kind of sent item."""
    if session.get(Campaign, campaign_id) is None:
        raise NotFound(f"There is no campaign with id {campaign_id}.")
    rule = session.exec(select(FollowUpRule).where(FollowUpRule.campaign_id == campaign_id,
                                                   FollowUpRule.applies_to == rule_in.applies_to)).first()
    before = None
    if rule is None:
        rule = FollowUpRule(campaign_id=campaign_id, applies_to=rule_in.applies_to)
    else:
        before = {"days": rule.days, "action": rule.action.value, "enabled": rule.enabled}
    rule.days, rule.action, rule.enabled, rule.updated_at = rule_in.days, rule_in.action, rule_in.enabled, utcnow()
    session.add(rule)
    session.flush()
    audit.record(session, actor=actor, action="follow_up_rule.set", entity_type="follow_up_rule", entity_id=rule.id,
                 before=before, after={"campaign_id": campaign_id, "applies_to": rule.applies_to.value,
                                       "days": rule.days, "action": rule.action.value, "enabled": rule.enabled})
    return rule


def list_rules(session: Session, *, campaign_id: int | None = None) -> list[FollowUpRule]:
    query = select(FollowUpRule).order_by(FollowUpRule.campaign_id, FollowUpRule.applies_to)
    if campaign_id is not None:
        query = query.where(FollowUpRule.campaign_id == campaign_id)
    return list(session.exec(query))


# --- the scan --------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    source_key: str
    campaign_id: int
    person_id: int
    sent_at: datetime
    letter_id: int | None = None
    outbox_message_id: int | None = None
    invitation_id: int | None = None


def _responded(session: Session, *, person_id: int, campaign_id: int, letter_id: int | None,
               since: datetime) -> bool:
    """Whether the person has a response logged since the item went out (on this letter, if it has one)."""
    query = select(Response.id).where(Response.person_id == person_id, Response.campaign_id == campaign_id,
                                      Response.occurred_date >= since.date())
    if letter_id is not None:
        query = query.where(Response.letter_id == letter_id)
    return session.exec(query.limit(1)).first() is not None


def _invitation_candidates(session: Session, rule: FollowUpRule, now: datetime) -> Iterable[Candidate]:
    """Invitations with no signature, while signing is open; each chase starts a new round."""
    query = (select(SigningInvitation, Letter)
             .join(Letter, Letter.id == SigningInvitation.letter_id)
             .outerjoin(Signature, (Signature.letter_id == SigningInvitation.letter_id)
                        & (Signature.person_id == SigningInvitation.person_id))
             .where(Letter.campaign_id == rule.campaign_id, Letter.state == LetterState.open_for_signatures,
                    Signature.id.is_(None)))
    for invitation, letter in session.exec(query):
        if letter.signing_closes_at is not None and letter.signing_closes_at <= now:
            continue
        if invitation.expires_at <= now:
            continue
        sent_at = invitation.last_chased_at or invitation.created_at
        yield Candidate(f"invitation:{invitation.id}:{invitation.chase_count}", letter.campaign_id,
                        invitation.person_id, sent_at, letter_id=letter.id, invitation_id=invitation.id)


LETTERS = Letter.__table__
OUTBOX = OutboxMessage.__table__
PEOPLE = Person.__table__


@lru_cache(maxsize=2)
def _letter_candidate_query(windowed: bool):
    """A campaign's sent letters and letter e-mails from ``b_since`` (when windowed) to ``b_cutoff``.

    One statement, so one round trip for both, built once with bound parameters: the two ORM
    queries it replaces, built at each scan and one loading whole letters, were most of the
    time of a scan in steady state, when it finds nothing. ``source`` tells the two kinds of
    row apart.
    """
    campaign = sa.bindparam("b_campaign", type_=sa.Integer)
    cutoff = sa.bindparam("b_cutoff", type_=UTCDateTime)
    letters = (sa.select(sa.literal("letter").label("source"), LETTERS.c.id, LETTERS.c.sent_at,
                         LETTERS.c.addressees, sa.cast(sa.null(), sa.Integer).label("person_id"))
               .where(LETTERS.c.campaign_id == campaign, LETTERS.c.state == LetterState.sent,
                      LETTERS.c.sent_at.is_not(None), LETTERS.c.sent_at <= cutoff))
    mails = (sa.select(sa.literal("outbox"), OUTBOX.c.id, OUTBOX.c.sent_at,
                       sa.cast(sa.null(), LETTERS.c.addressees.type), sa.func.min(PEOPLE.c.id))
             .join(PEOPLE, PEOPLE.c.email == OUTBOX.c.recipient_address)
             .where(OUTBOX.c.campaign_id == campaign, OUTBOX.c.sent_at <= cutoff,
                    OUTBOX.c.status == OutboxStatus.sent, OUTBOX.c.kind.in_(LETTER_MAIL_KINDS))
             .group_by(OUTBOX.c.id, OUTBOX.c.sent_at))
    if windowed:
        since = sa.bindparam("b_since", type_=UTCDateTime)
        letters = letters.where(LETTERS.c.sent_at > since)
        mails = mails.where(OUTBOX.c.sent_at > since)
    return sa.union_all(letters, mails)


def _letter_candidates(session: Session, rule: FollowUpRule, now: datetime) -> Iterable[Candidate]:
    """Letters and letter e-mails that became due since the rule's last scan.

    Due means sent at least ``rule.days`` ago; items that were due at an earlier scan were
    followed up then (or had a response), so each scan reads only the window since the last.
    """
    since = rule.scanned_through
    params = {"b_campaign": rule.campaign_id, "b_cutoff": now - timedelta(days=rule.days)}
    if since is not None:
        params["b_since"] = since
    rows = session.execute(_letter_candidate_query(since is not None), params).all()
    for source, letter_id, sent_at, addressees, _ in rows:
        if source == "letter":
            for addressee in addressees or ():
                person_id = addressee.get("person_id")
                if person_id:
                    yield Candidate(f"letter:{letter_id}:person:{person_id}", rule.campaign_id, int(person_id),
                                    sent_at, letter_id=letter_id)
    for source, message_id, sent_at, _, person_id in rows:
        if source == "outbox":
            yield Candidate(f"outbox:{message_id}", rule.campaign_id, person_id, sent_at,
                            outbox_message_id=message_id)


def scan_followups(session: Session, *, now: datetime | None = None) -> list[FollowUp]:
    """Create the follow-ups that are due at ``now``; returns the new ones (none on a second run)."""
    now = now or utcnow()
    created: list[FollowUp] = []
    # The rules are locked until the transaction ends, so a scan run twice at once (two beats
    # by mistake, a redelivered task) runs in turn: the second reads the rules as the first
    # left them, then finds its follow-ups. Row locks taken by the query that reads them: the
    # advisory lock they replace was a round trip of its own.
    rules = session.exec(select(FollowUpRule).where(FollowUpRule.enabled.is_(True)).order_by(FollowUpRule.id)
                         .with_for_update(key_share=True).execution_options(populate_existing=True)).all()
    for rule in rules:
        finder = _invitation_candidates if rule.applies_to is FollowUpSource.signing_invitation else _letter_candidates
        candidates = [c for c in finder(session, rule, now) if c.sent_at + timedelta(days=rule.days) <= now]
        if rule.applies_to is FollowUpSource.letter:
            cutoff = now - timedelta(days=rule.days)
            rule.scanned_through = max(cutoff, rule.scanned_through) if rule.scanned_through else cutoff
            session.add(rule)
        if not candidates:
            continue
        keys = [c.source_key for c in candidates]
        existing = set(session.exec(select(FollowUp.source_key).where(FollowUp.source_key.in_(keys))))
        for candidate in candidates:
            if candidate.source_key in existing:
                continue
            existing.add(candidate.source_key)
            if _responded(session, person_id=candidate.person_id, campaign_id=candidate.campaign_id,
                          letter_id=candidate.letter_id, since=candidate.sent_at):
                continue
            kind = FollowUpKind.chaser if rule.action is FollowUpAction.queue_chaser else FollowUpKind.reminder
            follow_up = FollowUp(source_key=candidate.source_key, campaign_id=candidate.campaign_id,
                                 person_id=candidate.person_id, letter_id=candidate.letter_id,
                                 outbox_message_id=candidate.outbox_message_id,
                                 invitation_id=candidate.invitation_id, rule_id=rule.id, kind=kind,
                                 sent_at=candidate.sent_at, due_at=candidate.sent_at + timedelta(days=rule.days),
                                 created_at=now)
            session.add(follow_up)
            created.append(follow_up)
    session.flush()
    if created:
        audit.record(session, actor="followups.scan", action="follow_up.scan", entity_type="follow_up",
                     after={"created": [f.id for f in created], "now": now})
    return created


# --- reading and acting ----------------------------------------------------------


def get_followup(session: Session, *, follow_up_id: int) -> FollowUp:
    follow_up = session.get(FollowUp, follow_up_id)
    if follow_up is None:
        raise NotFound(f"There is no follow-up with id {follow_up_id}.")
    return follow_up


def list_followups(session: Session, *, status: FollowUpStatus | None = FollowUpStatus.open,
                   campaign_id: int | None = None, person_id: int | None = None,
                   limit: int = 500) -> list[FollowUp]:
    query = select(FollowUp).order_by(FollowUp.due_at, FollowUp.id).limit(limit)
    if status is not None:
        query = query.where(FollowUp.status == status)
    if campaign_id is not None:
        query = query.where(FollowUp.campaign_id == campaign_id)
    if person_id is not None:
        query = query.where(FollowUp.person_id == person_id)
    return list(session.exec(query))


def _chaser_text(session: Session, follow_up: FollowUp, person: Person) -> tuple[str, str, str, str]:
    """Subject, text, and the threading headers of a chaser."""
    from letters.service import signing_link

    letter = session.get(Letter, follow_up.letter_id) if follow_up.letter_id else None
    original = session.get(OutboxMessage, follow_up.outbox_message_id) if follow_up.outbox_message_id else None
    title = letter.title if letter else (original.subject if original else "our letter")
    greeting = f"Dear {person.name},\n\n"
    if follow_up.invitation_id:
        invitation = session.get(SigningInvitation, follow_up.invitation_id)
        text = (f"{greeting}We wrote to invite you to co-sign “{title}” and have not yet heard from you. "
                f"You can read and sign it here:\n{signing_link(invitation)}\n")
        return f"Reminder: invitation to co-sign {title}", text, "", ""
    text = (f"{greeting}We wrote to you on {follow_up.sent_at:%d %B %Y} about “{title}” and have not yet "
            f"received a reply. We would be grateful for your response.\n")
    subject = f"Re: {original.subject}" if original else f"Re: {title}"
    reference = (original.message_id or "") if original else ""
    return subject, text, reference, reference


def approve_chaser(session: Session, *, follow_up_id: int, actor, now: datetime | None = None) -> FollowUp:
    """Staff approve a pending chaser: only now does it become an outbox row."""
    from workers import outbox

    follow_up = get_followup(session, follow_up_id=follow_up_id)
    if follow_up.kind is not FollowUpKind.chaser or follow_up.status is not FollowUpStatus.open:
        raise Conflict(f"Follow-up {follow_up_id} is not a chaser waiting for approval "
                       f"({follow_up.kind.value}, {follow_up.status.value}).")
    person = session.get(Person, follow_up.person_id)
    if not person.email:
        raise InvalidInput(f"{person.name} has no e-mail address to chase.",
                           errors=[FieldError("person_id", "no e-mail address")])
    now = now or utcnow()
    subject, text, in_reply_to, references = _chaser_text(session, follow_up, person)
    message = outbox.schedule(session, recipient_address=person.email, recipient_name=person.name, subject=subject,
                              text_body=text, scheduled_at=now, kind=OutboxKind.chaser,
                              campaign_id=follow_up.campaign_id, in_reply_to=in_reply_to, references=references,
                              actor=actor)
    message.letter_id = follow_up.letter_id
    follow_up.status = FollowUpStatus.chaser_queued
    follow_up.chaser_outbox_id = message.id
    follow_up.approved_by_id = getattr(actor, "id", None)
    if follow_up.invitation_id:
        invitation = session.get(SigningInvitation, follow_up.invitation_id)
        invitation.chase_count += 1
        invitation.last_chased_at = now
    session.flush()
    audit.record(session, actor=actor, action="follow_up.approve_chaser", entity_type="follow_up",
                 entity_id=follow_up.id, before={"status": "open"},
                 after={"status": follow_up.status.value, "outbox_message_id": message.id})
    return follow_up


# --- the daily digest ------------------------------------------------------------

DIGEST_HOUR_UTC = 7  # the first scan at or after this hour sends the day's digest
DIGEST_LINES = 50  # per section; the pages have the rest


@dataclass
class Digest:
    since: datetime
    signatures: list[tuple[str, str]]  # (person, letter)
    responses: list[tuple[str, str]]  # (person, what)
    due: list[tuple[str, str, datetime]]  # (person, what, due)
    failures: list[tuple[str, str, str]]  # (recipient, subject, error)

    @property
    def empty(self) -> bool:
        return not (self.signatures or self.responses or self.due or self.failures)


def digest_since(session: Session, *, since: datetime, now: datetime) -> Digest:
    """What coordinators need to know about since ``since``, and every follow-up that is due."""
    signed = session.exec(select(Person.name, Letter.title)
                          .join(Signature, Signature.person_id == Person.id)
                          .join(Letter, Letter.id == Signature.letter_id)
                          .where(Signature.status == SignatureStatus.signed, Signature.responded_at >= since,
                                 Signature.responded_at < now)
                          .order_by(Signature.responded_at)).all()
    logged = session.exec(select(Person.name, Response)
                          .join(Response, Response.person_id == Person.id)
                          .where(Response.created_at >= since, Response.created_at < now)
                          .order_by(Response.created_at)).all()
    due = session.exec(select(Person.name, FollowUp)
                       .join(FollowUp, FollowUp.person_id == Person.id)
                       .where(FollowUp.status == FollowUpStatus.open, FollowUp.due_at <= now)
                       .order_by(FollowUp.due_at)).all()
    failed = session.exec(select(OutboxMessage)
                          .where(OutboxMessage.status == OutboxStatus.failed, OutboxMessage.updated_at >= since,
                                 OutboxMessage.updated_at < now)
                          .order_by(OutboxMessage.updated_at)).all()
    return Digest(
        since=since,
        signatures=[(name, title) for name, title in signed],
        responses=[(name, f"{r.kind.label.lower()} by {r.channel.value}" + (f": {r.summary[:120]}" if r.summary else ""))
                   for name, r in logged],
        due=[(name, ("chaser awaiting approval" if f.kind is FollowUpKind.chaser else "reminder")
              + (f" on letter {f.letter_id}" if f.letter_id else f" on message {f.outbox_message_id}"), f.due_at)
             for name, f in due],
        failures=[(m.recipient_address, m.subject, m.last_error[:200]) for m in failed])


def digest_text(digest: Digest, now: datetime) -> str:
    def section(title: str, rows: list[str]) -> list[str]:
        lines = [f"{title}: {len(rows)}"]
        lines += [f"  - {row}" for row in rows[:DIGEST_LINES]]
        if len(rows) > DIGEST_LINES:
            lines.append(f"  … and {len(rows) - DIGEST_LINES} more")
        return lines + [""]

    lines = [f"Cosign daily digest, {now:%d %B %Y}", f"Since {digest.since:%d %b %Y %H:%M} UTC.", ""]
    lines += section("New signatures", [f"{person} signed “{letter}”" for person, letter in digest.signatures])
    lines += section("Responses logged", [f"{person}: {what}" for person, what in digest.responses])
    lines += section("Follow-ups due", [f"{person}: {what}, due {due:%d %b %Y}" for person, what, due in digest.due])
    lines += section("Failed messages", [f"{to}: {subject} ({error})" for to, subject, error in digest.failures])
    return "\n".join(lines)


def send_digests(session: Session, *, now: datetime | None = None) -> list[OutboxMessage]:
    """Put the day's digest in the outbox for each active coordinator, once per day each.

    Nothing is sent before ``DIGEST_HOUR_UTC`` or when there is nothing to report. The
    subject names the day, so a second run that day finds the row and sends nothing.
    """
    from workers import outbox

    now = now or utcnow()
    if now.hour < DIGEST_HOUR_UTC:
        return []
    subject = f"Cosign daily digest, {now:%d %b %Y}"
    one_at_a_time(session, "followups.digest")
    coordinators = session.exec(select(User).where(User.role == Role.coordinator, User.is_active.is_(True))
                                .order_by(User.id)).all()
    made: list[OutboxMessage] = []
    for user in coordinators:
        previous = session.exec(select(OutboxMessage)
                                .where(OutboxMessage.kind == OutboxKind.digest,
                                       OutboxMessage.recipient_address == user.email)
                                .order_by(OutboxMessage.created_at.desc()).limit(1)).first()
        if previous is not None and previous.subject == subject:
            continue
        since = previous.created_at if previous is not None else now - timedelta(days=1)
        digest = digest_since(session, since=since, now=now)
        if digest.empty:
            continue
        made.append(outbox.schedule(session, recipient_address=user.email, recipient_name=user.name,
                                    subject=subject, text_body=digest_text(digest, now), scheduled_at=now,
                                    kind=OutboxKind.digest, actor="followups.digest"))
        # The window of the next digest starts where this one ended.
        made[-1].created_at = now
    session.flush()
    return made
