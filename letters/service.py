"""Letters: templates, drafts and their review, rendering, questions, signing links and signatures.

Services take the session and keyword-only arguments, flush when they need ids, never
commit, and record every change that matters in the audit log.
"""

from __future__ import annotations

import difflib
import hmac
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import yaml
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlmodel import Session, select

from campaign import audit
from campaign import service as campaign_service
from campaign.accounts.models import Role, User
from campaign.db import utcnow
from campaign.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied
from campaign.models import Campaign, EvidenceVersion
from campaign.settings import TEMPLATES_DIR, get_settings
from contacts.models import Person
from letters import sending
from letters.recipients import PersonFacts, people_facts, recipient_for_person, recipients  # noqa: F401
from letters.models import (Letter, LetterCitation, LetterKind, LetterState, LetterTemplate, LetterVersion,
                            Question, QuestionState, Signature, SignatureStatus, SigningInvitation)
from letters.questions import Chamber, TablingRequest, addressed_minister, check_question, department_of, \
    named_day_warnings
from letters.rendering import (CampaignInfo, Document, MergeContext, Recipient, RenderError, Sender, Signatory,
                               check_source, render_document)
from letters.rendering.engine import EvidenceSnapshot
from letters.schemas import (Addressee, InvitationCreate, LetterCreate, LetterTemplateCreate, LetterTemplateUpdate,
                             LetterTransition, LetterUpdate, QuestionCreate, QuestionUpdate)
from workers import outbox

DEFAULT_TEMPLATES_DIR = TEMPLATES_DIR / "letters" / "defaults"
LINK_REFUSED = "This signing link is not valid or has expired. Ask the campaign for a new one."
MAX_LINK_AGE = timedelta(days=90)

EMAIL_PATTERN = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
EDITABLE = frozenset({LetterState.draft, LetterState.in_review})
FROZEN = frozenset({LetterState.approved, LetterState.open_for_signatures, LetterState.signatures_closed,
                    LetterState.scheduled, LetterState.sent})
SIGNING_VISIBLE = frozenset({LetterState.open_for_signatures, LetterState.signatures_closed,
                             LetterState.scheduled, LetterState.sent})

STAFF = frozenset({Role.admin, Role.staff})
SIGNATORY_ROLES = frozenset({Role.admin, Role.staff, Role.coordinator})

# (from, to) -> who may make the move. Withdrawal is allowed from every state but sent.
TRANSITIONS: dict[tuple[LetterState, LetterState], frozenset[Role]] = {
    (LetterState.draft, LetterState.in_review): STAFF,
    (LetterState.in_review, LetterState.draft): STAFF,
    (LetterState.in_review, LetterState.approved): STAFF,
    (LetterState.approved, LetterState.in_review): STAFF,
    (LetterState.approved, LetterState.open_for_signatures): SIGNATORY_ROLES,
    (LetterState.approved, LetterState.scheduled): STAFF,
    (LetterState.open_for_signatures, LetterState.signatures_closed): SIGNATORY_ROLES,
    (LetterState.signatures_closed, LetterState.open_for_signatures): SIGNATORY_ROLES,
    (LetterState.signatures_closed, LetterState.scheduled): STAFF,
    (LetterState.scheduled, LetterState.signatures_closed): STAFF,
    (LetterState.scheduled, LetterState.scheduled): STAFF,  # reschedule
    (LetterState.scheduled, LetterState.sent): STAFF,
    **{(state, LetterState.withdrawn): STAFF for state in LetterState
       if state not in (LetterState.sent, LetterState.withdrawn)},
}


def _label(actor: User | str | None) -> str:
    return getattr(actor, "email", None) or (actor if isinstance(actor, str) else "system")


def _role(actor: User | str | None) -> Role | None:
    return getattr(actor, "role", None) if actor is not None and not isinstance(actor, str) else None


# --- templates ----------------------------------------------------------------------------------


def _read_default(path) -> dict[str, Any]:
    header, _, body = path.read_text(encoding="utf-8").partition("\n---\n")
    values = yaml.safe_load(header) or {}
    return {"slug": values.get("slug") or path.stem, "kind": LetterKind(values["kind"]), "name": values["name"],
            "description": values.get("description", ""), "subject": values.get("subject", ""),
            "body": body.strip("\n") + "\n"}


def load_default_templates(session: Session) -> int:
    """Add the shipped templates that are not in the database yet; returns how many were added."""
    existing = set(session.exec(select(LetterTemplate.slug)))
    added = 0
    for path in sorted(DEFAULT_TEMPLATES_DIR.glob("*.j2")):
        values = _read_default(path)
        if values["slug"] in existing:
            continue
        session.add(LetterTemplate(**values, is_default=True))
        added += 1
    if added:
        session.flush()
    return added


def list_templates(session: Session) -> list[LetterTemplate]:
    if session.exec(select(LetterTemplate.id).where(LetterTemplate.is_default.is_(True)).limit(1)).first() is None:
        load_default_templates(session)
    return list(session.exec(select(LetterTemplate).order_by(LetterTemplate.kind, LetterTemplate.name)))


