"""Replies that come back by e-mail: read a pasted or uploaded .eml, match it to what Cosign sent
(In-Reply-To, then References, newest first), and pre-fill the response a volunteer logs."""

from __future__ import annotations

import email
import re
from dataclasses import dataclass, field
from datetime import UTC
from email import policy
from email.message import EmailMessage
from email.utils import parseaddr

import sqlalchemy as sa
from sqlmodel import Session, select

from campaign.db import utcnow
from campaign.errors import FieldError, InvalidInput
from contacts.models import Person
from letters.models import FollowUp
from letters.models import ResponseChannel, ResponseKind
from workers.models import OutboxMessage

MAX_EML_BYTES = 5 * 1024 * 1024
MAX_SUMMARY = 20_000
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# Where a mail client starts quoting the message being answered.
QUOTE_START = re.compile(r"^(On .{4,200} wrote:|-----\s*Original Message\s*-----|From: .+)$", re.MULTILINE)


@dataclass
class ReadReply:
    """What a reply says about itself, and the response form it pre-fills."""

    form: dict[str, str]
    sender: str
    subject: str
    matched: OutboxMessage | None = None
    notes: list[str] = field(default_factory=list)


def _refuse(message: str) -> InvalidInput:
    return InvalidInput("The e-mail could not be read.", errors=[FieldError("eml", message)])


def parse(raw: bytes) -> EmailMessage:
    if not raw.strip():
        raise _refuse("paste the whole message (with its headers) or choose a .eml file")
    if len(raw) > MAX_EML_BYTES:
        raise _refuse(f"the message is larger than {MAX_EML_BYTES // (1024 * 1024)} MB")
    message = email.message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=policy.default)
    if not message["From"] or message.defects and not message["Subject"]:
        raise _refuse("this is not an e-mail message: it has no From header (paste the message with its headers, "
                      "e.g. 'Show original' or 'View source' in your mail program)")
    return message


def reply_text(message: EmailMessage) -> str:
    """The new text of the reply: the plain part without the quoted message it answers."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        text = part.get_content()
    except (LookupError, ValueError):
        text = part.get_payload(decode=True).decode("utf-8", "replace")
    if part.get_content_type() == "text/html":
        text = re.sub(r"<[^>]+>", " ", re.sub(r"(?is)<(script|style).*?</\1>", "", text))
    quote = QUOTE_START.search(text)
    if quote:
        text = text[:quote.start()]
    lines = [line for line in text.splitlines() if not line.lstrip().startswith(">")]
    return "\n".join(lines).strip()[:MAX_SUMMARY]


def referenced_ids(message: EmailMessage) -> list[str]:
    """Message-IDs this reply answers, most recent first."""
    in_reply_to = MESSAGE_ID.findall(str(message["In-Reply-To"] or ""))
    references = MESSAGE_ID.findall(str(message["References"] or ""))
    return list(dict.fromkeys([*in_reply_to, *reversed(references)]))


def read_reply(session: Session, *, raw: bytes) -> ReadReply:
    message = parse(raw)
    sender = parseaddr(str(message["From"]))[1]
    subject = str(message["Subject"] or "")
    ids = referenced_ids(message)
    matched = None
    if ids:
        found = {m.message_id: m for m in session.exec(select(OutboxMessage).where(OutboxMessage.message_id.in_(ids)))}
        matched = next((found[i] for i in ids if i in found), None)
    try:
        sent_on = message["Date"].datetime.astimezone(UTC).date() if message["Date"] else utcnow().date()
    except (AttributeError, TypeError, ValueError):
        sent_on = utcnow().date()
    reply = ReadReply(form={"kind": ResponseKind.reply.value, "channel": ResponseChannel.email.value,
                            "occurred_date": sent_on.isoformat(), "summary": reply_text(message)},
                      sender=sender, subject=subject, matched=matched)
    person = None
    if matched is not None:
        person = _person_by_address(session, matched.recipient_address)
        letter_id = matched.letter_id or _followed_letter(session, matched.id)
        if letter_id:
            reply.form["letter_id"] = str(letter_id)
        if matched.campaign_id:
            reply.form["campaign_id"] = str(matched.campaign_id)
        reply.notes.append(f"This answers our message “{matched.subject}” to {matched.recipient_address}"
                           + (f", sent {matched.sent_at:%d %b %Y}." if matched.sent_at else "."))
    else:
        reply.notes.append("No message Cosign sent matches this reply's In-Reply-To or References headers: "
                           "choose the letter by hand.")
    if person is None and sender:
        person = _person_by_address(session, sender)
    if person is not None:
        reply.form["person_id"] = str(person.id)
        reply.notes.append(f"From {person.name}.")
    else:
        reply.notes.append(f"Nobody in the directory has the address {sender or '(none)'}: enter the person.")
    return reply


def _person_by_address(session: Session, address: str) -> Person | None:
    if not address:
        return None
    return session.exec(select(Person).where(sa.func.lower(Person.email) == address.lower())
                        .order_by(Person.id)).first()


def _followed_letter(session: Session, message_id: int) -> int | None:
    """A chaser or invitation answers for the letter its follow-up is about."""
    return session.exec(select(FollowUp.letter_id).where(
        sa.or_(FollowUp.chaser_outbox_id == message_id, FollowUp.outbox_message_id == message_id),
        FollowUp.letter_id.is_not(None))).first()
