"""The application factory: JSON API under /api/v1, pages from templates/, static files, errors."""

from __future__ import annotations

import logging

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from campaign import api as campaign_api
from campaign import firstrun, health, pages
from campaign.accounts import api as accounts_api
from campaign.accounts import pages as accounts_pages
from contacts import api as contacts_api
from contacts import pages as contacts_pages
from letters import api as letters_api
from letters import pages as letters_pages
from letters import question_pages, responses_api, responses_pages, template_pages
from campaign.errors import PROBLEM_RESPONSES, install_error_handlers
from campaign.limits import BodyLimit
from campaign.settings import STATIC_DIR, get_settings
from workers import api as workers_api
from workers import pages as workers_pages

API_PREFIX = "/api/v1"

SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def create_app() -> FastAPI:
    settings = get_settings()
    logging.basicConfig(level=settings.log_level)
    app = FastAPI(title="Cosign", version="0.1.0", openapi_url=f"{API_PREFIX}/openapi.json",
                  docs_url=None, redoc_url=None,
                  description="Parliamentary advocacy campaigns: contacts, letters, co-signatures, sends.")

    api = APIRouter(prefix=API_PREFIX, responses=PROBLEM_RESPONSES)
    for domain_api in (accounts_api, campaign_api, contacts_api, letters_api, responses_api, workers_api):
        api.include_router(domain_api.router)
    app.include_router(api)

    # Pages and the health check are not part of the JSON API's schema.
    app.include_router(health.router, include_in_schema=False)
    for domain_pages in (pages, accounts_pages, contacts_pages, letters_pages, question_pages, template_pages,
                         responses_pages, workers_pages):
        app.include_router(domain_pages.router, include_in_schema=False)
    app.include_router(firstrun.router, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_error_handlers(app)
    app.add_middleware(BodyLimit, api_prefix=f"{API_PREFIX}/")
    app.add_middleware(SecurityHeaders, https=settings.https)
    return app


class SecurityHeaders:
    """Pure ASGI middleware: SECURITY_HEADERS (and HSTS over HTTPS) on every response that has not
    set its own, and ``Cache-Control: no-store`` on the API and on pages.

    Not a BaseHTTPMiddleware (``@app.middleware("http")``), which runs the rest of the app in a
    task of its own and streams the response through a memory channel: on a trivial API call
    that cost more than the route.
    """

    def __init__(self, app, *, https: bool):
        self.app = app
        headers = {**SECURITY_HEADERS, **({"Strict-Transport-Security": "max-age=31536000"} if https else {})}
        self.headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        api = scope["path"].startswith(API_PREFIX)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower(): value for name, value in headers}
                headers += [(name, value) for name, value in self.headers if name not in present]
                if b"cache-control" not in present and (api or b"text/html" in present.get(b"content-type", b"")):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
