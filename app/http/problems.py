"""Every error rendered as RFC 9457 problem details (``application/problem+json``): the app's
own (``app.core.errors``), FastAPI's validation errors, Starlette's HTTP errors, and database
failures (a busy or unreachable database and a read past its timeout are a 503 with
Retry-After, never a 500)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core import bodies, validation
from app.core.errors import (
    PROBLEM_BASE,
    ProblemError,
    QueryTimeout,
    ServiceUnavailable,
    ValidationProblem,
    problem_response,
)
from app.db import dialect

log = logging.getLogger(__name__)


def _field_errors(request: Request, exc: RequestValidationError) -> list[dict[str, Any]]:
    schemas = _input_schemas(request)
    out = []
    for err in exc.errors():
        where, *rest = err.get("loc", ()) or ("request",)
        loc = [where, *validation.client_loc(schemas.get(str(where)), rest)]
        out.append(validation.field_error(loc, err))
    return out


def _input_schemas(request: Request) -> dict[str, validation.CoreSchema]:
    """What validated each part of the request, as pydantic core schemas: ``body`` from the
    route's body parameter, and ``query``/``path``/``header``/``cookie`` as one set of fields
    each (a parameter model's fields among them), so an error's location can be followed
    into it (``app.core.validation``). Built on a route's first error, kept by the app."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return {}
    cache: dict[int, dict[str, validation.CoreSchema]] | None = getattr(
        request.app.state, "input_schemas", None
    )
    if cache is None:
        cache = request.app.state.input_schemas = {}
    if id(route) not in cache:
        try:
            cache[id(route)] = _route_input_schemas(route)
        except Exception:  # the error answer must not fail: locations stay as pydantic gave
            log.exception("no input schemas for %s", route.path)
            cache[id(route)] = {}
    return cache[id(route)]


def _route_input_schemas(route: APIRoute) -> dict[str, validation.CoreSchema]:
    schemas: dict[str, validation.CoreSchema] = {}
    if route.body_field is not None:
        schemas["body"] = _schema_of(route.body_field.field_info.annotation)
    dependants = list(_dependants(route.dependant))
    for where in ("query", "path", "header", "cookie"):
        fields: dict[str, Any] = {}
        for param in (p for d in dependants for p in getattr(d, f"{where}_params")):
            annotation = param.field_info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                # A parameter model: its fields are the parameters.
                model = validation.unwrap(annotation.__pydantic_core_schema__)
                fields.update(model.get("fields", {}) if model is not None else {})
            else:
                fields[param.alias] = {"schema": _schema_of(annotation)}
        schemas[where] = {"type": "model-fields", "fields": fields}
    return schemas


def _schema_of(annotation: Any) -> validation.CoreSchema:
    return TypeAdapter(annotation if annotation is not None else Any).core_schema


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _json_syntax_error(exc: RequestValidationError) -> str | None:
    """A body FastAPI itself parsed (a route with a body parameter) and found malformed: where
    and what, as ``app.core.bodies`` words it for the bodies it parses."""
    for err in exc.errors():
        if err.get("type") == "json_invalid" and isinstance(exc.body, str):
            loc = err.get("loc", ())
            position = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else 0
            reason = str(err.get("ctx", {}).get("error", "invalid JSON"))
            return bodies.describe_syntax_error(json.JSONDecodeError(reason, exc.body, position))
    return None


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
        syntax = _json_syntax_error(exc)
        if syntax is not None:
            malformed = bodies.malformed(syntax)
            return problem_response(malformed.to_problem(request.url.path), malformed.status)
        errors = _field_errors(request, exc)
        problem = ValidationProblem(validation.summary(errors), errors=errors).to_problem(
            request.url.path
        )
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
            # Paths outside the OpenAPI document (the index, /docs) keep Starlette's list,
            # sorted too (it comes from a set, in no fixed order).
            methods = _allowed_methods(request) or sorted(
                m.strip() for m in headers.get("Allow", "").split(",") if m.strip()
            )
            headers["Allow"] = ", ".join(methods)
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

    @app.exception_handler(PoolTimeout)
    async def _pool_exhausted(request: Request, exc: PoolTimeout) -> JSONResponse:
        # Every pooled connection busy for longer than the pool waits: the server is full.
        log.warning("database pool exhausted: %s", exc)
        problem = ServiceUnavailable(
            "Every database connection is busy; retry shortly."
        ).to_problem(request.url.path)
        return problem_response(problem, 503, {"Retry-After": "1"})

    @app.exception_handler(DBAPIError)
    async def _db_error(request: Request, exc: DBAPIError) -> JSONResponse:
        if dialect.is_retryable(exc):
            # Still losing to other writers after every retry (write_transaction): busy.
            log.warning("database busy: %s", exc.orig)
            problem = ServiceUnavailable(
                "The database is busy with other writes; retry shortly."
            ).to_problem(request.url.path)
            return problem_response(problem, 503, {"Retry-After": "1"})
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
    paths = request.app.openapi()["paths"]
    literal = paths.get(request.url.path)
    if literal is not None:
        # A path of its own (/v1/events/diff) is routed before the template it also fits
        # (/v1/events/{event_id}): only its own methods apply.
        return sorted(m.upper() for m in literal if m != "parameters")
    methods: set[str] = set()
    for pattern, names in table:
        if pattern.match(request.url.path):
            methods |= {m.upper() for m in names if m != "parameters"}
    return sorted(methods)
