"""Plain text from the document model, for e-mail bodies: [n] for notes, notes at the end."""

from __future__ import annotations

from letters.rendering.document import Document, Figure, Paragraph, Table


def _table(block: Table) -> list[str]:
    rows = [block.columns, *block.rows]
    widths = [max(len(row[i]) if i < len(row) else 0 for row in rows) for i in range(len(block.columns))]
    lines = [f"{block.snapshot.title} [{block.note}]"]
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return lines


def to_text(document: Document) -> str:
    out: list[str] = []
    letterhead = document.letterhead.organisation or document.letterhead.name
    if letterhead:
        out += [letterhead, ""]
    out += [document.date_text, ""]
    if document.addressee:
        out += [*document.addressee, ""]
    if document.subject:
        out += [document.subject, ""]
    for block in document.blocks:
        if isinstance(block, Paragraph):
            out += [block.plain, ""]
        elif isinstance(block, Figure):
            value = f"\u201c{block.value_text}\u201d" if block.snapshot.kind == "quote" else block.value_text
            out += [f"    {value}", f"    {block.caption} [{block.note}]", ""]
        elif isinstance(block, Table):
            out += [*_table(block), ""]
    if document.signatories:
        out += ["Signatories", ""]
        for chamber, people in document.signatory_groups():
            if chamber:
                out.append(chamber)
            for person in people:
                out.append(person.printed_name + (f", {person.printed_title}" if person.printed_title else ""))
            out.append("")
    if document.notes:
        out += ["Notes", ""]
        out += [f"[{note.number}] {note.text}" for note in document.notes]
        out.append("")
    return "\n".join(out).rstrip() + "\n"
