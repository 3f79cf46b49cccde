from __future__ import annotations

import io
import logging
import re
import zipfile
from datetime import UTC, datetime

import pytest
from docx import Document as read_docx
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from letters.rendering import (Recipient, RenderError, SandboxRefused, render_document, salutation_for, to_docx,
                               to_html_fragment, to_pdf, to_text)
from letters.rendering.document import NoteRef, Paragraph, format_date
from letters.rendering.engine import Limits
from tests.letters.snapshots import EVIDENCE, PRIME_MINISTER, context, lookup

BODY = """{{ recipient.salutation }},

Between 2015 and 2017 Liu Jianchao had ultimate command of thousands of operations{{ cite("liu-command") }}.
Sky Net claims more returns{{ cite("skynet-returns") }}, and Liu's role is documented{{ cite("liu-command") }}.

{{ evidence("ir-methods-2018") }}

{{ evidence("liuzhi-quote") }}

Yours sincerely,"""


def render(body: str = BODY, subject: str = "Visit of Liu Jianchao", **kwargs):
    return render_document(subject=subject, body=body, context=context(**kwargs), lookup=lookup)


def test_footnotes_number_by_first_use_and_repeat_their_number():
    document = render()
    refs = [part.number for block in document.blocks if isinstance(block, Paragraph)
            for part in block.parts if isinstance(part, NoteRef)]
    assert refs == [1, 2, 1]
    assert [(n.number, n.snapshot.slug) for n in document.notes] == [
        (1, "liu-command"), (2, "skynet-returns"), (3, "ir-methods-2018"), (4, "liuzhi-quote")]
    assert "Safeguard Defenders, 15 August 2024, https://safeguarddefenders.com/en/blog/liu-jianchao " \
           "(accessed 24 November 2026)." in document.notes[0].text
    assert [s.version for s in document.cited] == [1, 2, 1, 1]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(sorted(EVIDENCE)), min_size=1, max_size=12))
def test_footnote_numbering_property(slugs):
    body = " ".join(f'x{{{{ cite("{slug}") }}}}' for slug in slugs)
    document = render(body=body)
    first_use = list(dict.fromkeys(slugs))
    assert [note.snapshot.slug for note in document.notes] == first_use
    numbers = [part.number for part in document.blocks[0].parts if isinstance(part, NoteRef)]
    assert numbers == [first_use.index(slug) + 1 for slug in slugs]
    text = to_text(document)
    assert [int(n) for n in re.findall(r"x\[(\d+)\]", text)] == numbers


def test_salutations_by_chamber_and_title():
    assert salutation_for(PRIME_MINISTER) == "Dear Prime Minister"
    assert salutation_for(Recipient(name="Lord Alton of Liverpool", honorific_prefix="Lord",
                                    chamber="House of Lords")) == "Dear Lord Alton"
    assert salutation_for(Recipient(name="Sarah Champion", family_name="Champion", honorific_prefix="Ms",
                                    honorific_suffix="MP", chamber="House of Commons")) == "Dear Ms Champion"
    assert salutation_for(Recipient(name="Baroness Kennedy of The Shaws")) == "Dear Baroness Kennedy"
    assert salutation_for(Recipient(name="Iain Duncan Smith", given_name="Iain", honorific_prefix="The Rt Hon Sir",
                                    honorific_suffix="MP")) == "Dear Sir Iain"
    assert salutation_for(Recipient(name="Marco Rubio", family_name="Rubio", chamber="United States Senate",
                                    country="US")) == "Dear Senator Rubio"
    assert salutation_for(Recipient(name="David Lammy", office="Secretary of State for Foreign, Commonwealth "
                                    "and Development Affairs")) == "Dear Secretary of State"
    assert PRIME_MINISTER.formal_name == "The Rt Hon Rishi Sunak MP"
    assert Recipient(name="Lord Alton of Liverpool", honorific_prefix="Lord").formal_name == "Lord Alton of Liverpool"


def test_dates_are_in_the_campaign_time_zone():
    late_evening_utc = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    assert format_date(late_evening_utc, "Europe/London") == "1 July 2026"
    assert format_date(late_evening_utc, "America/New_York") == "30 June 2026"


def test_signatories_are_ordered_by_chamber_then_surname():
    document = render()
    assert [s.printed_name for s in document.signatories] == [
        "Alistair Carmichael MP", "Sarah Champion MP", "Tim Loughton MP", "Lord Alton of Liverpool"]
    assert [chamber for chamber, _ in document.signatory_groups()] == ["House of Commons", "House of Lords"]


def test_missing_field_names_the_line_the_field_and_the_recipient():
    with pytest.raises(RenderError) as caught:
        render(body="Dear {{ recipient.salutation }},\n\nWe note {{ recipient.constituency }}.")
    error = caught.value
    assert error.line == 3 and error.field_name == "constituency"
    assert "line 3" in error.detail and "constituency" in error.detail and "The Rt Hon Rishi Sunak MP" in error.detail
    with pytest.raises(RenderError) as caught:
        render(body="ok\n{{ petition_url }}")
    assert caught.value.field_name == "petition_url" and caught.value.line == 2


def test_unknown_evidence_slug_is_an_error_naming_it():
    with pytest.raises(RenderError) as caught:
        render(body='Line one\n{{ cite("no-such-item") }}')
    assert "no-such-item" in caught.value.detail and caught.value.line == 2


