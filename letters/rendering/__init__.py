"""Rendering letters: the sandboxed template engine, the document model and its four formats."""

from letters.rendering.document import (CampaignInfo, Document, MergeContext, Recipient, Sender, Signatory,
                                        format_date, order_signatories, render_document, salutation_for)
from letters.rendering.engine import (DEFAULT_LIMITS, EvidenceLookup, EvidenceSnapshot, Limits, RenderError,
                                      SandboxRefused, check_source)
from letters.rendering.html import to_html_fragment, to_print_html
from letters.rendering.pdf import to_pdf
from letters.rendering.text import to_text


def to_docx(document: Document) -> bytes:
    """The letter as a Word document (python-docx and lxml are loaded only by the processes that write one)."""
    from letters.rendering.word import to_docx as write

    return write(document)


__all__ = [
    "CampaignInfo", "Document", "MergeContext", "Recipient", "Sender", "Signatory", "format_date",
    "order_signatories", "render_document", "salutation_for", "DEFAULT_LIMITS", "EvidenceLookup",
    "EvidenceSnapshot", "Limits", "RenderError", "SandboxRefused", "check_source", "to_html_fragment",
    "to_print_html", "to_pdf", "to_text", "to_docx",
]
