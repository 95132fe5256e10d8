"""Shared pieces of edits: PATCH, merge and delete bodies, field-level 422s, write responses.

In a PATCH body a field left out keeps its value and null clears it. Bodies are strict
(unknown fields refused, no coercion) and validated from the raw JSON, like report bodies (see
``app.core.bodies``). A field that may be left out but never cleared is declared with
``absent()``: its type has no null, so an explicit null is a 422.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from app.core import etag
from app.core.errors import ValidationProblem
from app.core.outcomes import REPLAY_HEADER, Outcome


def _no_default(schema: dict[str, Any]) -> None:
    # Leaving the field out keeps the stored value: there is no default to document.
    schema.pop("default", None)


def absent(**kwargs: Any) -> Any:
    """A field that may be left out, but not set to null (its type says what it may be)."""
    return Field(default=None, json_schema_extra=_no_default, **kwargs)


class Patch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    def given(self) -> dict[str, Any]:
        """The fields the client sent, with their values (null included)."""
        return {name: getattr(self, name) for name in self.model_fields_set}


def invalid(field: str, msg: str, type_: str) -> ValidationProblem:
    """A 422 about one body field (``"aliases.2"`` for an item) that is well-formed but cannot
    be applied."""
    loc: list[str | int] = [int(p) if p.isdigit() else p for p in field.split(".")]
    return ValidationProblem(
        f"body.{field}: {msg}", errors=[{"loc": ["body", *loc], "msg": msg, "type": type_}]
    )


class MergeInto(BaseModel):
    """POST /v1/actors/{id}/merge and /v1/places/{id}/merge: the record that survives."""

    model_config = ConfigDict(extra="forbid", strict=True)

    into: Annotated[int, Field(ge=1, le=2**31 - 1)] = Field(
        description="The id of the record that survives and takes over every reference.",
        examples=[4],
    )


class Deleted(BaseModel):
    """What a DELETE removed."""

    kind: str = Field(examples=["actor"])
    id: int = Field(examples=[12])


# The 308 a merged actor's or place's URL answers with (declared in its routes' responses).
MERGED_REDIRECT: dict[str, Any] = {
    "description": (
        "The record was merged into another: `Location` is the survivor's URL (a permanent "
        "redirect, method kept)."
    ),
    "headers": {"Location": {"description": "The survivor's URL.", "schema": {"type": "string"}}},
}


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=308)


def outcome_response(
    outcome: Outcome, kind: str, location: Callable[[int], str] | None = None
) -> JSONResponse:
    """The HTTP response of a write's outcome (fresh or replayed): ETag from the body's id and
    version, Location for a 201."""
    headers: dict[str, str] = {}
    body = outcome.body
    if isinstance(body, dict) and isinstance(body.get("id"), int):
        if isinstance(body.get("version"), int):
            headers["ETag"] = etag.make(kind, body["id"], body["version"])
        if location is not None and outcome.status == 201:
            headers["Location"] = location(body["id"])
    if outcome.replayed:
        headers[REPLAY_HEADER] = "true"
    return JSONResponse(body, status_code=outcome.status, headers=headers)


def id_list(ids: list[int]) -> str:
    """Ids for a problem's detail: the first nine, then an ellipsis."""
    shown = ", ".join(map(str, ids[:9]))
    return shown + (", ..." if len(ids) > 9 else "")
