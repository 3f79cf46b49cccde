"""The document model: one rendering of a letter, from which every format is written.

``render_document`` runs the subject and body templates once and returns a
``Document`` (letterhead, date, addressee, paragraphs with footnote references, inline
figures and tables, the notes, and the signatory block ordered by chamber then
surname). The HTML, text, PDF and DOCX writers only read this model, so the four
never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from letters.rendering.engine import (BLOCK_OPEN, DEFAULT_LIMITS, MARKER, NOTE_OPEN, Citations, EvidenceLookup,
                                     EvidenceSnapshot, Limits, render_text)

# --- merge fields -------------------------------------------------------------------------

PEER_TITLES = ("Baroness", "Viscountess", "Viscount", "Countess", "Marchioness", "Marquess", "Duchess", "Duke",
               "Earl", "Lady", "Lord", "Baron")
HONORIFICS = ("Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Professor")
_COURTESY = re.compile(r"^(the\s+)?(rt\.?\s+|right\s+)?(hon\.?|honourable)\s+", re.IGNORECASE)

# Offices addressed by the office itself, whoever holds it.
OFFICE_SALUTATIONS = {
    "prime minister": "Dear Prime Minister",
    "deputy prime minister": "Dear Deputy Prime Minister",
    "chancellor of the exchequer": "Dear Chancellor",
    "foreign secretary": "Dear Foreign Secretary",
    "home secretary": "Dear Home Secretary",
    "speaker": "Dear Mr Speaker",
    "high representative": "Dear High Representative",
}


def _strip_courtesy(prefix: str) -> str:
    return _COURTESY.sub("", prefix.strip()).strip()


def _peer_title(prefix: str, name: str) -> tuple[str, str] | None:
    """('Lord', 'Alton') for prefix 'Lord' and name 'Lord Alton of Liverpool'."""
    for title in PEER_TITLES:
        if prefix == title or name.startswith(title + " "):
            rest = name[len(title) + 1:] if name.startswith(title + " ") else name
            territorial = rest.split(" of ")[0].strip()
            return title, territorial.split()[-1] if territorial else rest
    return None


@dataclass(frozen=True)
class Recipient:
    """Who a letter is addressed to, with what the salutation and address need."""

    name: str
    given_name: str = ""
    family_name: str = ""
    honorific_prefix: str = ""
    honorific_suffix: str = ""
    office: str = ""
    chamber: str = ""
    party: str = ""
    country: str = ""
    email: str = ""
    address_lines: tuple[str, ...] = ()
    person_id: int | None = None

    @property
    def surname(self) -> str:
        return self.family_name or (self.name.split()[-1] if self.name.split() else "")

    @property
    def salutation(self) -> str:
        return salutation_for(self)

    @property
    def formal_name(self) -> str:
        """The name as written on the envelope: 'The Rt Hon Rishi Sunak MP', 'Lord Alton of Liverpool'."""
        prefix = self.honorific_prefix.strip()
        name = self.name.strip()
        if prefix and name.startswith(prefix.split()[-1] + " "):
            prefix = " ".join(prefix.split()[:-1])  # 'Lord' + 'Lord Alton of Liverpool'
        return " ".join(part for part in (prefix, name, self.honorific_suffix.strip()) if part)

    @property
    def address_block(self) -> tuple[str, ...]:
        lines = [self.formal_name]
        if self.office:
            lines.append(self.office)
        lines.extend(line for line in self.address_lines if line.strip())
        return tuple(lines)


def salutation_for(recipient: Recipient) -> str:
    """'Dear Prime Minister', 'Dear Lord Alton', 'Dear Ms Champion', 'Dear Senator Rubio'."""
    office = recipient.office.strip().lower()
    if office in OFFICE_SALUTATIONS:
        return OFFICE_SALUTATIONS[office]
    if office.startswith("secretary of state"):
        return "Dear Secretary of State"
    if office.startswith("minister"):
        return "Dear Minister"
    if office.startswith("commissioner") or office.startswith("european commissioner"):
        return f"Dear Commissioner {recipient.surname}".strip()
    prefix = _strip_courtesy(recipient.honorific_prefix)
    peer = _peer_title(prefix, recipient.name.strip())
    if peer:
        return f"Dear {peer[0]} {peer[1]}"
    chamber = recipient.chamber.lower()
    if recipient.country.upper() == "US" or "congress" in chamber:
        if "senate" in chamber:
            return f"Dear Senator {recipient.surname}"
        if "representatives" in chamber:
            return f"Dear Representative {recipient.surname}"
    first_word = prefix.split()[0].rstrip(".") if prefix else ""
    if first_word in ("Sir", "Dame"):
        given = recipient.given_name or (recipient.name.split()[0] if recipient.name.split() else "")
        return f"Dear {first_word} {given}"
    if first_word in HONORIFICS:
        return f"Dear {first_word} {recipient.surname}"
    return f"Dear {recipient.name.strip()}"


@dataclass(frozen=True)
class Signatory:
    """A co-signer as they confirmed how their name is printed."""

    printed_name: str
    printed_title: str = ""
    chamber: str = ""
    party: str = ""
    country: str = ""
    surname: str = ""
    person_id: int | None = None


def chamber_rank(chamber: str) -> int:
    """Elected chambers first, then upper houses, then everyone else (the order letters use)."""
    lowered = chamber.lower()
    if any(word in lowered for word in ("commons", "representatives", "european parliament", "assembly",
                                        "bundestag", "national council", "dáil", "chamber of deputies")):
        return 0
    if any(word in lowered for word in ("lords", "senate", "senat", "bundesrat", "seanad")):
        return 1
    return 2 if chamber else 3


def order_signatories(signatories: Sequence[Signatory]) -> list[Signatory]:
    def key(s: Signatory) -> tuple:
        surname = (s.surname or (s.printed_name.split()[-1] if s.printed_name.split() else "")).casefold()
        return (chamber_rank(s.chamber), s.chamber.casefold(), surname, s.printed_name.casefold())

    return sorted(signatories, key=key)


@dataclass(frozen=True)
class Sender:
    name: str = ""
    organisation: str = ""
    email: str = ""
    address_lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class CampaignInfo:
    name: str
    slug: str = ""
    timezone: str = "Europe/London"
    summary: str = ""


def format_date(value: date | datetime, timezone: str = "Europe/London") -> str:
    """'24 November 2026', in the campaign's time zone when given a moment."""
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(timezone)).date()
    return f"{value.day} {value:%B %Y}"


