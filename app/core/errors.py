"""One error hierarchy, rendered by one handler as RFC 9457 problem details."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.db import dialect

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://conflictdb.org/problems/"


class FieldError(BaseModel):
    loc: list[str | int] = Field(
        description="Where the problem is: body/query/path, then the field path."
    )
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=[PROBLEM_BASE + "not-found"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str | None = Field(default=None, examples=["No event with id 42."])
    instance: str | None = Field(default=None, examples=["/v1/events/42"])
    errors: list[FieldError] | None = None


class ProblemError(Exception):
    """An expected failure with a problem response. Subclasses fix status, type and title."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self, detail: str | None = None, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra

    def to_problem(self, instance: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
        }
        body.update(self.extra)
        return body


class NotFound(ProblemError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(ProblemError):
    status, slug, title = 409, "conflict", "Conflict"


class ArticleConflict(Conflict):
    slug, title = "article-conflict", "A different report exists for this article"


class Unprocessable(ProblemError):
    """The request is well-formed but cannot be applied (422), optionally with field errors."""

    status, slug, title = 422, "unprocessable", "Unprocessable request"

    def __init__(
        self, detail: str | None = None, *, errors: list[dict[str, Any]] | None = None, **extra: Any
    ) -> None:
        if errors is not None:
            extra["errors"] = errors
        super().__init__(detail, **extra)


class ValidationProblem(Unprocessable):
    slug, title = "validation-error", "Invalid request"


class AmbiguousName(Unprocessable):
    slug, title = "ambiguous-name", "Ambiguous name"


class PayloadTooLarge(ProblemError):
    status, slug, title = 413, "payload-too-large", "Payload too large"


class UnsupportedMediaType(ProblemError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class TooManyRequests(ProblemError):
    status, slug, title = 429, "rate-limited", "Too many requests"


class PreconditionFailed(ProblemError):
    """If-Match names a version that is no longer current: someone else changed the record."""

    status, slug, title = 412, "precondition-failed", "The resource has changed"


class PreconditionRequired(ProblemError):
    """An edit without If-Match: it would overwrite changes the client has not seen."""

    status, slug, title = 428, "precondition-required", "If-Match required"


class NameTaken(Conflict):
    slug, title = "name-taken", "The name is already taken"


class StillReferenced(Conflict):
    slug, title = "still-referenced", "The record is still referenced"


class SoleEvidence(Conflict):
    slug, title = "sole-evidence", "The record is the only evidence of an active event"


class MergedRecord(Conflict):
    slug, title = "merged", "The record was merged into another"


class EventRetracted(Conflict):
    slug, title = "retracted", "The event is retracted"


class ServiceUnavailable(ProblemError):
    status, slug, title = 503, "service-unavailable", "Service temporarily unavailable"


class QueryTimeout(ServiceUnavailable):
    slug, title = "query-timeout", "The query took too long"


def problem_response(
    problem: dict[str, Any], status: int, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {k: v for k, v in problem.items() if v is not None}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        out.append(
            {
                "loc": [str(p) if not isinstance(p, int) else p for p in err.get("loc", ())],
                "msg": err.get("msg", ""),
                "type": err.get("type", ""),
            }
        )
    return out


_STATUS_TITLES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc.to_problem(request.url.path), exc.status, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5])
        problem = ValidationProblem(detail, errors=errors).to_problem(request.url.path)
        return problem_response(problem, 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug, title = _STATUS_TITLES.get(exc.status_code, ("http-error", "HTTP error"))
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
        problem = {
            "type": PROBLEM_BASE + slug,
            "title": title,
            "status": exc.status_code,
            "detail": detail,
            "instance": request.url.path,
        }
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette names only the first matching route's methods; list every route's.
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return problem_response(problem, exc.status_code, headers)

    @app.exception_handler(OperationalError)
    async def _db_unavailable(request: Request, exc: OperationalError) -> JSONResponse:
        if dialect.is_read_timeout(exc):
            timeout = request.app.state.settings.read_timeout_ms
            problem = QueryTimeout(
                f"The query ran longer than the read timeout ({timeout} ms) and was stopped. "
                "Narrow it (a date range, a place or country, fewer groups) or retry later."
            ).to_problem(request.url.path)
            return problem_response(problem, 503, {"Retry-After": "30"})
        # Locked, disk full, connection lost: the client should retry later, not see a 500.
        log.warning("database unavailable: %s", exc.orig)
        problem = ServiceUnavailable("The database is unavailable; retry shortly.").to_problem(
            request.url.path
        )
        return problem_response(problem, 503, {"Retry-After": "1"})

    @app.exception_handler(DBAPIError)
    async def _db_error(request: Request, exc: DBAPIError) -> JSONResponse:
        log.exception("database error", exc_info=exc)
        problem = {
            "type": PROBLEM_BASE + "internal-error",
            "title": "Internal server error",
            "status": 500,
            "instance": request.url.path,
        }
        return problem_response(problem, 500)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        problem = {
            "type": PROBLEM_BASE + "internal-error",
            "title": "Internal server error",
            "status": 500,
            "instance": request.url.path,
        }
        return problem_response(problem, 500)


def _allowed_methods(request: Request) -> list[str]:
    """Every method the OpenAPI document gives the request's path (routes may be nested)."""
    table = getattr(request.app.state, "allowed_methods", None)
    if table is None:
        table = [
            (re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", path) + "$"), set(item))
            for path, item in request.app.openapi()["paths"].items()
        ]
        request.app.state.allowed_methods = table
    methods: set[str] = set()
    for pattern, names in table:
        if pattern.match(request.url.path):
            methods |= {m.upper() for m in names if m != "parameters"}
    return sorted(methods)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entry declaring the problem statuses a route can return."""
    descriptions = {
        400: "Bad request",
        404: "Not found",
        409: "Conflict",
        401: "No valid API key (see WWW-Authenticate)",
        403: "The API key lacks the scope",
        412: "If-Match does not match the current ETag",
        413: "Payload too large",
        415: "The body is not JSON (Content-Type)",
        428: "If-Match is required",
        429: "Rate limit exceeded; retry after Retry-After seconds",
        422: "Invalid or unprocessable request",
        503: "Database unavailable; retry after the given delay",
    }
    return {
        s: {
            "model": Problem,
            "description": descriptions.get(s, "Problem"),
            "content": {PROBLEM_MEDIA_TYPE: {}},
        }
        for s in statuses
    }
