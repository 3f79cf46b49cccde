"""HTML from the document model: a fragment for pages, and a print page for the PDF.

Everything that came out of a template is text here and is escaped; the only markup
is the letter's own structure.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from letters.rendering.document import (Block, Document, Figure, LineBreak, Note, NoteRef, Paragraph, Sender,
                                       Signatory, Table, Text, signatory_groups)


def _note_map(document: Document) -> dict[int, Note]:
    return {note.number: note for note in document.notes}


def _note_body(note: Note) -> Markup:
    s = note.snapshot
    text = escape(note.text)
    if s.source_url.startswith(("https://", "http://")):  # never a javascript: link
        url = escape(s.source_url)
        text = Markup(str(text).replace(str(url), f'<a href="{url}">{url}</a>', 1))
    return text


# The parts of a letter's HTML, each a function of what it shows, so that a merge for
# thousands of recipients (letters.merge) can write the parts they share once.


def letterhead_html(letterhead: Sender) -> str:
    if not (letterhead.organisation or letterhead.name):
        return ""
    lines = [letterhead.organisation or letterhead.name, *letterhead.address_lines]
    if letterhead.email:
        lines.append(letterhead.email)
    return ('<header class="letterhead"><p class="letterhead-name">'
            + "<br>".join(str(escape(line)) for line in lines[:1])
            + "</p>" + "".join(f'<p class="letterhead-line">{escape(line)}</p>' for line in lines[1:])
            + "</header>")


def date_html(date_text: str) -> str:
    return f'<p class="letter-date">{escape(date_text)}</p>'


def addressee_html(addressee: tuple[str, ...]) -> str:
    if not addressee:
        return ""
    return '<address class="addressee">' + "<br>".join(str(escape(x)) for x in addressee) + "</address>"


def subject_html(subject: str) -> str:
    return f'<p class="letter-subject">{escape(subject)}</p>' if subject else ""


def signatories_html(signatories: tuple[Signatory, ...]) -> str:
    if not signatories:
        return ""
    out = ['<section class="signatories"><h2>Signatories</h2>']
    for chamber, people in signatory_groups(signatories):
        if chamber:
            out.append(f"<h3>{escape(chamber)}</h3>")
        out.append('<ul class="signatory-list">')
        for person in people:
            title = f'<span class="signatory-title">{escape(person.printed_title)}</span>' \
                if person.printed_title else ""
            out.append(f'<li><span class="signatory-name">{escape(person.printed_name)}</span>{title}</li>')
        out.append("</ul>")
    out.append("</section>")
    return "".join(out)


def endnotes_html(notes: tuple[Note, ...] | list[Note]) -> str:
    if not notes:
        return ""
    items = "".join(f'<li id="note-{n.number}" value="{n.number}">{_note_body(n)}</li>' for n in notes)
    return f'<section class="notes"><h2>Notes</h2><ol>{items}</ol></section>'


def article_html(head: str, body: str, signatories: str, notes: str) -> str:
    return f'<article class="letter">{head}<div class="letter-body">{body}</div>{signatories}{notes}</article>'


class _Writer:
    def __init__(self, notes: dict[int, Note], print_mode: bool):
        self.print_mode = print_mode
        self.notes = notes
        self.placed: set[int] = set()

    def ref(self, number: int) -> str:
        if self.print_mode:
            if number not in self.placed and number in self.notes:
                self.placed.add(number)
                return (f'<span class="footnote" data-n="{number}">{_note_body(self.notes[number])}</span>')
            return f'<sup class="note-ref">{number}</sup>'
        return f'<sup class="note-ref"><a href="#note-{number}">{number}</a></sup>'

    def inline(self, paragraph: Paragraph) -> str:
        out = []
        for part in paragraph.parts:
            if isinstance(part, Text):
                out.append(str(escape(part.text)))
            elif isinstance(part, LineBreak):
                out.append("<br>")
            elif isinstance(part, NoteRef):
                out.append(self.ref(part.number))
        return "".join(out)

    def block(self, block) -> str:
        if isinstance(block, Paragraph):
            tag = "h2" if block.heading else "p"
            return f"<{tag}>{self.inline(block)}</{tag}>"
        if isinstance(block, Figure):
            s = block.snapshot
            quote = s.kind == "quote"
            body = f'<blockquote>{escape(s.text)}</blockquote>' if quote else \
                f'<p class="figure-value">{escape(block.value_text)}</p>'
            caption = escape(block.caption)
            return (f'<figure class="evidence evidence-{escape(s.kind)}">{body}'
                    f'<figcaption>{caption}{self.ref(block.note)}</figcaption></figure>')
        if isinstance(block, Table):
            head = "".join(f"<th scope=\"col\">{escape(c)}</th>" for c in block.columns)
            rows = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>"
                           for row in block.rows)
            return (f'<table class="evidence-table"><caption>{escape(block.snapshot.title)}'
                    f'{self.ref(block.note)}</caption><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>')
        raise TypeError(block)

    def article(self, d: Document) -> str:
        head = letterhead_html(d.letterhead) + date_html(d.date_text) + addressee_html(d.addressee) \
            + subject_html(d.subject)
        body = "".join(self.block(b) for b in d.blocks)
        return article_html(head, body, signatories_html(d.signatories),
                            endnotes_html([n for n in d.notes if n.number not in self.placed]))


_FRAGMENT = _Writer({}, print_mode=False)


def fragment_block(block: Block) -> str:
    """One block of the body as the page fragment writes it (note references link to the notes)."""
    return _FRAGMENT.block(block)


def to_html_fragment(document: Document) -> Markup:
    """The letter as an <article> for a web page, notes as a numbered list at the end."""
    return Markup(_Writer({}, print_mode=False).article(document))


PRINT_CSS = """
@page { size: A4; margin: 22mm 22mm 24mm 25mm;
  @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; color: #555; }
  @footnote { margin-top: 3mm; border-top: 0.5pt solid #888; padding-top: 2mm; max-height: 45%; } }
html { font-family: "Liberation Serif", "DejaVu Serif", serif; font-size: 11pt; line-height: 1.4; color: #111; }
.letterhead { border-bottom: 1.5pt solid #1d3557; padding-bottom: 3mm; margin-bottom: 8mm; }
.letterhead-name { font-family: "Liberation Sans", "DejaVu Sans", sans-serif; font-size: 16pt; font-weight: bold;
  color: #1d3557; margin: 0; letter-spacing: 0.02em; }
.letterhead-line { font-family: "Liberation Sans", "DejaVu Sans", sans-serif; font-size: 8.5pt; color: #444; margin: 0; }
.letter-date { text-align: right; margin: 0 0 6mm 0; }
address { font-style: normal; margin-bottom: 8mm; }
.letter-subject { font-weight: bold; margin: 0 0 5mm 0; }
.letter-body p { margin: 0 0 3.2mm 0; text-align: justify; hyphens: auto; orphans: 2; widows: 2; }
.letter-body h2 { font-size: 11pt; margin: 5mm 0 2mm 0; }
/* WeasyPrint needs the @footnote max-height above, or each note is pushed to a page of its own. */
.footnote { float: footnote; font-size: 8.5pt; line-height: 1.25; text-align: left; hyphens: manual;
  font-weight: normal; font-style: normal; color: #111;
  overflow-wrap: anywhere; }
.footnote::footnote-call { content: attr(data-n); vertical-align: super; font-size: 7pt; line-height: 1; }
.footnote::footnote-marker { content: attr(data-n) ". "; }
.note-ref { font-size: 7pt; line-height: 1; }
figure.evidence { margin: 4mm 8mm; padding: 2mm 4mm; border-left: 2pt solid #1d3557; page-break-inside: avoid; }
.figure-value { font-size: 14pt; font-weight: bold; margin: 0; }
figcaption { font-size: 9pt; color: #333; }
blockquote { margin: 0; font-style: italic; }
table.evidence-table { border-collapse: collapse; margin: 4mm 0; font-size: 9pt; width: 100%; page-break-inside: avoid; }
table.evidence-table caption { caption-side: top; text-align: left; font-weight: bold; padding-bottom: 1mm; }
table.evidence-table th, table.evidence-table td { border: 0.5pt solid #999; padding: 1mm 2mm; text-align: left; }
.signatories { margin-top: 8mm; }
.signatories h2 { font-size: 11pt; margin: 0 0 2mm 0; }
.signatories h3 { font-size: 10pt; margin: 4mm 0 1mm 0; color: #1d3557; border-bottom: 0.5pt solid #ccc; }
.signatory-list { list-style: none; padding: 0; margin: 0; columns: 2; column-gap: 8mm; }
.signatory-list li { break-inside: avoid; margin-bottom: 2mm; }
.signatory-name { display: block; font-weight: bold; }
.signatory-title { display: block; font-size: 9pt; color: #333; }
.notes { font-size: 9pt; margin-top: 8mm; }
a { color: inherit; text-decoration: none; }
"""


def to_print_html(document: Document) -> str:
    """A whole A4 page for WeasyPrint: footnotes float to the foot of the page where first cited."""
    article = _Writer(_note_map(document), print_mode=True).article(document)
    title = escape(document.subject or document.campaign.name)
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{PRINT_CSS}</style></head><body>{article}</body></html>")