@dataclass(frozen=True)
class MergeContext:
    """Everything a template may print, for one recipient."""

    campaign: CampaignInfo
    letter_date: date | datetime
    recipient: Recipient | None = None
    sender: Sender = field(default_factory=Sender)
    signatories: tuple[Signatory, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def date_text(self) -> str:
        return format_date(self.letter_date, self.campaign.timezone)

    def template_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            "campaign": self.campaign,
            "sender": self.sender,
            "signatories": order_signatories(self.signatories),
            "signatory_count": len(self.signatories),
            "date": self.date_text,
            **self.extra,
        }
        if self.recipient is not None:
            values["recipient"] = self.recipient
        return values


# --- the document -------------------------------------------------------------------------

@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class NoteRef:
    number: int


@dataclass(frozen=True)
class LineBreak:
    pass


Inline = Text | NoteRef | LineBreak


@dataclass(frozen=True)
class Paragraph:
    parts: tuple[Inline, ...]
    heading: bool = False

    @property
    def plain(self) -> str:
        return "".join(p.text if isinstance(p, Text) else "\n" if isinstance(p, LineBreak) else f"[{p.number}]"
                       for p in self.parts)


@dataclass(frozen=True)
class Figure:
    """An evidence item placed inline: a figure, a quote, a claim."""

    snapshot: EvidenceSnapshot
    note: int

    @property
    def caption(self) -> str:
        """A quote is captioned by its speaker; anything else by its title."""
        speaker = str(self.snapshot.data.get("speaker") or "") if self.snapshot.kind == "quote" else ""
        return f"— {speaker}" if speaker else self.snapshot.title

    @property
    def value_text(self) -> str:
        data = self.snapshot.data
        if self.snapshot.kind == "figure" and "value" in data:
            value = data["value"]
            number = f"{value:,}" if isinstance(value, int) else f"{value:,.2f}".rstrip("0").rstrip(".") \
                if isinstance(value, float) else str(value)
            unit = str(data.get("unit") or "")
            text = f"{number}%" if unit == "%" else f"{number} {unit}".strip()
            if data.get("as_of"):
                text += f" (as of {data['as_of']})"
            return text
        return self.snapshot.text


@dataclass(frozen=True)
class Table:
    snapshot: EvidenceSnapshot
    note: int

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.snapshot.data.get("columns", [])]

    @property
    def rows(self) -> list[list[str]]:
        return [["" if cell is None else str(cell) for cell in row] for row in self.snapshot.data.get("rows", [])]


Block = Paragraph | Figure | Table