def test_syntax_error_names_the_line():
    with pytest.raises(RenderError) as caught:
        render(body="one\ntwo {{ recipient.name \nthree")
    assert caught.value.line in (2, 3)


ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ recipient.__class__.__init__.__globals__ }}",
    "{{ cite.__globals__['os'] }}",
    "{{ recipient['__class__'] }}",
    "{{ ''|attr('__class__') }}",
    "{{ '{0.__class__}'.format(recipient) }}",
    "{{ '{x.__class__}'.format_map({'x': recipient}) }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'] }}",
    "{{ request.application.__globals__ }}",
    "{{ config.items() }}",
    "{{ self.__init__.__globals__ }}",
    "{% set x = recipient.__class__ %}{{ x }}",
    "{{ '%s' % recipient }}",
    "{% include 'base.html' %}",
    "{{ recipient[('__cla' ~ 'ss__')] }}",
]


@pytest.mark.parametrize("payload", ESCAPES)
def test_sandbox_escape_payloads_are_refused_and_logged(payload, caplog):
    with caplog.at_level(logging.WARNING, logger="letters.rendering.engine"):
        with pytest.raises(RenderError) as caught:
            render(body=f"Dear colleague,\n\n{payload}")
    assert caught.value.line == 3
    assert "uid=" not in caught.value.detail
    if isinstance(caught.value, SandboxRefused):
        assert caplog.records, "a refusal is logged"


@pytest.mark.parametrize("bomb", [
    "{% for i in range(100000000) %}x{% endfor %}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{{ 'x' * 100000000 }}",
    "{{ [1] * 100000000 }}",
    "{{ 10 ** 100000000 }}",
    "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
    "{% macro f(n) %}{% if n < 40 %}{{ f(n+1) }}{{ f(n+1) }}{% endif %}{% endmacro %}{{ f(0) }}",
    "{{ 'x'.ljust(1000000000) }}",
    "{% for i in range(20000) %}{{ 'long line of text ' * 20 }}{% endfor %}",
])
def test_range_bombs_and_recursion_are_stopped(bomb):
    with pytest.raises(RenderError):
        render_document(subject="", body=bomb, context=context(), lookup=lookup,
                        limits=Limits(max_seconds=0.5))


def test_template_text_is_escaped_in_html_and_cannot_forge_markers():
    document = render(body="<script>alert(1)</script> {{ recipient.name }} \ue0001\ue001",
                      recipient=Recipient(name="<b>Evil</b> \ue0002\ue001"))
    html = str(to_html_fragment(document))
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;Evil&lt;/b&gt;" in html
    assert document.notes == ()


def test_text_export_has_notes_and_signatories():
    text = to_text(render())
    assert "Dear Prime Minister," in text
    assert "operations[1]" in text and "documented[1]" in text
    assert "[2] Involuntary Returns - report exposes long-arm policing overseas, Safeguard Defenders, " \
           "18 January 2022" in text
    assert text.index("House of Commons") < text.index("Sarah Champion MP") < text.index("House of Lords")


def test_pdf_reads_back_with_footnotes_and_signatories():
    pdf = to_pdf(render())
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    page = reader.pages[0]
    width_mm, height_mm = float(page.mediabox.width) * 25.4 / 72, float(page.mediabox.height) * 25.4 / 72
    assert round(width_mm) == 210 and round(height_mm) == 297  # A4
    text = " ".join(p.extract_text() for p in reader.pages)
    flat = " ".join(text.split())
    for expected in ("Inter-Parliamentary Alliance on China", "24 November 2026", "Dear Prime Minister",
                     "Liu Jianchao - caught by his own investigators", "Involuntary Returns",
                     "Sarah Champion MP", "Lord Alton of Liverpool", "House of Lords",
                     "Chair, International Development Committee", "64%"):
        assert expected in flat, expected
    assert flat.count("caught by his own investigators") == 1  # one note for two citations


def test_docx_has_real_footnotes_and_a_signatory_table():
    data = to_docx(render())
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        footnotes = archive.read("word/footnotes.xml").decode()
        body = archive.read("word/document.xml").decode()
    assert footnotes.count("<w:footnote ") == 6  # two separators and four notes
    assert "Liu Jianchao - caught by his own investigators" in footnotes
    assert body.count("<w:footnoteReference") == 4
    document = read_docx(io.BytesIO(data))
    paragraphs = [p.text for p in document.paragraphs]
    assert "Dear Prime Minister," in paragraphs
    signatory_table = document.tables[-1]
    rows = [[cell.text for cell in row.cells] for row in signatory_table.rows]
    assert rows[0][0] == "House of Commons"
    assert ["Sarah Champion MP", "Chair, International Development Committee"] in rows
    assert rows.index(["Lord Alton of Liverpool", "Crossbench peer"]) > rows.index(["Tim Loughton MP", ""])
    assert len(document.tables) == 2  # the evidence table and the signatory table


def test_the_four_formats_agree_on_the_notes():
    document = render()
    text, html = to_text(document), str(to_html_fragment(document))
    for note in document.notes:
        assert f"[{note.number}] {note.text}" in text
        assert f'id="note-{note.number}"' in html
