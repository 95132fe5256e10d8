"""The API's problems (RFC 9457) as exceptions a script can catch by kind: a 409 or 422 names
the field it is about; 429 and 503 are raised only once the client's retries are spent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldProblem:
    """One field-level problem of a 422: where (``body.events.0.date_start``) and why."""

    loc: tuple[str | int, ...]
    msg: str
    type: str

    @property
    def field(self) -> str:
        """The field as a dotted path without the leading body/query: ``events.0.date_start``."""
        parts = self.loc[1:] if self.loc and self.loc[0] in ("body", "query", "path") else self.loc
        return ".".join(str(p) for p in parts)


class ApiError(Exception):
    """A problem answer: ``status``, ``type``, ``title``, ``detail`` and the whole ``problem``."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.type = str(problem.get("type", ""))
        self.title = str(problem.get("title", ""))
        self.detail = problem.get("detail")
        self.errors = tuple(
            FieldProblem(tuple(e.get("loc", ())), str(e.get("msg", "")), str(e.get("type", "")))
            for e in problem.get("errors") or ()
            if isinstance(e, dict)
        )
        super().__init__(f"{status} {self.title}: {self.detail or ''}".strip(": "))

    @property
    def field(self) -> str | None:
        """The field the problem is about: the first field error's, else (a 409) the record
        it conflicts with (``article``, ``event``), else None."""
        if self.errors:
            return self.errors[0].field
        for key in self.problem:
            if key.endswith("_id") and key not in ("type",):
                return key.removesuffix("_id")
        return None


class BadRequest(ApiError):
    """400: a body that is not JSON, or two credentials."""


class Unauthorized(ApiError):
    """401: no key, or one that does not work."""


class Forbidden(ApiError):
    """403: the key lacks the scope."""


class NotFound(ApiError):
    """404."""


class Conflict(ApiError):
    """409: the article holds a different report, an external id is taken..."""


class PayloadTooLarge(ApiError):
    """413."""


class Unprocessable(ApiError):
    """422: the request is refused; ``errors`` lists each field and why, ``field`` the first."""


class RateLimited(ApiError):
    """429, once the client's retries are spent."""


class Unavailable(ApiError):
    """503 (or 502/504 from a proxy), once the client's retries are spent."""


class ConnectionFailed(Exception):
    """The server could not be reached, once the client's retries are spent."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    422: Unprocessable,
    429: RateLimited,
    502: Unavailable,
    503: Unavailable,
    504: Unavailable,
}


def error_for(status: int, problem: dict[str, Any]) -> ApiError:
    return _BY_STATUS.get(status, ApiError)(status, problem)
