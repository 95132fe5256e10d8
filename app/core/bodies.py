"""Request bodies validated from the raw JSON, in pydantic's strict JSON mode.

FastAPI validates bodies in Python mode, where strict types cannot accept "2018-04-18" as a
date; parsing the raw bytes with ``model_validate_json`` keeps the types strict (``true`` is no
number, ``0`` no date) and still reads ISO dates. Models used this way are registered here so
the OpenAPI document describes them.

A body that is not JSON at all (a syntax error) is a 400 ``malformed-json``; JSON that does not
fit the model is a 422.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any, TypeVar

import orjson
from fastapi import Request
from pydantic import BaseModel, TypeAdapter, ValidationError

from app.core import validation
from app.core.errors import (
    MalformedJson,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationProblem,
)

M = TypeVar("M", bound=BaseModel)

_REGISTERED: dict[str, type[BaseModel]] = {}


def openapi_body(model: type[BaseModel], example: Any = None) -> dict[str, Any]:
    """The ``openapi_extra`` of a route whose body is ``model`` (and register the model)."""
    _REGISTERED[model.__name__] = model
    content: dict[str, Any] = {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
    if example is not None:
        content["example"] = example
    return {"requestBody": {"required": True, "content": {"application/json": content}}}


def add_schemas(components: dict[str, Any]) -> None:
    for name, model in _REGISTERED.items():
        schema = TypeAdapter(model).json_schema(
            ref_template="#/components/schemas/{model}", mode="validation"
        )
        for def_name, definition in schema.pop("$defs", {}).items():
            components.setdefault(def_name, definition)
        components[name] = schema


async def read_body(request: Request) -> bytes:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType("Send the body as JSON, with Content-Type: application/json.")
    limit: int = request.app.state.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The body exceeds {limit} bytes.")
    # Read as it arrives, refused as soon as it passes the limit: a chunked body (no
    # Content-Length) is never read whole before the 413.
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The body exceeds {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def _integral_floats_as_ints(value: Any) -> tuple[Any, bool]:
    """JSON has one number type: 2.0 is the integer 2 (as JSON Schema's ``integer`` says).

    Strict validation tells ``true`` from 1 and "1" from 1, but would also refuse 2.0 for an
    integer field; numbers with no fraction become ints here, before validation (a float
    field still takes an int). Returns the value and whether anything changed.
    """
    if isinstance(value, float):
        # 1e20 is an integer to JSON Schema too; range checks then refuse what is too large.
        if value.is_integer():
            return int(value), True
        return value, False
    if isinstance(value, list):
        pairs = [_integral_floats_as_ints(v) for v in value]
        return [v for v, _ in pairs], any(c for _, c in pairs)
    if isinstance(value, dict):
        items = {k: _integral_floats_as_ints(v) for k, v in value.items()}
        return {k: v for k, (v, _) in items.items()}, any(c for _, c in items.values())
    return value, False


def json_syntax_error(raw: bytes) -> str | None:
    """What is wrong with the JSON syntax of ``raw`` (and where), or None if it is well-formed.

    Pydantic's parser also refuses well-formed JSON it will not take: nesting past its depth
    limit and lone surrogate escapes (``"\\ud800"``, valid JSON that no UTF-8 text can hold).
    Those, like an empty body (no document at all) and text that is not UTF-8 (RFC 8259's
    encoding), stay 422s; only a syntax error is malformed JSON. The standard library's parser
    (strict: no control characters in strings) tells them apart, on this error path only.
    """
    if not raw.strip():
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        json.loads(text)
    except RecursionError:
        return None
    except json.JSONDecodeError as exc:
        return describe_syntax_error(exc)
    return None


def describe_syntax_error(exc: json.JSONDecodeError) -> str:
    # "Invalid control character at": the position follows in our own words.
    return f"{exc.msg.removesuffix(' at')} at line {exc.lineno}, column {exc.colno}"


def malformed(syntax: str) -> MalformedJson:
    return MalformedJson(f"The body is not valid JSON: {syntax}.")


# No body the API takes nests deeper than this (a report's place chain is bounded far lower,
# ``app.reports.schemas``); deeper nesting is refused before any recursive code sees it.
MAX_JSON_DEPTH = 64
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_NOT_BRACKETS = bytes(c for c in range(256) if c not in _DEPTH_STEP)
# A JSON number that may be an integer written as a float: a fraction of zeros ("2.0") or an
# exponent ("1e3", "1.5e3"); "33.51" is not one ("true" has no digit before its "e").
_INTEGRAL_FLOAT = re.compile(rb"[0-9]\.0+(?![0-9])|[0-9][eE]")


def json_depth(raw: bytes) -> int:
    """How deep the arrays and objects of ``raw`` nest (strings skipped), without parsing it."""
    return _depth_outside_strings(_STRINGS.sub(b"", raw))


def _depth_outside_strings(bare: bytes) -> int:
    brackets = bare.translate(None, _NOT_BRACKETS)
    return max(itertools.accumulate(_DEPTH_STEP[c] for c in brackets), default=0)


def validate_json(model: type[M], raw: bytes) -> M:
    # The document without its strings: what its nesting and its numbers are read from.
    bare = _STRINGS.sub(b"", raw)
    depth = _depth_outside_strings(bare)
    if depth > MAX_JSON_DEPTH:
        raise ValidationProblem(
            f"The body nests {depth} levels deep; at most {MAX_JSON_DEPTH} are taken.",
            errors=[{"loc": ["body"], "msg": "nested too deeply", "type": "json_depth"}],
        )
    # Only a body with a float that is an integer is rewritten; any other goes to pydantic's
    # parser as sent (which reports malformed JSON, lone surrogates, huge integers itself).
    # (Looked for outside strings: a report's text is full of full stops, and its other
    # floats, coordinates mostly, have fractions.)
    if _INTEGRAL_FLOAT.search(bare):
        try:
            value, changed = _integral_floats_as_ints(orjson.loads(raw))
            if changed:
                # The standard library's encoder: it writes integers of any size.
                raw = json.dumps(value, ensure_ascii=False).encode()
        except orjson.JSONDecodeError:
            pass
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            syntax = json_syntax_error(raw)
            if syntax is not None:
                raise malformed(syntax) from None
        errors = validation.body_errors(
            exc.errors(include_url=False, include_context=False, include_input=False),
            model.__pydantic_core_schema__,
        )
        raise ValidationProblem(validation.summary(errors), errors=errors) from None


async def parse_body(request: Request, model: type[M]) -> M:
    return validate_json(model, await read_body(request))
