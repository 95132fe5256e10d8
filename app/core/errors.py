"""One error hierarchy, each error a RFC 9457 problem (``app.http.problems`` renders them)."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from app.core import context

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
    request_id: str | None = Field(
        default=None,
        description="The request's id, as in its X-Request-Id header and the server's log.",
        examples=["5f0c2a9e41d7b3c8"],
    )


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


class MalformedJson(ProblemError):
    """The request body does not parse as JSON (a syntax error): nothing to validate."""

    status, slug, title = 400, "malformed-json", "Malformed JSON"


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
    body = with_request_id({k: v for k, v in problem.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def with_request_id(problem: dict[str, Any]) -> dict[str, Any]:
    """``problem`` with the current request's id (``request_id``), so a client quoting an
    error gives the operator the line to look for in the log."""
    current = context.current()
    if current is not None:
        problem["request_id"] = current.request_id
    return problem


PROBLEM_SCHEMA_REF = "#/components/schemas/Problem"


def problem_content() -> dict[str, Any]:
    """The ``content`` of a problem response in the OpenAPI document: a Problem, under
    ``application/problem+json`` only, which is what the handlers send. (FastAPI's ``model=``
    would put it under ``application/json``.) ``add_problem_schemas`` defines the schema."""
    return {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entry declaring the problem statuses a route can return."""
    descriptions = {
        400: "Bad request: a body that is not JSON, or more than one credential",
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
        s: {"description": descriptions.get(s, "Problem"), "content": problem_content()}
        for s in statuses
    }


def add_problem_schemas(schemas: dict[str, Any]) -> None:
    """Add Problem (and FieldError) to the OpenAPI document's ``components.schemas``."""
    schema = Problem.model_json_schema(
        ref_template="#/components/schemas/{model}", mode="serialization"
    )
    for name, definition in schema.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    schemas.setdefault("Problem", schema)
