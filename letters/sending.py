"""Sending a letter: one outbox message per recipient, and the letter marked sent once all have gone.

Scheduling renders the letter for each recipient with an e-mail address as it stands
(signatories, frozen citations, dated the day it goes) and puts it in the outbox. The
letter's own addressees get the print-ready PDF attached; the people a segment adds get
the personalised letter in the message. The workers deliver; ``settle_sent_letters``
then marks the letter sent, in one conditional update so two workers finishing the last
two messages at once cannot both do it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from campaign import audit
from campaign import service as campaign_service
from campaign.db import utcnow
from campaign.errors import Conflict, FieldError
from campaign.models import Campaign, EventKind
from letters.models import Letter, LetterState
from letters.rendering import Recipient, to_pdf
from workers import outbox
from workers.mail import Attachment
from workers.models import OutboxKind, OutboxMessage, OutboxStatus

UNSENT = (OutboxStatus.scheduled, OutboxStatus.sending)
# The letter itself; invitations and chasers about a letter also name it, but do not deliver it.
DELIVERS = (OutboxKind.letter, OutboxKind.personalised_letter)


@dataclass
class Delivery:
    """Where a letter's messages stand, for the letter page."""

    messages: list[OutboxMessage]
    counts: Counter
    recipients_without_email: list[str]

    @property
    def unsent(self) -> int:
        return sum(self.counts.get(status, 0) for status in UNSENT)


def pdf_filename(letter: Letter) -> str:
    stem = re.sub(r"[^A-Za-z0-9]+", "-", letter.title).strip("-").lower()[:80] or f"letter-{letter.id}"
    return f"{stem}.pdf"


def letter_messages(session: Session, *, letter_id: int) -> list[OutboxMessage]:
    return list(session.exec(select(OutboxMessage).where(OutboxMessage.letter_id == letter_id,
                                                         OutboxMessage.kind.in_(DELIVERS))
                             .order_by(OutboxMessage.id)))


def delivery(session: Session, *, letter: Letter, recipients: Iterable[Recipient]) -> Delivery:
    """The letter's messages by state, and the recipients (as the page already has them) without an address."""
    messages = letter_messages(session, letter_id=letter.id)
    counts = Counter(message.status for message in messages)
    missing = [r.formal_name for r in recipients if not r.email]
    return Delivery(messages=messages, counts=counts, recipients_without_email=missing)


def schedule_letter(session: Session, *, letter: Letter, when: datetime, actor) -> list[OutboxMessage]:
    """Render the letter for each recipient with an address and queue it to go at ``when`` (aware)."""
    from letters.merge import LetterMerge

    letter.scheduled_at = when  # the letter is dated the day it goes
    addressee_ids = {a["person_id"] for a in letter.addressees if a.get("person_id")}
    addressee_emails = {a.get("email", "").lower() for a in letter.addressees if a.get("email")}
    campaign = session.get(Campaign, letter.campaign_id)
    merge = LetterMerge(session, letter=letter)
    queued: list[OutboxMessage] = []
    for recipient in merge.recipients:
        if not recipient.email:
            continue
        named_on_letter = (recipient.person_id in addressee_ids if recipient.person_id is not None
                           else recipient.email.lower() in addressee_emails)
        merged = merge.render(recipient)
        attachments = ([Attachment(pdf_filename(letter), "application/pdf", to_pdf(merged.document))]
                       if named_on_letter else [])
        message = outbox.schedule(
            session, recipient_address=recipient.email, recipient_name=recipient.formal_name,
            subject=merged.subject or letter.title, text_body=merged.text, html_body=merged.html, scheduled_at=when,
            kind=OutboxKind.letter if named_on_letter else OutboxKind.personalised_letter,
            campaign_id=letter.campaign_id, reply_to=campaign.reply_to if campaign else None,
            attachments=attachments, actor=actor)
        message.letter_id = letter.id
        session.add(message)
        queued.append(message)
    session.flush()
    return queued


def reschedule_letter(session: Session, *, letter: Letter, when: datetime, actor) -> int:
    """Move every message of the letter that has not started going; refuse if one has."""
    _refuse_if_started(session, letter=letter, verb="rescheduled")
    moved = 0
    for message in letter_messages(session, letter_id=letter.id):
        if message.status in UNSENT:
            outbox.reschedule(session, message_id=message.id, scheduled_at=when, actor=actor)
            moved += 1
    letter.scheduled_at = when
    return moved


