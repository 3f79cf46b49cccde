"""Domain errors carry their HTTP status; one set of handlers turns them into answers.

The JSON API answers ``application/problem+json`` (RFC 9457); pages get a friendly
error page, or a redirect to the login page when nobody is signed in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from sqlalchemy import exc as sa_exc
from pydantic import BaseModel
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class ProblemFieldError(BaseModel):
    loc: str
    msg: str


class Problem(BaseModel):
    """An error answer of the JSON API (RFC 9457 problem details)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str
    errors: list[ProblemFieldError] | None = None


# Documented on every API route, so clients (and the schema fuzzer) know the error shape.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": description, "model": Problem,
             "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    for status, description in [
        (400, "The request body could not be read"),
        (401, "Not signed in, or the API token is not valid"),
        (403, "The caller's role may not do this"),
        (404, "Not found"),
        (409, "Conflicts with the current state"),
        (422, "Invalid input: each error says where and what"),
        (429, "Too many requests"),
    ]
}


@dataclass(frozen=True)
class FieldError:
    """One problem with the input: where it is (field, line, column) and what is wrong."""

    loc: str
    msg: str

    def as_dict(self) -> dict[str, str]:
        return {"loc": self.loc, "msg": self.msg}


class CosignError(Exception):
    status_code = 400
    title = "Bad request"

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}


class InvalidInput(CosignError):
    status_code = 422
    title = "Invalid input"


class NotFound(CosignError):
    status_code = 404
    title = "Not found"


class Conflict(CosignError):
    status_code = 409
    title = "Conflict"


class NotAuthenticated(CosignError):
    status_code = 401
    title = "Not signed in"


class PermissionDenied(CosignError):
    status_code = 403
    title = "Forbidden"


class TooManyRequests(CosignError):
    status_code = 429
    title = "Too many requests"


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/healthz"


def problem(status: int, title: str, detail: str, request: Request, *, errors: list[dict[str, Any]] | None = None,
            headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail,
                            "instance": request.url.path}
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _html_error(request: Request, status: int, title: str, detail: str, errors: list[dict[str, Any]] | None = None,
                headers: dict[str, str] | None = None) -> Response:
    from campaign.web import render  # the page layer imports errors; import late to avoid a cycle

    response = render(request, "pages/error.html", {"status": status, "title": title, "detail": detail,
                                                    "errors": errors or []}, status_code=status)
    response.headers.update(headers or {})
    return response


def _answer(request: Request, status: int, title: str, detail: str, errors: list[dict[str, Any]] | None = None,
            headers: dict[str, str] | None = None) -> Response:
    if wants_json(request):
        return problem(status, title, detail, request, errors=errors, headers=headers)
    if status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    return _html_error(request, status, title, detail, errors, headers)


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc if part not in ("body", "query", "path", "form"))


def _allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for context in iter_route_contexts(request.app.routes):
        route_methods = getattr(context.original_route, "methods", None)
        if route_methods and compile_path(context.path_format)[0].match(request.url.path):
            methods |= set(route_methods)
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CosignError)
    def _domain_error(request: Request, exc: CosignError) -> Response:
        return _answer(request, exc.status_code, exc.title, exc.detail,
                       [error.as_dict() for error in exc.errors], exc.headers)

    @app.exception_handler(RequestValidationError)
    def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"loc": _location(tuple(error.get("loc", ()))) or "request", "msg": error.get("msg", "invalid")}
                  for error in exc.errors()]
        detail = "; ".join(f"{error['loc']}: {error['msg']}" for error in errors)
        return _answer(request, 422, "Invalid input", detail, errors)

    @app.exception_handler(StarletteHTTPException)
    def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: "Not found", 405: "Method not allowed", 413: "Too large"}
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            # Starlette names only the first route's methods; a path can have several routes.
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return _answer(request, exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail),
                       headers=headers)

    @app.exception_handler(OverflowError)
    @app.exception_handler(sa_exc.DataError)
    def _out_of_range(request: Request, exc: Exception) -> Response:
        # A number too large for the database's integer (an id like 2**70): bad input, not a crash.
        return _answer(request, 422, "Invalid input", "A number in the request is out of range.",
                       [{"loc": "request", "msg": "number out of range"}])

    @app.exception_handler(Exception)
    def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _answer(request, 500, "Internal error", "Something went wrong on our side; it has been logged.")
