"""The application factory: JSON API under /api/v1, pages from templates/, static files, errors."""

from __future__ import annotations

import logging

from fastapi import APIRouter, FastAPI, Request
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

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for header, value in SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        if settings.https:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.url.path.startswith(API_PREFIX) or "text/html" in response.headers.get("content-type", ""):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app
