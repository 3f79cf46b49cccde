"""DOCX from the document model through python-docx, with real Word footnotes.

python-docx has no footnote API, so the footnotes part is written here: each source
gets one ``w:footnote`` referenced where it is first cited (Word numbers them in that
order, which is the order the renderer numbered them); a later citation of the same
source repeats its number as a superscript.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape as xml_escape

from docx import Document as new_docx
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from docx.shared import Mm, Pt, RGBColor

from letters.rendering.document import Document, Figure, LineBreak, NoteRef, Paragraph, Table, Text

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _footnotes_xml(notes: list[tuple[int, str]]) -> bytes:
    body = [
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>',
        '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p>'
        '</w:footnote>',
    ]
    for word_id, text in notes:
        body.append(
            f'<w:footnote w:id="{word_id}"><w:p><w:pPr><w:spacing w:after="0"/></w:pPr>'
            '<w:r><w:rPr><w:vertAlign w:val="superscript"/><w:sz w:val="16"/></w:rPr><w:footnoteRef/></w:r>'
            f'<w:r><w:rPr><w:sz w:val="16"/></w:rPr><w:t xml:space="preserve"> {xml_escape(text)}</w:t></w:r>'
            '</w:p></w:footnote>')
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:footnotes xmlns:w="{_W}">'
            + "".join(body) + "</w:footnotes>").encode()


class _Writer:
    def __init__(self, document: Document):
        self.document = document
        self.notes = {note.number: note for note in document.notes}
        self.placed: list[tuple[int, str]] = []
        self.placed_numbers: set[int] = set()
        self.docx = new_docx()
        section = self.docx.sections[0]
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.left_margin, section.right_margin = Mm(25), Mm(22)
        section.top_margin, section.bottom_margin = Mm(22), Mm(24)
        normal = self.docx.styles["Normal"]
        normal.font.name = "Times New Roman"
        normal.font.size = Pt(11)

    def note_ref(self, paragraph, number: int) -> None:
        if number in self.notes and number not in self.placed_numbers:
            self.placed_numbers.add(number)
            word_id = len(self.placed) + 1
            self.placed.append((word_id, self.notes[number].text))
            paragraph._p.append(parse_xml(
                f'<w:r {nsdecls("w")}><w:rPr><w:vertAlign w:val="superscript"/></w:rPr>'
                f'<w:footnoteReference w:id="{word_id}"/></w:r>'))
        else:
            paragraph.add_run(str(number)).font.superscript = True

    def paragraph(self, block: Paragraph) -> None:
        p = self.docx.add_heading(level=2) if block.heading else self.docx.add_paragraph()
        for part in block.parts:
            if isinstance(part, Text):
                p.add_run(part.text)
            elif isinstance(part, LineBreak):
                p.add_run().add_break()
            elif isinstance(part, NoteRef):
                self.note_ref(p, part.number)

    def figure(self, block: Figure) -> None:
        s = block.snapshot
        value = self.docx.add_paragraph()
        value.paragraph_format.left_indent = Mm(8)
        run = value.add_run(f"\u201c{s.text}\u201d" if s.kind == "quote" else block.value_text)
        run.bold = s.kind != "quote"
        run.italic = s.kind == "quote"
        caption = self.docx.add_paragraph()
        caption.paragraph_format.left_indent = Mm(8)
        caption.add_run(block.caption).font.size = Pt(9)
        self.note_ref(caption, block.note)

    def table(self, block: Table) -> None:
        caption = self.docx.add_paragraph()
        caption.add_run(block.snapshot.title).bold = True
        self.note_ref(caption, block.note)
        table = self.docx.add_table(rows=1, cols=len(block.columns))
        table.style = "Table Grid"
        for cell, name in zip(table.rows[0].cells, block.columns, strict=False):
            cell.text = name
            cell.paragraphs[0].runs[0].bold = True
        for row in block.rows:
            cells = table.add_row().cells
            for cell, value in zip(cells, row, strict=False):
                cell.text = value

    def signatories(self) -> None:
        if not self.document.signatories:
            return
        self.docx.add_heading("Signatories", level=2)
        table = self.docx.add_table(rows=0, cols=2)
        table.alignment = WD_TABLE_ALIGNMENT.LEFT
        for chamber, people in self.document.signatory_groups():
            if chamber:
                row = table.add_row().cells
                merged = row[0].merge(row[1])
                merged.text = chamber
                run = merged.paragraphs[0].runs[0]
                run.bold = True
                run.font.color.rgb = RGBColor(0x1D, 0x35, 0x57)
            for person in people:
                name_cell, title_cell = table.add_row().cells
                name_cell.text = person.printed_name
                name_cell.paragraphs[0].runs[0].bold = True
                title_cell.text = person.printed_title

    def write(self) -> bytes:
        d = self.document
        if d.letterhead.organisation or d.letterhead.name:
            head = self.docx.add_paragraph()
            run = head.add_run(d.letterhead.organisation or d.letterhead.name)
            run.bold = True
            run.font.size = Pt(16)
            run.font.color.rgb = RGBColor(0x1D, 0x35, 0x57)
            for line in (*d.letterhead.address_lines, d.letterhead.email):
                if line:
                    self.docx.add_paragraph().add_run(line).font.size = Pt(8.5)
        date = self.docx.add_paragraph(d.date_text)
        date.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        if d.addressee:
            address = self.docx.add_paragraph()
            for index, line in enumerate(d.addressee):
                if index:
                    address.add_run().add_break()
                address.add_run(line)
        if d.subject:
            self.docx.add_paragraph().add_run(d.subject).bold = True
        for block in d.blocks:
            if isinstance(block, Paragraph):
                self.paragraph(block)
            elif isinstance(block, Figure):
                self.figure(block)
            elif isinstance(block, Table):
                self.table(block)
        self.signatories()
        remaining = [n for n in d.notes if n.number not in self.placed_numbers]
        if remaining:
            self.docx.add_heading("Notes", level=2)
            for note in remaining:
                self.docx.add_paragraph(f"{note.number}. {note.text}")
        if self.placed:
            part = Part(PackURI("/word/footnotes.xml"), CT.WML_FOOTNOTES, _footnotes_xml(self.placed),
                        self.docx.part.package)
            self.docx.part.relate_to(part, RT.FOOTNOTES)
        buffer = io.BytesIO()
        self.docx.save(buffer)
        return buffer.getvalue()


def to_docx(document: Document) -> bytes:
    return _Writer(document).write()
