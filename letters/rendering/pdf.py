"""A4 PDF from the document model through WeasyPrint (footnotes at the foot of the page)."""

from __future__ import annotations

from letters.rendering.document import Document
from letters.rendering.html import to_print_html


def to_pdf(document: Document) -> bytes:
    from weasyprint import HTML  # slow to import; only the PDF needs it

    # No base URL and no fetcher: a letter never loads anything from outside.
    return HTML(string=to_print_html(document), url_fetcher=_no_fetch).write_pdf()


def _no_fetch(url: str, *args, **kwargs):
    raise ValueError(f"letters load nothing from outside ({url})")
