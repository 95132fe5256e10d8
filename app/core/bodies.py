"""Request bodies validated from the raw JSON, in pydantic's strict JSON mode.

FastAPI validates bodies in Python mode, where strict types cannot accept "2018-04-18" as a
date; parsing the raw bytes with ``model_validate_json`` keeps the types strict (``true`` is no
number, ``0`` no date) and still reads ISO dates. Models used this way are registered here so
the OpenAPI document describes them.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, TypeAdapter, ValidationError

from app.core.errors import PayloadTooLarge, UnsupportedMediaType, ValidationProblem

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
    raw = await request.body()
    if len(raw) > limit:
        raise PayloadTooLarge(f"The body exceeds {limit} bytes.")
    return raw


def validate_json(model: type[M], raw: bytes) -> M:
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = [
            {"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]}
            for e in exc.errors(include_url=False, include_context=False, include_input=False)
        ]
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5])
        raise ValidationProblem(detail, errors=errors) from None


async def parse_body(request: Request, model: type[M]) -> M:
    return validate_json(model, await read_body(request))