def get_template(session: Session, *, template_id: int) -> LetterTemplate:
    template = session.get(LetterTemplate, template_id)
    if template is None:
        raise NotFound(f"There is no letter template {template_id}.")
    return template


def _check_template_text(subject: str, body: str) -> None:
    errors: list[FieldError] = []
    for part, source in (("subject", subject), ("body", body)):
        try:
            check_source(source, part=part)
        except RenderError as exc:
            errors.append(FieldError(f"{part}:line {exc.line}" if exc.line else part, exc.message))
    if errors:
        raise InvalidInput("The template has errors: " + "; ".join(f"{e.loc}: {e.msg}" for e in errors),
                           errors=errors)


def create_template(session: Session, *, template_in: LetterTemplateCreate, actor: User | str | None) -> LetterTemplate:
    _check_template_text(template_in.subject, template_in.body)
    if session.exec(select(LetterTemplate.id).where(LetterTemplate.slug == template_in.slug)).first() is not None:
        raise Conflict(f"A template called '{template_in.slug}' exists already.",
                       errors=[FieldError("slug", "already used")])
    template = LetterTemplate(**template_in.model_dump(), created_by_id=getattr(actor, "id", None))
    session.add(template)
    session.flush()
    audit.record(session, actor=actor, action="letter_template.create", entity_type="letter_template",
                 entity_id=template.id, after={"slug": template.slug, "kind": template.kind.value})
    return template


def update_template(session: Session, *, template_id: int, template_in: LetterTemplateUpdate,
                    actor: User | str | None) -> LetterTemplate:
    """Change a template; letters already drafted from it keep their own text."""
    template = get_template(session, template_id=template_id)
    changes = template_in.model_dump(exclude_unset=True)
    _check_template_text(changes.get("subject", template.subject), changes.get("body", template.body))
    before = {name: getattr(template, name) for name in changes}
    for name, value in changes.items():
        setattr(template, name, value)
    template.updated_at = utcnow()
    session.add(template)
    session.flush()
    audit.record(session, actor=actor, action="letter_template.update", entity_type="letter_template",
                 entity_id=template.id, before=before, after=changes)
    return template


SAMPLE_RECIPIENT = Recipient(name="Rishi Sunak", given_name="Rishi", family_name="Sunak",
                             honorific_prefix="The Rt Hon", honorific_suffix="MP", office="Prime Minister",
                             chamber="House of Commons", party="Conservative", country="GB",
                             address_lines=("10 Downing Street", "London SW1A 2AA"))


def template_preview(session: Session, *, subject: str, body: str, campaign_id: int,
                     sender_name: str = "") -> tuple[Document | None, RenderError | None]:
    """A template rendered for a sample addressee with the campaign's current evidence."""
    campaign = campaign_service.get_campaign(session, campaign_id=campaign_id)

    def lookup(slug: str) -> EvidenceSnapshot:
        try:
            return snapshot_of(campaign_service.cite_lookup(session, campaign_id=campaign.id, slug=slug))
        except NotFound:
            raise LookupError(slug) from None

    context = MergeContext(
        campaign=CampaignInfo(name=campaign.name, slug=campaign.slug, timezone=campaign.timezone,
                              summary=campaign.summary),
        letter_date=utcnow(), recipient=SAMPLE_RECIPIENT, sender=Sender(name=sender_name, organisation="", email=""))
    try:
        return render_document(subject=subject, body=body, context=context, lookup=lookup), None
    except RenderError as exc:
        return None, exc


# --- letters ------------------------------------------------------------------------------------


def get_letter(session: Session, *, letter_id: int) -> Letter:
    letter = session.get(Letter, letter_id)
    if letter is None:
        raise NotFound(f"There is no letter {letter_id}.")
    return letter


def list_letters(session: Session, *, campaign_id: int | None = None,
                 states: Iterable[LetterState] = ()) -> list[Letter]:
    query = select(Letter).order_by(Letter.updated_at.desc(), Letter.id.desc())
    if campaign_id is not None:
        query = query.where(Letter.campaign_id == campaign_id)
    states = list(states)
    if states:
        query = query.where(Letter.state.in_(states))
    return list(session.exec(query))


def campaign_letters(session: Session, *, campaign_id: int) -> list[tuple[Letter, int]]:
    """A campaign's letters, newest first, each with its number of signatures (two queries)."""
    letters = list_letters(session, campaign_id=campaign_id)
    signed = dict(session.exec(
        select(Signature.letter_id, sa.func.count()).where(
            Signature.letter_id.in_([letter.id for letter in letters]),
            Signature.status == SignatureStatus.signed).group_by(Signature.letter_id)).all()) if letters else {}
    return [(letter, signed.get(letter.id, 0)) for letter in letters]


def _addressees(session: Session, addressees: list[Addressee]) -> list[dict[str, Any]]:
    cleaned, errors = [], []
    for index, addressee in enumerate(addressees):
        values = addressee.model_dump(exclude_defaults=True)
        if addressee.person_id is not None:
            if session.get(Person, addressee.person_id) is None:
                errors.append(FieldError(f"addressees[{index}].person_id", f"no person {addressee.person_id}"))
        elif not addressee.name.strip():
            errors.append(FieldError(f"addressees[{index}]", "give a person_id or a name"))
        if addressee.email and not EMAIL_PATTERN.match(addressee.email):
            errors.append(FieldError(f"addressees[{index}].email", f"{addressee.email!r} is not an e-mail address"))
        cleaned.append(values)
    if errors:
        raise InvalidInput("Some addressees are not right.", errors=errors)
    return cleaned


