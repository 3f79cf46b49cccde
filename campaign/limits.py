"""The request-body limit: a body larger than the largest allowed upload is refused unread.

Without it a multipart POST (even to /login, before anyone signs in) is read whole and
spooled to disk by the form parser before any check runs.
"""

from __future__ import annotations

from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from campaign.settings import get_settings

# Room for the other form fields and the multipart framing around the largest allowed upload.
BODY_SLACK = 64 * 1024


class BodyLimit:
    """Pure ASGI middleware: 413 on a declared Content-Length over the limit, or once a chunked body passes it."""

    def __init__(self, app, api_prefix: str = "/api/"):
        self.app = app
        self.api_prefix = api_prefix

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = get_settings().max_upload_bytes + BODY_SLACK
        message = f"The request is too large: the limit is {limit:,} bytes."
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            response = (JSONResponse({"type": "about:blank", "title": "Content Too Large", "status": 413,
                                      "detail": message}, status_code=413, media_type="application/problem+json",
                                     headers={"Connection": "close"})
                        if scope["path"].startswith(self.api_prefix)
                        else PlainTextResponse(message, status_code=413, headers={"Connection": "close"}))
            return await response(scope, receive, send)
        seen = 0

        async def limited_receive():
            nonlocal seen
            received = await receive()
            seen += len(received.get("body", b""))
            if seen > limit:  # a chunked body, with no Content-Length to go by
                raise StarletteHTTPException(413, message)
            return received

        await self.app(scope, limited_receive, send)
