"""One letter merged for many recipients, with what they share loaded, compiled and written once.

``render_letter`` in letters.service renders for one recipient and loads the campaign,
the signatories and each cited evidence version again every time. ``LetterMerge`` loads
the letter's recipients, signatories and evidence in a few bulk queries, compiles the
templates once, and then renders each recipient: only the templates run per recipient.
The parts of the output that recipients share (letterhead, signatory block, notes, and
every paragraph whose text comes out the same) are written once and reused; when the
templates cite the same items in the same order whatever the recipient
(``engine.fixed_citations``), the first recipient's footnote numbering is replayed for
the others, and a subject that does not read the recipient is rendered once.

Each ``MergedLetter`` holds the same Document that ``render_letter`` builds for that
recipient, and the same HTML and text that ``to_html_fragment`` and ``to_text`` write
from it (tests/letters/test_merge.py checks both).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from sqlmodel import Session

from campaign.models import Campaign
from letters import service
from letters.recipients import recipients as recipients_of
from letters.models import Letter
from letters.rendering.document import (PARAGRAPH_BREAK, Block, CampaignInfo, Document, MergeContext, Note,
                                        Recipient, Sender, block_of, evidence_index, order_signatories)
from letters.rendering.engine import (BLOCK_OPEN, DEFAULT_LIMITS, MARKER, Citations, EvidenceSnapshot, Limits,
                                      RenderError, _Marker, fixed_citations, render_text, uses_name)
from letters.rendering.html import (addressee_html, article_html, date_html, endnotes_html, fragment_block,
                                    letterhead_html, signatories_html, subject_html)
from letters.rendering.text import addressee_lines, block_lines, letterhead_lines, note_lines, signatory_lines

# Paragraphs kept once written; a letter personalised throughout stops adding at this many.
MAX_SHARED_BLOCKS = 2000


class MergedLetter:
    """One recipient's letter: subject, text and HTML, and the Document they were written from."""

    __slots__ = ("recipient", "subject", "text", "html", "_document")

    def __init__(self, recipient: Recipient | None, subject: str, text: str, html: str,
                 document: Callable[[], Document]):
        self.recipient, self.subject, self.text, self.html, self._document = recipient, subject, text, html, document

    @property
    def document(self) -> Document:
        """The Document render_letter builds for this recipient (for the PDF and DOCX)."""
        return self._document()


class _Recording(Citations):
    """Citations that also note each slug as the template wrote it, for a replay."""

    def __init__(self, lookup: Callable[[str], EvidenceSnapshot]):
        super().__init__(lookup)
        self.cited: dict[str, _Marker] = {}
        self.placed: list[tuple[str, _Marker]] = []

    def cite(self, slug) -> _Marker:
        marker = super().cite(slug)
        self.cited[slug] = marker
        return marker

    def evidence(self, slug) -> _Marker:
        marker = super().evidence(slug)
        self.placed.append((slug, marker))
        return marker


class _Replay(Citations):
    """The first recipient's citations, handed out again: a template with fixed citations
    (engine.fixed_citations) makes the same calls in the same order for everyone.

    ``cite`` and ``evidence`` are plain dictionary look-ups by the slug as written, so that
    replaying costs a template no more than printing a prepared value.
    """

    def __init__(self, recorded: _Recording):
        self.numbers = recorded.numbers
        self.snapshots = recorded.snapshots
        self.blocks = recorded.blocks
        self.cite = dict(recorded.cited).__getitem__
        placed = dict(recorded.placed)
        if len(placed) == len(recorded.placed):
            self.evidence = placed.__getitem__
        else:  # the same item placed twice: its markers go out in order
            self.evidence = self._in_order
            self._placed = recorded.placed
        self.calls = 0

    def _in_order(self, slug) -> _Marker:
        if self.calls >= len(self._placed) or self._placed[self.calls][0] != slug:
            raise LookupError(slug)
        self.calls += 1
        return self._placed[self.calls - 1][1]