def _snapshot(letter: Letter) -> dict[str, Any]:
    return {"version": letter.version, "state": letter.state.value, "title": letter.title}


def _write_version(session: Session, letter: Letter, actor: User | str | None, note: str) -> LetterVersion:
    version = LetterVersion(letter_id=letter.id, version=letter.version, title=letter.title, subject=letter.subject,
                            body=letter.body, addressees=letter.addressees, state=letter.state, change_note=note,
                            created_by_id=getattr(actor, "id", None), created_by_label=_label(actor))
    session.add(version)
    return version


def create_letter(session: Session, *, letter_in: LetterCreate, actor: User | str | None) -> Letter:
    campaign = campaign_service.get_campaign(session, campaign_id=letter_in.campaign_id)
    template = get_template(session, template_id=letter_in.template_id) if letter_in.template_id else None
    subject = letter_in.subject if letter_in.subject is not None else (template.subject if template else "")
    body = letter_in.body if letter_in.body is not None else (template.body if template else "")
    kind = letter_in.kind or (template.kind if template else LetterKind.open_letter)
    if not body.strip():
        raise InvalidInput("A letter needs a body, or a template to start from.",
                           errors=[FieldError("body", "empty")])
    _check_template_text(subject, body)
    letter = Letter(campaign_id=campaign.id, template_id=template.id if template else None, kind=kind,
                    title=letter_in.title, subject=subject, body=body,
                    addressees=_addressees(session, letter_in.addressees),
                    recipient_segment_id=letter_in.recipient_segment_id, sender_name=letter_in.sender_name,
                    sender_organisation=letter_in.sender_organisation, sender_email=letter_in.sender_email,
                    publish=letter_in.publish, created_by_id=getattr(actor, "id", None))
    session.add(letter)
    session.flush()
    _write_version(session, letter, actor, "created")
    audit.record(session, actor=actor, action="letter.create", entity_type="letter", entity_id=letter.id,
                 after=_snapshot(letter))
    session.flush()
    return letter


def update_letter(session: Session, *, letter_id: int, letter_in: LetterUpdate, actor: User | str | None) -> Letter:
    """Save a new version; refused when the text is approved or someone else saved first."""
    letter = get_letter(session, letter_id=letter_id)
    if letter.state not in EDITABLE:
        raise Conflict(f"The letter is {letter.state.label.lower()}: an approved text cannot change. Return it to "
                       "review first.", errors=[FieldError("state", letter.state.value)])
    changes = letter_in.model_dump(exclude_unset=True, exclude={"version", "change_note"})
    if "addressees" in changes:
        changes["addressees"] = _addressees(session, letter_in.addressees or [])
    _check_template_text(changes.get("subject", letter.subject), changes.get("body", letter.body))
    before = _snapshot(letter)
    # Compare-and-set in the database, so two concurrent saves cannot both pass the check.
    result = session.execute(sa.update(Letter).where(Letter.id == letter_id, Letter.version == letter_in.version)
                             .values(version=letter_in.version + 1, updated_at=utcnow()))
    if result.rowcount != 1:
        session.refresh(letter)
        latest = session.exec(select(LetterVersion).where(LetterVersion.letter_id == letter_id)
                              .order_by(LetterVersion.version.desc())).first()
        who = f" by {latest.created_by_label} at {latest.created_at:%H:%M} UTC" if latest else ""
        raise Conflict(f"Someone else saved this letter first: it is now at version {letter.version}{who}, and "
                       f"your changes were made to version {letter_in.version}. Compare the two, then save again.",
                       errors=[FieldError("version", f"expected {letter.version}, got {letter_in.version}")])
    session.refresh(letter)
    for name, value in changes.items():
        setattr(letter, name, value)
    session.add(letter)
    _write_version(session, letter, actor, letter_in.change_note)
    audit.record(session, actor=actor, action="letter.update", entity_type="letter", entity_id=letter.id,
                 before=before, after=_snapshot(letter))
    session.flush()
    return letter


def allowed_transitions(letter: Letter, actor: User | str | None) -> list[LetterState]:
    role = _role(actor)
    return [to for (start, to), roles in TRANSITIONS.items() if start == letter.state and role in roles]