@dataclass(frozen=True)
class Note:
    number: int
    snapshot: EvidenceSnapshot

    @property
    def text(self) -> str:
        """'Source title, Publisher, 18 January 2022, https://…, accessed 24 November 2026.'"""
        s = self.snapshot
        parts = [s.source_title or s.title]
        if s.source_author:
            parts.append(s.source_author)
        if s.source_date:
            parts.append(format_date(s.source_date))
        if s.source_url:
            parts.append(s.source_url)
        text = ", ".join(p for p in parts if p)
        if s.accessed_date:
            text += f" (accessed {format_date(s.accessed_date)})"
        return text + "."


@dataclass(frozen=True)
class Document:
    subject: str
    date_text: str
    letterhead: Sender
    campaign: CampaignInfo
    addressee: tuple[str, ...]
    blocks: tuple[Block, ...]
    notes: tuple[Note, ...]
    signatories: tuple[Signatory, ...]

    @property
    def cited(self) -> tuple[EvidenceSnapshot, ...]:
        return tuple(note.snapshot for note in self.notes)

    def signatory_groups(self) -> list[tuple[str, list[Signatory]]]:
        return signatory_groups(self.signatories)


def signatory_groups(signatories: Sequence[Signatory]) -> list[tuple[str, list[Signatory]]]:
    """Consecutive signatories of the same chamber, as the signatory block shows them."""
    groups: list[tuple[str, list[Signatory]]] = []
    for signatory in signatories:
        if not groups or groups[-1][0] != signatory.chamber:
            groups.append((signatory.chamber, []))
        groups[-1][1].append(signatory)
    return groups


def _inline(text: str) -> tuple[Inline, ...]:
    parts: list[Inline] = []
    for line_number, line in enumerate(text.split("\n")):
        if line_number:
            parts.append(LineBreak())
        position = 0
        for match in MARKER.finditer(line):
            if match.start() > position:
                parts.append(Text(line[position:match.start()]))
            if match.group(1) == NOTE_OPEN:
                parts.append(NoteRef(int(match.group(2))))
            position = match.end()
        if position < len(line):
            parts.append(Text(line[position:]))
    return tuple(parts)


PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


def chunks(text: str) -> list[str]:
    """The rendered body cut into the texts of its blocks (paragraphs, headings, evidence)."""
    found = []
    for chunk in PARAGRAPH_BREAK.split(text.replace("\r\n", "\n")):
        chunk = "\n".join(line.rstrip() for line in chunk.strip("\n").split("\n")).strip()
        if chunk:
            found.append(chunk)
    return found


def evidence_index(chunk: str) -> int | None:
    """The index in ``Citations.blocks`` of the evidence a chunk places, or None for text."""
    only = MARKER.fullmatch(chunk)
    return int(only.group(2)) if only and only.group(1) == BLOCK_OPEN else None


def block_of(chunk: str, placed: tuple[EvidenceSnapshot, int] | None = None) -> Block:
    """One block from its chunk; ``placed`` is the (snapshot, note number) of an evidence chunk."""
    if placed is not None:
        snapshot, number = placed
        return Table(snapshot, number) if snapshot.kind == "table" else Figure(snapshot, number)
    if chunk.startswith("## ") or chunk.startswith("# "):
        return Paragraph(_inline(chunk.lstrip("#").strip()), heading=True)
    return Paragraph(_inline(chunk))


def _blocks(text: str, citations: Citations) -> list[Block]:
    blocks: list[Block] = []
    for chunk in chunks(text):
        index = evidence_index(chunk)
        blocks.append(block_of(chunk, citations.blocks[index] if index is not None else None))
    return blocks


def render_document(*, subject: str, body: str, context: MergeContext, lookup: EvidenceLookup,
                    limits: Limits = DEFAULT_LIMITS) -> Document:
    """Render a template for one recipient (or none) into the document every format is written from."""
    citations = Citations(lookup)
    values = context.template_values()
    who = context.recipient.formal_name if context.recipient else ""
    subject_text = render_text(subject, context=values, citations=citations, part="subject", recipient=who,
                               limits=limits)
    body_text = render_text(body, context=values, citations=citations, part="body", recipient=who, limits=limits)
    subject_text = " ".join(MARKER.sub("", subject_text).split())
    return Document(
        subject=subject_text,
        date_text=context.date_text,
        letterhead=context.sender,
        campaign=context.campaign,
        addressee=context.recipient.address_block if context.recipient else (),
        blocks=tuple(_blocks(body_text, citations)),
        notes=tuple(Note(number, snapshot) for number, snapshot in citations.ordered()),
        signatories=tuple(order_signatories(context.signatories)),
    )
