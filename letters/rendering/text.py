"""Plain text from the document model, for e-mail bodies: [n] for notes, notes at the end."""

from __future__ import annotations

from letters.rendering.document import (Block, Document, Figure, Note, Paragraph, Sender, Signatory, Table,
                                        signatory_groups)


def _table(block: Table) -> list[str]:
    rows = [block.columns, *block.rows]
    widths = [max(len(row[i]) if i < len(row) else 0 for row in rows) for i in range(len(block.columns))]
    lines = [f"{block.snapshot.title} [{block.note}]"]
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return lines


# The parts of the text, each a function of what it shows (letters.merge writes shared parts once).


def letterhead_lines(letterhead: Sender, date_text: str) -> list[str]:
    name = letterhead.organisation or letterhead.name
    return [name, "", date_text, ""] if name else [date_text, ""]


def addressee_lines(addressee: tuple[str, ...], subject: str) -> list[str]:
    out: list[str] = []
    if addressee:
        out += [*addressee, ""]
    if subject:
        out += [subject, ""]
    return out


def block_lines(block: Block) -> list[str]:
    if isinstance(block, Paragraph):
        return [block.plain, ""]
    if isinstance(block, Figure):
        value = f"\u201c{block.value_text}\u201d" if block.snapshot.kind == "quote" else block.value_text
        return [f"    {value}", f"    {block.caption} [{block.note}]", ""]
    if isinstance(block, Table):
        return [*_table(block), ""]
    return []


def signatory_lines(signatories: tuple[Signatory, ...]) -> list[str]:
    if not signatories:
        return []
    out = ["Signatories", ""]
    for chamber, people in signatory_groups(signatories):
        if chamber:
            out.append(chamber)
        for person in people:
            out.append(person.printed_name + (f", {person.printed_title}" if person.printed_title else ""))
        out.append("")
    return out


def note_lines(notes: tuple[Note, ...]) -> list[str]:
    if not notes:
        return []
    return ["Notes", "", *(f"[{note.number}] {note.text}" for note in notes), ""]


def joined(lines: list[str]) -> str:
    return "\n".join(lines).rstrip() + "\n"


def to_text(document: Document) -> str:
    out = letterhead_lines(document.letterhead, document.date_text)
    out += addressee_lines(document.addressee, document.subject)
    for block in document.blocks:
        out += block_lines(block)
    out += signatory_lines(document.signatories)
    out += note_lines(document.notes)
    return joined(out)