def transition(session: Session, *, letter_id: int, transition_in: LetterTransition,
               actor: User | str | None) -> Letter:
    letter = get_letter(session, letter_id=letter_id)
    target = transition_in.to
    roles = TRANSITIONS.get((letter.state, target))
    if roles is None:
        raise Conflict(f"A letter cannot go from {letter.state.label.lower()} to {target.label.lower()}.",
                       errors=[FieldError("to", target.value)])
    if _role(actor) not in roles:
        raise PermissionDenied(f"Your role may not move a letter to {target.label.lower()}.")
    before = _snapshot(letter)
    if target == LetterState.approved:
        document = render_letter(session, letter=letter, frozen=False)
        _freeze_citations(session, letter, document)
        letter.approved_by_id, letter.approved_at = getattr(actor, "id", None), utcnow()
    if target == LetterState.scheduled:
        when = _send_time(session, letter, transition_in.scheduled_at)
        if letter.state == LetterState.scheduled:
            sending.reschedule_letter(session, letter=letter, when=when, actor=actor)
        else:
            sending.schedule_letter(session, letter=letter, when=when, actor=actor)
    elif letter.state == LetterState.scheduled and target != LetterState.sent:
        sending.unschedule_letter(session, letter=letter, actor=actor,
                                  verb="withdrawn" if target == LetterState.withdrawn else "unscheduled")
    if target == LetterState.sent:
        sending.refuse_manual_sent(session, letter=letter)
        letter.sent_at = utcnow()
    letter.state = target
    letter.updated_at = utcnow()
    session.add(letter)
    audit.record(session, actor=actor, action=f"letter.{target.value}", entity_type="letter", entity_id=letter.id,
                 before=before, after={**_snapshot(letter), "note": transition_in.note})
    session.flush()
    return letter


def _send_time(session: Session, letter: Letter, value: datetime | None) -> datetime:
    """When to send: a time with its zone, or a wall-clock time in the campaign's zone; not in the past."""
    if value is None:
        raise InvalidInput("Say when to send it.", errors=[FieldError("scheduled_at", "a date and time are needed")])
    if value.tzinfo is None:
        value = outbox.local_to_utc(value, session.get(Campaign, letter.campaign_id).timezone)
    if value < utcnow() - timedelta(minutes=5):
        raise InvalidInput("That time has passed; choose a time from now on.",
                           errors=[FieldError("scheduled_at", "in the past")])
    return value


def list_versions(session: Session, *, letter_id: int) -> list[LetterVersion]:
    return list(session.exec(select(LetterVersion).where(LetterVersion.letter_id == letter_id)
                             .order_by(LetterVersion.version)))


def get_version(session: Session, *, letter_id: int, version: int) -> LetterVersion:
    found = session.exec(select(LetterVersion).where(LetterVersion.letter_id == letter_id,
                                                     LetterVersion.version == version)).first()
    if found is None:
        raise NotFound(f"Letter {letter_id} has no version {version}.")
    return found


@dataclass
class CompareRow:
    tag: str  # equal, replace, delete, insert
    left: str
    right: str
    left_number: int | None
    right_number: int | None


def compare_versions(session: Session, *, letter_id: int, a: int, b: int) -> list[CompareRow]:
    """Two versions side by side, line by line."""
    left = get_version(session, letter_id=letter_id, version=a)
    right = get_version(session, letter_id=letter_id, version=b)
    return compare_texts(f"{left.subject}\n\n{left.body}", f"{right.subject}\n\n{right.body}")


def compare_texts(left_text: str, right_text: str) -> list[CompareRow]:
    left_lines, right_lines = left_text.splitlines(), right_text.splitlines()
    rows: list[CompareRow] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=left_lines, b=right_lines, autojunk=False).get_opcodes():
        for offset in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + offset, j1 + offset
            rows.append(CompareRow(tag, left_lines[i] if i < i2 else "", right_lines[j] if j < j2 else "",
                                   i + 1 if i < i2 else None, j + 1 if j < j2 else None))
    return rows


# --- rendering ----------------------------------------------------------------------------------


def snapshot_of(version: EvidenceVersion) -> EvidenceSnapshot:
    return EvidenceSnapshot(
        slug=version.slug, version=version.version, kind=version.kind.value, title=version.title, text=version.text,
        data=dict(version.data or {}), source_title=version.source_title, source_author=version.source_author,
        source_date=version.source_date, source_url=version.source_url, accessed_date=version.accessed_date,
        archive_url=version.archive_url, evidence_version_id=version.id)


def evidence_lookup(session: Session, letter: Letter, *, frozen: bool = True) -> Callable[[str], EvidenceSnapshot]:
    """Approved letters cite the versions frozen at approval; drafts cite the current ones."""
    pinned: dict[str, int] = {}
    if frozen and letter.state in FROZEN:
        pinned = {c.slug: c.evidence_version_id
                  for c in session.exec(select(LetterCitation).where(LetterCitation.letter_id == letter.id))}

    def lookup(slug: str) -> EvidenceSnapshot:
        if slug in pinned:
            return snapshot_of(session.get(EvidenceVersion, pinned[slug]))
        try:
            return snapshot_of(campaign_service.cite_lookup(session, campaign_id=letter.campaign_id, slug=slug))
        except NotFound:
            raise LookupError(slug) from None

    return lookup


def _freeze_citations(session: Session, letter: Letter, document: Document) -> None:
    session.execute(sa.delete(LetterCitation).where(LetterCitation.letter_id == letter.id))
    for note in document.notes:
        session.add(LetterCitation(letter_id=letter.id, slug=note.snapshot.slug, number=note.number,
                                   evidence_version_id=note.snapshot.evidence_version_id))


