"""What the campaign has done with one person: letters to them, signing, responses, follow-ups.

The letters and workers domains own these tables; the person page reads them here so that
the page (and the privacy export) make a fixed number of queries whatever the person's history.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session

from contacts.models import Person
from letters.models import FollowUp, FollowUpStatus, Letter, Response, Signature, SigningInvitation
from workers.models import OutboxMessage


@dataclass
class LetterToPerson:
    letter: Letter
    named_as_addressee: bool
    messages: list[OutboxMessage] = field(default_factory=list)  # e-mails of this letter to their address

    @property
    def last_message(self) -> OutboxMessage | None:
        return self.messages[0] if self.messages else None


@dataclass
class SigningRow:
    letter: Letter
    invitation: SigningInvitation | None
    signature: Signature | None

    @property
    def status(self) -> str:
        if self.signature is not None:
            return self.signature.status.value.replace("_", " ")
        return "no answer yet"


@dataclass
class FollowUpRow:
    follow_up: FollowUp
    letter: Letter | None


@dataclass
class ResponseRow:
    response: Response
    letter: Letter | None


@dataclass
class PersonActivity:
    letters: list[LetterToPerson]
    signing: list[SigningRow]
    responses: list[ResponseRow]
    follow_ups: list[FollowUpRow]


def addresses_of(person: Person) -> list[str]:
    """Every e-mail address known for the person, lower case, main one first."""
    return list(dict.fromkeys(a.strip().lower() for a in [person.email, *person.emails] if a and a.strip()))


def letters_addressed_to(session: Session, *, person_id: int) -> list[int]:
    """Ids of letters naming the person among their addressees (a JSON list of {person_id} or names)."""
    # The JSON is narrowed in SQL by the id's digits, then read exactly: both backends, no JSON operators.
    candidates = session.execute(sa.select(Letter.id, Letter.addressees).where(
        sa.cast(Letter.addressees, sa.Text).contains(str(person_id)))).all()
    return [letter_id for letter_id, addressees in candidates
            if any(isinstance(a, dict) and a.get("person_id") == person_id for a in addressees or [])]


def outbox_messages_to(session: Session, *, person: Person, letters_only: bool = True) -> list[OutboxMessage]:
    addresses = addresses_of(person)
    if not addresses:
        return []
    query = sa.select(OutboxMessage).where(sa.func.lower(OutboxMessage.recipient_address).in_(addresses))
    if letters_only:
        query = query.where(OutboxMessage.letter_id.is_not(None))
    return list(session.execute(query.order_by(OutboxMessage.scheduled_at.desc(), OutboxMessage.id.desc())).scalars())


def person_activity(session: Session, *, person_id: int) -> PersonActivity:
    """Everything the person page shows beside the contact details and stances: six queries."""
    person = session.get(Person, person_id)
    addressed = set(letters_addressed_to(session, person_id=person_id))
    messages = outbox_messages_to(session, person=person) if person is not None else []
    invitations = list(session.execute(sa.select(SigningInvitation).where(SigningInvitation.person_id == person_id))
                       .scalars())
    signatures = list(session.execute(sa.select(Signature).where(Signature.person_id == person_id)).scalars())
    responses = list(session.execute(sa.select(Response).where(Response.person_id == person_id)
                                     .order_by(Response.occurred_date.desc(), Response.id.desc())).scalars())
    follow_ups = list(session.execute(sa.select(FollowUp).where(FollowUp.person_id == person_id,
                                                                FollowUp.status == FollowUpStatus.open)
                                      .order_by(FollowUp.due_at, FollowUp.id)).scalars())
    letter_ids = (addressed | {m.letter_id for m in messages} | {i.letter_id for i in invitations}
                  | {s.letter_id for s in signatures} | {r.letter_id for r in responses if r.letter_id}
                  | {f.letter_id for f in follow_ups if f.letter_id})
    letters = {letter.id: letter for letter in session.execute(
        sa.select(Letter).where(Letter.id.in_(letter_ids))).scalars()} if letter_ids else {}

    to_person: dict[int, LetterToPerson] = {}
    for letter_id in addressed:
        to_person[letter_id] = LetterToPerson(letter=letters[letter_id], named_as_addressee=True)
    for message in messages:
        row = to_person.setdefault(message.letter_id, LetterToPerson(letter=letters[message.letter_id],
                                                                     named_as_addressee=False))
        row.messages.append(message)
    def sent_order(row: LetterToPerson):
        when = row.last_message.scheduled_at if row.last_message else (row.letter.sent_at or row.letter.updated_at)
        return (when, row.letter.id)

    by_letter: dict[int, SigningRow] = {}
    for invitation in invitations:
        by_letter[invitation.letter_id] = SigningRow(letter=letters[invitation.letter_id], invitation=invitation,
                                                     signature=None)
    for signature in signatures:
        row = by_letter.setdefault(signature.letter_id, SigningRow(letter=letters[signature.letter_id],
                                                                   invitation=None, signature=None))
        row.signature = signature
    signing = sorted(by_letter.values(), key=lambda r: (r.invitation.created_at if r.invitation else
                                                        r.signature.responded_at, r.letter.id), reverse=True)
    return PersonActivity(
        letters=sorted(to_person.values(), key=sent_order, reverse=True),
        signing=signing,
        responses=[ResponseRow(response=r, letter=letters.get(r.letter_id)) for r in responses],
        follow_ups=[FollowUpRow(follow_up=f, letter=letters.get(f.letter_id)) for f in follow_ups])
