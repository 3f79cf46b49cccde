"""The security headers middleware (pure ASGI): every response, no-store on the API and pages, theirs kept."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.testclient import TestClient

from campaign.app import SECURITY_HEADERS, SecurityHeaders


def _headers(app, path: str) -> list[tuple[bytes, bytes]]:
    """The response's raw header list, as the middleware left it."""
    with TestClient(app) as client:
        return client.get(path).headers.raw


def _inner() -> FastAPI:
    inner = FastAPI()
    inner.get("/api/v1/thing")(lambda: {"ok": True})
    inner.get("/text")(lambda: PlainTextResponse("plain"))
    inner.get("/framed")(lambda: JSONResponse({}, headers={"X-Frame-Options": "SAMEORIGIN",
                                                         "Cache-Control": "max-age=60"}))
    return inner


def test_every_response_gets_the_headers_and_the_api_is_not_stored():
    app = SecurityHeaders(_inner(), https=False)
    api = dict(_headers(app, "/api/v1/thing"))
    for name, value in SECURITY_HEADERS.items():
        assert api[name.lower().encode()] == value.encode()
    assert api[b"cache-control"] == b"no-store" and b"strict-transport-security" not in api
    text = dict(_headers(app, "/text"))
    assert text[b"x-frame-options"] == b"DENY" and b"cache-control" not in text  # neither API nor a page


def test_a_header_the_response_set_is_kept_once_and_hsts_comes_with_https():
    headers = _headers(SecurityHeaders(_inner(), https=True), "/framed")
    names = [name for name, _ in headers]
    assert dict(headers)[b"x-frame-options"] == b"SAMEORIGIN" and names.count(b"x-frame-options") == 1
    assert dict(headers)[b"cache-control"] == b"max-age=60" and names.count(b"cache-control") == 1
    assert dict(headers)[b"strict-transport-security"] == b"max-age=31536000"


def test_pages_are_not_stored(client):
    response = client.get("/login")
    assert "text/html" in response.headers["content-type"] and response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "same-origin"
    static = client.get("/static/htmx.min.js")
    assert static.headers["x-content-type-options"] == "nosniff" and "cache-control" not in static.headers