def cited_versions(session: Session, *, letter_id: int) -> list[tuple[LetterCitation, EvidenceVersion]]:
    return list(session.execute(select(LetterCitation, EvidenceVersion)
                                .join(EvidenceVersion, EvidenceVersion.id == LetterCitation.evidence_version_id)
                                .where(LetterCitation.letter_id == letter_id).order_by(LetterCitation.number)).all())


def letter_signatories(session: Session, *, letter_id: int) -> list[Signatory]:
    rows = list(session.exec(select(Signature, Person).join(Person, Person.id == Signature.person_id)
                             .where(Signature.letter_id == letter_id,
                                    Signature.status == SignatureStatus.signed)))
    facts = people_facts(session, [person.id for _, person in rows])
    return [Signatory(printed_name=s.printed_name, printed_title=s.printed_title, chamber=facts[p.id].chamber,
                      party=facts[p.id].party, country=facts[p.id].country,
                      surname=p.family_name or p.name.split()[-1], person_id=p.id) for s, p in rows]


def letter_date(letter: Letter) -> datetime:
    return letter.sent_at or letter.scheduled_at or utcnow()


def document_for(session: Session, *, letter_id: int, index: int = 0) -> Document:
    return render_letter(session, letter=get_letter(session, letter_id=letter_id), index=index)


def render_letter(session: Session, *, letter: Letter, recipient: Recipient | None = None, index: int = 0,
                  frozen: bool = True) -> Document:
    """Render a letter for one recipient (by default its first addressee)."""
    campaign = session.get(Campaign, letter.campaign_id)
    if recipient is None:
        found = recipients(session, letter=letter)
        recipient = found[min(index, len(found) - 1)] if found else None
    context = MergeContext(
        campaign=CampaignInfo(name=campaign.name, slug=campaign.slug, timezone=campaign.timezone,
                              summary=campaign.summary),
        letter_date=letter_date(letter), recipient=recipient,
        sender=Sender(name=letter.sender_name, organisation=letter.sender_organisation, email=letter.sender_email),
        signatories=tuple(letter_signatories(session, letter_id=letter.id)))
    return render_document(subject=letter.subject, body=letter.body, context=context,
                           lookup=evidence_lookup(session, letter, frozen=frozen))


def preview(session: Session, *, letter_id: int, index: int = 0) -> tuple[Document | None, RenderError | None,
                                                                          list[Recipient]]:
    """The letter for one recipient, or the reason it does not render (shown at preview, never sent)."""
    letter = get_letter(session, letter_id=letter_id)
    found = recipients(session, letter=letter)
    try:
        return render_letter(session, letter=letter, index=index), None, found
    except RenderError as exc:
        return None, exc, found


# --- questions ----------------------------------------------------------------------------------


def _question_errors(chamber: Chamber, text: str, addressee: str) -> None:
    problems = [p for p in check_question(chamber, text, addressee=addressee) if p.severity == "error"]
    if problems:
        raise InvalidInput("The question is not in the chamber's form: "
                           + "; ".join(f"{p.rule}: {p.message}" for p in problems),
                           errors=[FieldError("text", f"{p.rule}: {p.message}") for p in problems])


def create_question(session: Session, *, question_in: QuestionCreate, actor: User | str | None) -> Question:
    campaign_service.get_campaign(session, campaign_id=question_in.campaign_id)
    text = " ".join(question_in.text.split())
    _question_errors(question_in.chamber, text, question_in.addressee)
    minister = addressed_minister(text) if question_in.chamber.value.startswith("commons") else None
    question = Question(campaign_id=question_in.campaign_id, chamber=question_in.chamber, text=text,
                        named_day=question_in.named_day,
                        addressee=minister or question_in.addressee or
                        ("His Majesty's Government" if question_in.chamber.value.startswith("lords") else ""),
                        department=department_of(minister) if minister else "",
                        created_by_id=getattr(actor, "id", None))
    session.add(question)
    session.flush()
    audit.record(session, actor=actor, action="question.create", entity_type="question", entity_id=question.id,
                 after={"chamber": question.chamber.value, "text": question.text})
    return question


def get_question(session: Session, *, question_id: int) -> Question:
    question = session.get(Question, question_id)
    if question is None:
        raise NotFound(f"There is no question {question_id}.")
    return question


def list_questions(session: Session, *, campaign_id: int | None = None) -> list[Question]:
    query = select(Question).order_by(Question.created_at.desc(), Question.id.desc())
    if campaign_id is not None:
        query = query.where(Question.campaign_id == campaign_id)
    return list(session.exec(query))


def update_question(session: Session, *, question_id: int, question_in: QuestionUpdate,
                    actor: User | str | None) -> Question:
    """Edit a draft, or record that it was tabled (by whom, reference, dates) and answered."""
    question = get_question(session, question_id=question_id)
    changes = question_in.model_dump(exclude_unset=True)
    if "text" in changes and _role(actor) not in STAFF and actor is not None and not isinstance(actor, str):
        raise PermissionDenied("Only staff change the wording of a question; log its tabling and answer instead.")
    if "text" in changes:
        changes["text"] = " ".join(changes["text"].split())
        _question_errors(question.chamber, changes["text"], question.addressee)
    if changes.get("asking_member_id") is not None and session.get(Person, changes["asking_member_id"]) is None:
        raise InvalidInput("No such member.", errors=[FieldError("asking_member_id", "unknown person")])
    if changes.get("tabled_reference") and "state" not in changes and question.state in (QuestionState.draft,
                                                                                          QuestionState.suggested):
        changes["state"] = QuestionState.tabled
    if changes.get("answer_text") and "state" not in changes:
        changes["state"] = QuestionState.answered
    before = {"state": question.state.value, "tabled_reference": question.tabled_reference}
    for name, value in changes.items():
        setattr(question, name, value)
    question.updated_at = utcnow()
    session.add(question)
    audit.record(session, actor=actor, action="question.update", entity_type="question", entity_id=question.id,
                 before=before, after={k: (v.isoformat() if isinstance(v, date) else v) for k, v in changes.items()})
    session.flush()
    return question


