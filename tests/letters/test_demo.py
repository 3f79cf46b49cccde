from __future__ import annotations

import io
import zipfile

from pypdf import PdfReader
from sqlmodel import select

from campaign import demo as campaign_demo
from campaign.models import Campaign
from letters import demo, service
from letters.models import Letter, LetterState
from letters.rendering import to_docx, to_pdf, to_text


def test_the_demo_letter_is_recreated_with_cited_facts_and_its_signatories(session):
    # `campaign demo` loads the letter together with the campaign, once.
    assert "Loaded the demo letter to the Prime Minister (/letters/" in campaign_demo.load(session)
    campaign = session.exec(select(Campaign).where(Campaign.slug == "stop-the-visit")).one()
    assert "nothing changed" in demo.load(session, campaign)
    letter = session.exec(select(Letter).where(Letter.title == demo.LETTER_TITLE)).one()
    assert letter.state == LetterState.signatures_closed
    document = service.render_letter(session, letter=letter)
    text = to_text(document)
    assert text.count("Dear Prime Minister,") == 1
    assert [n.snapshot.slug for n in document.notes] == [
        "liu-command-2015-2017", "extracted-from-abroad", "uk-cases", "skynet-return-methods-2018",
        "quote-liu-liuzhi", "liuzhi-daily-estimate", "liu-v-poland", "quote-line-crossed"]
    assert [s.printed_name for s in document.signatories] == [
        "Alistair Carmichael MP", "Sarah Champion MP", "Tim Loughton MP", "Lord Alton of Liverpool"]
    assert [slug for slug, _ in ((c.slug, v) for c, v in service.cited_versions(session, letter_id=letter.id))][0] \
        == "liu-command-2015-2017"
    pdf_text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(to_pdf(document))).pages)
    for expected in ("The Rt Hon Rishi Sunak MP", "Liu Jianchao - caught by his own investigators",
                     "Sarah Champion MP", "Chair, International Development Committee", "Lord Alton of Liverpool",
                     "House of Lords", "These are not criminal or judicial arrests"):
        assert expected in pdf_text, expected
    with zipfile.ZipFile(io.BytesIO(to_docx(document))) as archive:
        assert archive.read("word/footnotes.xml").decode().count("<w:footnote ") == 10
