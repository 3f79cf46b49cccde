"""Privacy: everything held about one person, as JSON, and erasing a person.

Erasing keeps the person's row as a tombstone ("Erased person 123"): a signature on a letter
already sent must keep its printed name, and the signature's link to its person cannot be
null. Everything else about the person goes, in the caller's transaction, and the earlier
audit snapshots about them are scrubbed of personal values.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from campaign import audit
from campaign.audit import AuditEntry
from campaign.db import utcnow
from campaign.models import Ask, Event, EventPerson, EvidencePerson
from contacts.activity import addresses_of, outbox_messages_to
from contacts.imports.core import derived_names
from contacts.models import Identifier, Membership, Organization, Person, PersonTag, Stance
from contacts.service import get_person
from letters.models import (FollowUp, Letter, LetterState, Question, Response, Signature, SignatureStatus,
                            SigningInvitation)
from workers.models import OutboxAttachment, OutboxMessage, OutboxStatus

ERASED = "[erased]"
# Audit values that name rows rather than describe the person; everything else about them is scrubbed.
_KEEP_KEYS = {"id", "count", "messages", "state", "kept", "closed_follow_ups", "created", "now", "erased"}


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def _row(obj: Any, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {c.name: _plain(getattr(obj, c.name)) for c in obj.__table__.columns if c.name not in skip}


def _mentions(values: dict[str, Any] | None, person_id: int) -> bool:
    return isinstance(values, dict) and (values.get("person_id") == person_id or values.get("drop_id") == person_id)


def audit_entries_about(session: Session, *, person_id: int, event_ids: list[int] = (),
                        message_ids: list[int] = ()) -> list[AuditEntry]:
    """Entries on the person, on responses, signatures and follow-ups naming them, and on the
    timeline events their responses made and the messages sent to their address."""
    key = str(person_id)
    about_person = sa.or_(
        sa.and_(AuditEntry.entity_type == "person", AuditEntry.entity_id == key),
        sa.and_(AuditEntry.entity_type == "event", AuditEntry.entity_id.in_([str(i) for i in event_ids])),
        sa.and_(AuditEntry.entity_type == "outbox_message", AuditEntry.entity_id.in_([str(i) for i in message_ids])))
    mentioning = sa.and_(AuditEntry.entity_type.in_(["person", "response", "letter", "follow_up"]),
                         sa.or_(sa.cast(AuditEntry.after, sa.Text).contains(key),
                                sa.cast(AuditEntry.before, sa.Text).contains(key)))
    signer = AuditEntry.actor_label == f"signer:person-{person_id}"
    found = session.execute(sa.select(AuditEntry).where(sa.or_(about_person, mentioning, signer))
                            .order_by(AuditEntry.id)).scalars()
    return [entry for entry in found
            if entry.entity_type in ("event", "outbox_message")
            or (entry.entity_type == "person" and entry.entity_id == key)
            or entry.actor_label == f"signer:person-{person_id}"
            or _mentions(entry.after, person_id) or _mentions(entry.before, person_id)]


def _response_event_ids(session: Session, person_id: int) -> list[int]:
    return list(session.execute(sa.select(Response.event_id).where(
        Response.person_id == person_id, Response.event_id.is_not(None))).scalars())


def export_person(session: Session, *, person_id: int, actor: Any) -> dict[str, Any]:
    """Everything Cosign holds about one person, as plain JSON values; the export is audited."""
    person = get_person(session, person_id=person_id)
    messages = outbox_messages_to(session, person=person, letters_only=False)
    memberships = session.execute(sa.select(Membership, Organization).join(
        Organization, Organization.id == Membership.organization_id).where(Membership.person_id == person_id)
        .order_by(Membership.id)).all()
    stances = session.execute(sa.select(Stance, Ask.title).join(Ask, Ask.id == Stance.ask_id)
                              .where(Stance.person_id == person_id).order_by(Stance.id)).all()

    def rows(model, *where, skip: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        found = session.execute(sa.select(model).where(*where).order_by(model.id)).scalars()
        return [_row(r, skip=skip) for r in found]

    data = {
        "exported_at": utcnow().isoformat(),
        "person": _row(person),
        "identifiers": [{"scheme": i.scheme, "value": i.value} for i in session.execute(
            sa.select(Identifier).where(Identifier.person_id == person_id).order_by(Identifier.id)).scalars()],
        "tags": list(session.execute(sa.select(PersonTag.tag).where(PersonTag.person_id == person_id)
                                     .order_by(PersonTag.tag)).scalars()),
        "memberships": [{**_row(m), "organization_name": org.name} for m, org in memberships],
        "stances": [{**_row(s), "ask_title": title} for s, title in stances],
        "responses": rows(Response, Response.person_id == person_id),
        # The nonce is the secret half of a signing link: not something held *about* the person.
        "signing_invitations": rows(SigningInvitation, SigningInvitation.person_id == person_id, skip=("nonce",)),
        "signatures": rows(Signature, Signature.person_id == person_id),
        "follow_ups": rows(FollowUp, FollowUp.person_id == person_id),
        "questions_asked": rows(Question, Question.asking_member_id == person_id),
        "outbox_messages": [_row(m) for m in messages],
        "audit_entries": [_row(e) for e in audit_entries_about(
            session, person_id=person_id, event_ids=_response_event_ids(session, person_id),
            message_ids=[m.id for m in messages])],
    }
    audit.record(session, actor=actor, action="person.export", entity_type="person", entity_id=person_id,
                 after={"counts": {k: len(v) for k, v in data.items() if isinstance(v, list)}})
    return data


def _scrub(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if not isinstance(values, dict):
        return values
    return {k: v if (k in _KEEP_KEYS or k.endswith("_id") or k.endswith("_ids") or v is None) else ERASED
            for k, v in values.items()}


def erase_person(session: Session, *, person_id: int, actor: Any) -> Person:
    """Erase a person: their stances, responses, invitations, follow-ups, contact details and history.

    The row stays, renamed "Erased person <id>", so signatures on letters already sent keep
    their printed name; every other signature of theirs goes. Messages sent to their address
    lose the address and the text; those still waiting to go are cancelled.
    """
    person = get_person(session, person_id=person_id)
    addresses = addresses_of(person)
    messages = outbox_messages_to(session, person=person, letters_only=False)
    counts: dict[str, int] = {}

    def delete(name: str, statement) -> None:
        counts[name] = session.execute(statement).rowcount or 0

    response_events = _response_event_ids(session, person_id)
    entries = audit_entries_about(session, person_id=person_id, event_ids=response_events,
                                  message_ids=[m.id for m in messages])
    delete("follow_ups", sa.delete(FollowUp).where(FollowUp.person_id == person_id))
    delete("stances", sa.delete(Stance).where(Stance.person_id == person_id))
    delete("responses", sa.delete(Response).where(Response.person_id == person_id))
    if response_events:  # the timeline entries "<name>: reply (email)" made when their responses were logged
        delete("response_events", sa.delete(Event).where(Event.id.in_(response_events),
                                                          Event.origin == "responses"))
    sent = sa.select(Letter.id).where(Letter.state == LetterState.sent)
    delete("signatures", sa.delete(Signature).where(
        Signature.person_id == person_id,
        sa.or_(Signature.status != SignatureStatus.signed, Signature.letter_id.not_in(sent))))
    session.execute(sa.update(Signature).where(Signature.person_id == person_id)
                    .values(correction_note="", invitation_id=None))
    delete("signing_invitations", sa.delete(SigningInvitation).where(SigningInvitation.person_id == person_id))
    delete("identifiers", sa.delete(Identifier).where(Identifier.person_id == person_id))
    delete("tags", sa.delete(PersonTag).where(PersonTag.person_id == person_id))
    delete("memberships", sa.delete(Membership).where(Membership.person_id == person_id))
    delete("event_links", sa.delete(EventPerson).where(EventPerson.person_id == person_id))
    delete("evidence_links", sa.delete(EvidencePerson).where(EvidencePerson.person_id == person_id))
    counts["questions_unlinked"] = session.execute(sa.update(Question).where(Question.asking_member_id == person_id)
                                                   .values(asking_member_id=None)).rowcount or 0

    placeholder = f"Erased person {person_id}"
    if messages:
        # Conditional UPDATEs, as workers.outbox does, so none interleaves with a worker starting a
        # send: what has not started is cancelled; what a worker is sending right now is left to it.
        ids, now = [m.id for m in messages], utcnow()
        not_started = sa.or_(OutboxMessage.status == OutboxStatus.scheduled,
                             sa.and_(OutboxMessage.status == OutboxStatus.sending,
                                     OutboxMessage.send_started_at.is_(None)))
        counts["outbox_messages_cancelled"] = session.execute(
            sa.update(OutboxMessage).where(OutboxMessage.id.in_(ids), not_started)
            .values(status=OutboxStatus.cancelled, claimed_by=None, claimed_at=None, lease_expires_at=None,
                    last_error="cancelled: the recipient was erased", updated_at=now)
            .execution_options(synchronize_session=False)).rowcount or 0
        done = sa.select(OutboxMessage.id).where(OutboxMessage.id.in_(ids),
                                                 OutboxMessage.status != OutboxStatus.sending)
        session.execute(sa.delete(OutboxAttachment).where(OutboxAttachment.outbox_message_id.in_(done)))
        counts["outbox_messages_scrubbed"] = session.execute(
            sa.update(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.status != OutboxStatus.sending)
            .values(recipient_address=f"erased-person-{person_id}@erased.invalid", recipient_name=placeholder,
                    recipient_domain="erased.invalid", text_body="", html_body="", updated_at=now)
            .execution_options(synchronize_session=False)).rowcount or 0
        for message in messages:
            session.expire(message)

    for entry in entries:
        entry.before, entry.after = _scrub(entry.before), _scrub(entry.after)
    counts["audit_entries_scrubbed"] = len(entries)

    blank = {name: "" for name in ("given_name", "family_name", "sort_name", "honorific_prefix", "honorific_suffix",
                                   "email", "image_url", "gender", "notes")}
    for key, value in {**blank, "name": placeholder, "other_names": [], "emails": [], "phones": [], "addresses": [],
                       "links": [], "birth_date": None}.items():
        setattr(person, key, value)
    for key, value in derived_names({k: getattr(person, k) for k in ("name", "other_names", "sort_name",
                                                                      "family_name", "given_name")}).items():
        setattr(person, key, value)
    person.updated_at = utcnow()
    session.flush()
    audit.record(session, actor=actor, action="person.erase", entity_type="person", entity_id=person_id,
                 after={"erased": counts, "addresses_count": len(addresses)})
    return person