def named_day_check(session: Session, *, campaign_id: int) -> list[tuple[int, date, str]]:
    questions = session.exec(select(Question).where(Question.campaign_id == campaign_id,
                                                    Question.asking_member_id.is_not(None),
                                                    Question.tabled_date.is_not(None)))
    requests = [TablingRequest(q.asking_member_id, q.tabled_date, q.named_day) for q in questions]
    return [(member, day, problem.message) for member, day, problem in named_day_warnings(requests)]


# --- signing links ------------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().signing_key(), salt="letters.signing-link")


def signing_token(invitation: SigningInvitation) -> str:
    return _serializer().dumps({"i": invitation.id, "l": invitation.letter_id, "p": invitation.person_id,
                                "n": invitation.nonce})


def signing_link(invitation: SigningInvitation) -> str:
    return f"{get_settings().base_url.rstrip('/')}/sign/{signing_token(invitation)}"


@dataclass
class Invited:
    invitation: SigningInvitation
    person: Person
    token: str


def invite(session: Session, *, letter_id: int, invitation_in: InvitationCreate,
           actor: User | str | None) -> list[Invited]:
    """A personal link for each person (a second invitation of the same person keeps their link)."""
    letter = get_letter(session, letter_id=letter_id)
    if letter.state != LetterState.open_for_signatures:
        raise Conflict("Open the letter for signatures before inviting signatories.",
                       errors=[FieldError("state", letter.state.value)])
    person_ids = list(dict.fromkeys(invitation_in.person_ids))
    if invitation_in.segment_id is not None:
        from contacts import service as contacts_service

        person_ids += [p for p in contacts_service.segment_person_ids(session, segment_id=invitation_in.segment_id)
                       if p not in person_ids]
    if not person_ids:
        raise InvalidInput("Choose the people to invite.", errors=[FieldError("person_ids", "empty")])
    people = {p.id: p for p in session.exec(select(Person).where(Person.id.in_(person_ids)))}
    missing = [pid for pid in person_ids if pid not in people]
    if missing:
        raise InvalidInput(f"No such people: {', '.join(map(str, missing))}.",
                           errors=[FieldError("person_ids", f"unknown person {pid}") for pid in missing])
    existing = {i.person_id: i for i in session.exec(select(SigningInvitation).where(
        SigningInvitation.letter_id == letter_id, SigningInvitation.person_id.in_(person_ids)))}
    expires = utcnow() + timedelta(days=invitation_in.days_valid)
    created = []
    for person_id in person_ids:
        invitation = existing.get(person_id)
        if invitation is None:
            invitation = SigningInvitation(letter_id=letter_id, person_id=person_id, nonce=secrets.token_urlsafe(24),
                                           expires_at=expires, created_by_id=getattr(actor, "id", None))
            session.add(invitation)
            created.append(invitation)
        else:
            invitation.expires_at = max(invitation.expires_at, expires)
            session.add(invitation)
    session.flush()
    audit.record(session, actor=actor, action="letter.invite", entity_type="letter", entity_id=letter_id,
                 after={"invited": [i.person_id for i in created], "count": len(person_ids)})
    invitations = {**existing, **{i.person_id: i for i in created}}
    invited = [Invited(invitations[pid], people[pid], signing_token(invitations[pid])) for pid in person_ids]
    if invitation_in.send_email:
        fresh = {i.id for i in created}
        _email_invitations(session, letter=letter, invited=[i for i in invited if i.invitation.id in fresh],
                           send_at=invitation_in.send_at or utcnow(), actor=actor)
    return invited