def evidence_for(session: Session, letter: Letter, *, frozen: bool = True) -> Callable[[str], EvidenceSnapshot]:
    """``service.evidence_lookup`` with the frozen versions read in one query and every answer kept."""
    pinned: dict[str, EvidenceSnapshot] = {}
    if frozen and letter.state in service.FROZEN:
        pinned = {citation.slug: service.snapshot_of(version)
                  for citation, version in service.cited_versions(session, letter_id=letter.id)}
    current = service.evidence_lookup(session, letter, frozen=False)
    found: dict[str, EvidenceSnapshot | None] = {}

    def lookup(slug: str) -> EvidenceSnapshot:
        if slug in pinned:
            return pinned[slug]
        if slug not in found:
            try:
                found[slug] = current(slug)
            except LookupError:
                found[slug] = None
        if found[slug] is None:
            raise LookupError(slug)
        return found[slug]

    return lookup


# --- the merge -------------------------------------------------------------------------------


class LetterMerge:
    """A letter ready to render for each of its recipients (or for ``recipients`` given)."""

    def __init__(self, session: Session, *, letter: Letter, recipients: Iterable[Recipient] | None = None,
                 frozen: bool = True, limits: Limits = DEFAULT_LIMITS):
        campaign = session.get(Campaign, letter.campaign_id)
        self.recipients = list(recipients) if recipients is not None else recipients_of(session, letter=letter)
        self.context = MergeContext(
            campaign=CampaignInfo(name=campaign.name, slug=campaign.slug, timezone=campaign.timezone,
                                  summary=campaign.summary),
            letter_date=service.letter_date(letter),
            sender=Sender(name=letter.sender_name, organisation=letter.sender_organisation, email=letter.sender_email),
            signatories=tuple(service.letter_signatories(session, letter_id=letter.id)))
        self.lookup = evidence_for(session, letter, frozen=frozen)
        self.subject_source, self.body_source, self.limits = letter.subject, letter.body, limits
        self._values = self.context.template_values()
        self._date_text = self.context.date_text
        self._signatories = tuple(order_signatories(self.context.signatories))
        self._head_html = letterhead_html(self.context.sender) + date_html(self._date_text)
        self._head_text = "\n".join(letterhead_lines(self.context.sender, self._date_text))
        self._signatories_html = signatories_html(self._signatories)
        self._signatories_text = "\n".join(signatory_lines(self._signatories))
        self._pieces: dict[str, tuple[str, int | None] | None] = {}
        self._blocks: dict[object, tuple[Block, str, str]] = {}
        self._notes: dict[tuple, tuple[tuple[Note, ...], str, str]] = {}
        self._fixed = (fixed_citations(self.subject_source, limits) and fixed_citations(self.body_source, limits))
        self._replay: _Replay | None = None
        # With the numbering replayed, a subject that does not read the recipient comes out the same for all.
        self._same_subject = not uses_name(self.subject_source, "recipient", limits)
        self._subject: str | None = None
        self._subject_html = ("", "")
        self._replayed: dict[str, tuple[Block | None, str, str]] = {}
        self._replayed_notes: tuple[tuple[Note, ...], str, str] | None = None

    def __iter__(self) -> Iterator[MergedLetter]:
        return (self.render(recipient) for recipient in self.recipients)

    def render(self, recipient: Recipient | None) -> MergedLetter:
        """The letter for one recipient; a template that fails raises RenderError naming them."""
        if self._replay is not None:
            self._replay.calls = 0
            try:
                return self._render(recipient, self._replay)
            except RenderError:
                pass  # rendered again below, with citations of its own, for the error it really has
        citations = _Recording(self.lookup) if self._fixed and self._replay is None else Citations(self.lookup)
        merged = self._render(recipient, citations)
        if isinstance(citations, _Recording):
            self._replay = _Replay(citations)
        return merged

    def _render(self, recipient: Recipient | None, citations: Citations) -> MergedLetter:
        values = {**self._values, "recipient": recipient} if recipient is not None else self._values
        try:
            if citations is self._replay and self._subject is not None:
                subject = self._subject
            else:
                subject = render_text(self.subject_source, context=values, citations=citations, part="subject",
                                      limits=self.limits)
                subject = " ".join(MARKER.sub("", subject).split())
                if self._fixed and self._same_subject:
                    self._subject = subject
            body = render_text(self.body_source, context=values, citations=citations, part="body",
                               limits=self.limits)
        except RenderError as error:  # named as render_text names it, worked out only when needed
            raise type(error)(error.message, part=error.part, line=error.line, field_name=error.field_name,
                              recipient=recipient.formal_name if recipient is not None else "") from None
        addressee = recipient.address_block if recipient is not None else ()
        texts = [self._head_text]
        head = addressee_lines(addressee, subject)
        if head:
            texts.append("\n".join(head))
        # Replayed, a paragraph's text says all there is to know about its block: one lookup.
        known = self._replayed if citations is self._replay else None
        written = []
        for piece in PARAGRAPH_BREAK.split(body.replace("\r\n", "\n")):
            block = known.get(piece) if known is not None else None
            if block is None:
                block = self._block(piece, citations)
                if known is not None and len(known) < MAX_SHARED_BLOCKS:
                    known[piece] = block
            if block[0] is not None:
                written.append(block)
        blocks = [block for block, _, _ in written]
        texts += [text for _, _, text in written]
        notes, notes_html, notes_text = self._notes_of(citations)
        if self._signatories_text:
            texts.append(self._signatories_text)
        if notes_text:
            texts.append(notes_text)

        def document() -> Document:
            return Document(subject=subject, date_text=self._date_text, letterhead=self.context.sender,
                            campaign=self.context.campaign, addressee=addressee, blocks=tuple(blocks), notes=notes,
                            signatories=self._signatories)

        if subject != self._subject_html[0]:
            self._subject_html = (subject, subject_html(subject))
        head_html = self._head_html + addressee_html(addressee) + self._subject_html[1]
        html = article_html(head_html, "".join([html for _, html, _ in written]), self._signatories_html, notes_html)
        # As text.joined writes the lines of all the parts.
        return MergedLetter(recipient, subject, "\n".join(texts).rstrip() + "\n", html, document)

    def _block(self, piece: str, citations: Citations) -> tuple[Block | None, str, str]:
        """A paragraph of the rendered body as a block with its HTML and text, written once per distinct one."""
        if piece in self._pieces:
            known = self._pieces[piece]
        else:  # as document.chunks tidies a paragraph
            chunk = "\n".join(line.rstrip() for line in piece.strip("\n").split("\n")).strip()
            known = (chunk, evidence_index(chunk) if BLOCK_OPEN in chunk else None) if chunk else None
            if len(self._pieces) < MAX_SHARED_BLOCKS:
                self._pieces[piece] = known
        if known is None:
            return None, "", ""
        chunk, index = known
        placed = citations.blocks[index] if index is not None else None
        # An evidence chunk's text is only its index: the block is what that index placed.
        key = (id(placed[0]), placed[1]) if placed is not None else chunk
        written = self._blocks.get(key)
        if written is None:
            block = block_of(chunk, placed)
            written = (block, fragment_block(block), "\n".join(block_lines(block)))
            if len(self._blocks) < MAX_SHARED_BLOCKS:
                self._blocks[key] = written
        return written

    def _notes_of(self, citations: Citations) -> tuple[tuple[Note, ...], str, str]:
        if citations is self._replay:  # the same numbering every time
            if self._replayed_notes is None:
                self._replayed_notes = self._write_notes(citations)
            return self._replayed_notes
        return self._write_notes(citations)

    def _write_notes(self, citations: Citations) -> tuple[tuple[Note, ...], str, str]:
        key = tuple((slug, number, id(citations.snapshots[slug])) for slug, number in citations.numbers.items())
        written = self._notes.get(key)
        if written is None:
            notes = tuple(Note(number, snapshot) for number, snapshot in citations.ordered())
            written = self._notes[key] = (notes, endnotes_html(notes), "\n".join(note_lines(notes)))
        return written


def merge_letter(session: Session, *, letter: Letter, recipients: Iterable[Recipient] | None = None,
                 frozen: bool = True) -> Iterator[MergedLetter]:
    """The letter rendered for each recipient in turn (by default everyone ``service.recipients`` finds)."""
    return iter(LetterMerge(session, letter=letter, recipients=recipients, frozen=frozen))