def unschedule_letter(session: Session, *, letter: Letter, actor, verb: str) -> int:
    """Cancel the letter's messages that have not gone; refuse if one already has (or is going)."""
    _refuse_if_started(session, letter=letter, verb=verb)
    cancelled = 0
    for message in letter_messages(session, letter_id=letter.id):
        if message.status in UNSENT:
            outbox.cancel(session, message_id=message.id, actor=actor)
            cancelled += 1
    letter.scheduled_at = None
    return cancelled


def refuse_manual_sent(session: Session, *, letter: Letter) -> None:
    """A letter the outbox is sending is marked sent by the outbox, when its last message has gone."""
    waiting = [m for m in letter_messages(session, letter_id=letter.id)
               if m.status in UNSENT or m.status == OutboxStatus.failed]
    if waiting:
        raise Conflict(f"{len(waiting)} of this letter's messages have not gone yet; the letter is marked sent "
                       "when the last one has been delivered (retry or cancel failed ones on the outbox page).",
                       errors=[FieldError("to", "sent")])


def _refuse_if_started(session: Session, *, letter: Letter, verb: str) -> None:
    started = [m for m in letter_messages(session, letter_id=letter.id)
               if m.status == OutboxStatus.sent or (m.status == OutboxStatus.sending and m.send_started_at)]
    if started:
        raise Conflict(f"{len(started)} of this letter's messages have already gone; it can no longer be {verb}.",
                       errors=[FieldError("to", "sent")])


def settle_sent_letters(session: Session, *, letter_ids: Iterable[int] | None = None) -> list[int]:
    """Mark sent each scheduled letter whose messages have all gone (cancelled ones aside).

    Returns the ids of the letters it marked. Safe to run at any time and twice.
    """
    pending = (sa.select(OutboxMessage.id)
               .where(OutboxMessage.letter_id == Letter.id, OutboxMessage.kind.in_(DELIVERS),
                      OutboxMessage.status.in_([*UNSENT, OutboxStatus.failed])).exists())
    delivered = (sa.select(sa.func.max(OutboxMessage.sent_at))
                 .where(OutboxMessage.letter_id == Letter.id, OutboxMessage.kind.in_(DELIVERS),
                        OutboxMessage.status == OutboxStatus.sent)
                 .scalar_subquery())
    query = select(Letter.id, delivered).where(Letter.state == LetterState.scheduled, ~pending,
                                               delivered.is_not(None))
    if letter_ids is not None:
        ids = sorted(set(letter_ids))
        if not ids:
            return []
        query = query.where(Letter.id.in_(ids))
    marked: list[int] = []
    for letter_id, sent_at in session.exec(query).all():
        result = session.execute(sa.update(Letter).where(Letter.id == letter_id,
                                                         Letter.state == LetterState.scheduled)
                                 .values(state=LetterState.sent, sent_at=sent_at, updated_at=utcnow())
                                 .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            marked.append(letter_id)
            _record_sent(session, letter_id=letter_id)
    return marked


def letters_of_messages(session: Session, *, message_ids: Iterable[int]) -> set[int]:
    ids = list(message_ids)
    if not ids:
        return set()
    return {letter_id for letter_id in session.exec(
        select(OutboxMessage.letter_id).where(OutboxMessage.id.in_(ids), OutboxMessage.kind.in_(DELIVERS),
                                              OutboxMessage.letter_id.is_not(None)))}


def _record_sent(session: Session, *, letter_id: int) -> None:
    letter = session.get(Letter, letter_id)
    session.refresh(letter)
    campaign = session.get(Campaign, letter.campaign_id)
    count = session.exec(select(sa.func.count()).select_from(OutboxMessage).where(
        OutboxMessage.letter_id == letter_id, OutboxMessage.kind.in_(DELIVERS),
        OutboxMessage.status == OutboxStatus.sent)).one()
    on = letter.sent_at.astimezone(outbox.zone(campaign.timezone)).date()
    campaign_service.record_app_event(
        session, campaign_id=letter.campaign_id, kind=EventKind.letter_sent, title=f"Sent: {letter.title}",
        on=on, origin="letters", summary=f"Delivered to {count} recipient{'s' if count != 1 else ''}.",
        person_ids=[a["person_id"] for a in letter.addressees if a.get("person_id")], actor="outbox")
    audit.record(session, actor="outbox", action="letter.sent", entity_type="letter", entity_id=letter_id,
                 after={"state": "sent", "sent_at": letter.sent_at, "messages": count})