def _email_invitations(session: Session, *, letter: Letter, invited: list[Invited], send_at: datetime,
                       actor: User | str | None) -> int:
    """One outbox message per newly invited person with an address, from the signatory-invitation template."""
    from letters.rendering import to_html_fragment, to_text
    from workers.models import OutboxKind

    template = session.exec(select(LetterTemplate).where(LetterTemplate.kind == LetterKind.signatory_invitation)
                            .order_by(LetterTemplate.is_default, LetterTemplate.id)).first()
    if template is None:
        load_default_templates(session)
        template = session.exec(select(LetterTemplate).where(LetterTemplate.slug == "signatory-invitation")).one()
    campaign = session.get(Campaign, letter.campaign_id)
    facts = people_facts(session, [i.person.id for i in invited])
    sent = 0
    for item in invited:
        if not item.person.email:
            continue
        recipient = recipient_for_person(item.person, facts[item.person.id])
        document = render_document(
            subject=template.subject, body=template.body, lookup=evidence_lookup(session, letter),
            context=MergeContext(campaign=CampaignInfo(name=campaign.name, slug=campaign.slug,
                                                       timezone=campaign.timezone, summary=campaign.summary),
                                 letter_date=utcnow(), recipient=recipient,
                                 sender=Sender(name=letter.sender_name, organisation=letter.sender_organisation,
                                               email=letter.sender_email)))
        link = f"{get_settings().base_url.rstrip('/')}/sign/{item.token}"
        message = outbox.schedule(
            session, recipient_address=item.person.email, recipient_name=item.person.name,
            subject=document.subject or f"Invitation to co-sign: {letter.title}",
            text_body=f"{to_text(document)}\nYour personal signing link:\n{link}\n",
            html_body=f"{to_html_fragment(document)}<p><a href=\"{link}\">Read and sign the letter</a></p>",
            scheduled_at=send_at, kind=OutboxKind.signing_invitation, campaign_id=letter.campaign_id, actor=actor)
        message.letter_id = letter.id  # so a reply to the invitation finds its letter
        sent += 1
    return sent


@dataclass
class SigningView:
    invitation: SigningInvitation
    letter: Letter
    person: Person
    signature: Signature | None
    default_name: str
    default_title: str

    @property
    def can_answer(self) -> bool:
        return self.letter.state == LetterState.open_for_signatures


def _refuse() -> NotFound:
    return NotFound(LINK_REFUSED)


def open_link(session: Session, *, token: str) -> SigningView:
    """What a signing link shows; forged, expired, reused-elsewhere and unknown links get one same answer."""
    try:
        payload = _serializer().loads(token, max_age=int(MAX_LINK_AGE.total_seconds()))
    except BadSignature:
        raise _refuse() from None
    if not isinstance(payload, dict) or not all(isinstance(payload.get(k), int) for k in ("i", "l", "p")) \
            or not isinstance(payload.get("n"), str):
        raise _refuse()
    invitation = session.get(SigningInvitation, payload["i"])
    # Always compare, so a missing invitation costs the same as a wrong nonce.
    nonce = invitation.nonce if invitation is not None else secrets.token_urlsafe(24)
    same = hmac.compare_digest(nonce.encode(), payload["n"].encode())
    if invitation is None or not same or invitation.letter_id != payload["l"] \
            or invitation.person_id != payload["p"] or invitation.expires_at <= utcnow():
        raise _refuse()
    letter = session.get(Letter, invitation.letter_id)
    if letter is None or letter.state not in SIGNING_VISIBLE:
        raise _refuse()
    person = session.get(Person, invitation.person_id)
    signature = session.exec(select(Signature).where(Signature.letter_id == letter.id,
                                                     Signature.person_id == person.id)).first()
    default_name = " ".join(p for p in (person.honorific_prefix if person.honorific_prefix in
                                        ("Lord", "Baroness", "Lady") and not person.name.startswith(
                                            person.honorific_prefix) else "", person.name,
                                        person.honorific_suffix) if p)
    return SigningView(invitation, letter, person, signature, default_name, "")


SIGNER_ACTIONS = {"sign": SignatureStatus.signed, "decline": SignatureStatus.declined,
                  "correct": SignatureStatus.correction_requested, "withdraw": SignatureStatus.withdrawn}


def respond(session: Session, *, token: str, action: str, printed_name: str = "", printed_title: str = "",
            note: str = "") -> tuple[SigningView, bool]:
    """The signer's answer; returns the view and whether anything changed (a second 'sign' changes nothing)."""
    view = open_link(session, token=token)
    status = SIGNER_ACTIONS.get(action)
    if status is None:
        raise InvalidInput("Choose sign, decline or ask for a correction.", errors=[FieldError("action", action)])
    if not view.can_answer:
        raise Conflict("Signing has closed for this letter; your answer can no longer change.")
    signature = view.signature
    if status == SignatureStatus.withdrawn and (signature is None or signature.status != SignatureStatus.signed):
        raise Conflict("There is no signature to withdraw.")
    printed_name = " ".join(printed_name.split()) or (signature.printed_name if signature else view.default_name)
    printed_title = " ".join(printed_title.split()) if printed_title else (signature.printed_title if signature else "")
    if len(printed_name) > 300 or len(printed_title) > 300:
        raise InvalidInput("The printed name and title are limited to 300 characters.",
                           errors=[FieldError("printed_name", "too long")])
    if status == SignatureStatus.correction_requested and not note.strip():
        raise InvalidInput("Say what should be corrected.", errors=[FieldError("note", "required")])
    if signature is not None and signature.status == status == SignatureStatus.signed \
            and signature.printed_name == printed_name and signature.printed_title == printed_title:
        return view, False
    before = {"status": signature.status.value} if signature else None
    if signature is None:
        signature = Signature(letter_id=view.letter.id, person_id=view.person.id, invitation_id=view.invitation.id,
                              status=status, printed_name=printed_name, printed_title=printed_title)
    signature.status = status
    signature.printed_name, signature.printed_title = printed_name, printed_title
    signature.correction_note = note.strip() if status == SignatureStatus.correction_requested else ""
    signature.responded_at = utcnow()
    signature.withdrawn_at = utcnow() if status == SignatureStatus.withdrawn else None
    session.add(signature)
    try:
        session.flush()
    except sa.exc.IntegrityError:
        # The same link submitted twice at once: the other request's answer stands.
        raise Conflict("Your answer was already recorded.") from None
    audit.record(session, actor=f"signer:person-{view.person.id}", action=f"signature.{status.value}",
                 entity_type="letter", entity_id=view.letter.id, before=before,
                 after={"person_id": view.person.id, "status": status.value, "printed_name": printed_name})
    view.signature = signature
    return view, True


# --- the coordinator's view ---------------------------------------------------------------------


@dataclass
class SignatoryRow:
    person: Person
    facts: PersonFacts
    invitation: SigningInvitation | None
    signature: Signature | None

    @property
    def status(self) -> str:
        return self.signature.status.value if self.signature else "no_answer"


@dataclass
class SignatureSummary:
    rows: list[SignatoryRow]
    counts: dict[str, int]
    by_party: list[tuple[str, int]]
    by_chamber: list[tuple[str, int]]
    by_country: list[tuple[str, int]]
    party_count: int
    largest_party: str
    largest_party_share: float
    to_chase: list[SignatoryRow] = field(default_factory=list)

    @property
    def cross_party(self) -> bool:
        return self.party_count >= 2 and self.largest_party_share <= 0.5


def signature_summary(session: Session, *, letter_id: int) -> SignatureSummary:
    get_letter(session, letter_id=letter_id)
    invitations = {i.person_id: i for i in session.exec(select(SigningInvitation)
                                                        .where(SigningInvitation.letter_id == letter_id))}
    signatures = {s.person_id: s for s in session.exec(select(Signature).where(Signature.letter_id == letter_id))}
    ids = set(invitations) | set(signatures)
    people = {p.id: p for p in session.exec(select(Person).where(Person.id.in_(ids)))} if ids else {}
    facts = people_facts(session, ids)
    rows = sorted((SignatoryRow(people[pid], facts[pid], invitations.get(pid), signatures.get(pid)) for pid in ids),
                  key=lambda r: (r.facts.chamber, r.person.sort_key or r.person.name))
    counts = Counter(row.status for row in rows)
    signed = [row for row in rows if row.status == "signed"]
    parties = Counter(row.facts.party or "No party" for row in signed)
    largest, largest_count = parties.most_common(1)[0] if parties else ("", 0)
    return SignatureSummary(
        rows=rows,
        counts={status: counts.get(status, 0) for status in ("signed", "declined", "correction_requested",
                                                              "withdrawn", "no_answer")},
        by_party=parties.most_common(),
        by_chamber=Counter(row.facts.chamber or "Unknown" for row in signed).most_common(),
        by_country=Counter(row.facts.country or "Unknown" for row in signed).most_common(),
        party_count=len(parties), largest_party=largest,
        largest_party_share=largest_count / len(signed) if signed else 0.0,
        to_chase=[row for row in rows if row.status in ("no_answer", "correction_requested")])


def mark_chased(session: Session, *, letter_id: int, person_ids: list[int], actor: User | str | None) -> int:
    invitations = list(session.exec(select(SigningInvitation).where(SigningInvitation.letter_id == letter_id,
                                                                    SigningInvitation.person_id.in_(person_ids))))
    for invitation in invitations:
        invitation.last_chased_at = utcnow()
        invitation.chase_count += 1
        session.add(invitation)
    audit.record(session, actor=actor, action="letter.chase", entity_type="letter", entity_id=letter_id,
                 after={"person_ids": [i.person_id for i in invitations]})
    session.flush()
    return len(invitations)


def published_letter(session: Session, *, letter_id: int) -> Letter:
    letter = session.get(Letter, letter_id)
    if letter is None or not letter.publish or letter.state != LetterState.sent:
        raise NotFound("There is no published letter here.")
    return letter


def record_signature(session: Session, *, letter_id: int, person_id: int, printed_name: str, printed_title: str = "",
                     actor: User | str | None) -> Signature:
    """A signature given another way (by e-mail, on paper), recorded by a coordinator; one per person."""
    letter = get_letter(session, letter_id=letter_id)
    if letter.state != LetterState.open_for_signatures:
        raise Conflict("Signatures are recorded while the letter is open for signatures.")
    if session.get(Person, person_id) is None:
        raise InvalidInput("No such person.", errors=[FieldError("person_id", str(person_id))])
    signature = session.exec(select(Signature).where(Signature.letter_id == letter_id,
                                                     Signature.person_id == person_id)).first()
    signature = signature or Signature(letter_id=letter_id, person_id=person_id, status=SignatureStatus.signed,
                                       printed_name=printed_name)
    signature.status, signature.printed_name, signature.printed_title = SignatureStatus.signed, printed_name, \
        printed_title
    signature.responded_at, signature.withdrawn_at = utcnow(), None
    session.add(signature)
    session.flush()
    audit.record(session, actor=actor, action="signature.recorded", entity_type="letter", entity_id=letter_id,
                 after={"person_id": person_id, "printed_name": printed_name})
    return signature
