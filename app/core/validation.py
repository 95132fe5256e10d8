"""Pydantic's validation errors as a problem's field ``errors``, in the client's terms.

A location names the fields of the JSON (or the parameters) the client sent. Pydantic adds
segments of its own: a tagged union's tag (an event given ``new`` or by ``reference``, an
actor by ``id`` or ``description``) and a plain union's member label. They are found by
walking the model's core schema along the location, and left out: ``["events", 0, "new",
"date_start"]`` is ``["events", 0, "date_start"]`` to the client. Both the bodies the app
parses (``app.core.bodies``) and FastAPI's own validation (``app.http.problems``) go through
here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Loc = list[str | int]
# A pydantic-core schema (``Model.__pydantic_core_schema__``), read as plain mappings.
CoreSchema = Mapping[str, Any]

# Schemas that validate through one inner schema without adding to the location.
_WRAPPERS = {
    "model": "schema",
    "dataclass": "schema",
    "nullable": "schema",
    "default": "schema",
    "function-before": "schema",
    "function-after": "schema",
    "function-wrap": "schema",
    "custom-error": "schema",
    "lax-or-strict": "strict_schema",
    "json-or-python": "json_schema",
}


def client_loc(schema: CoreSchema | None, loc: Sequence[str | int]) -> Loc:
    """``loc`` (relative to ``schema``) without the segments the client never wrote.

    Where the schema cannot be followed (an unknown field, a member of a plain union), the
    rest of the location is kept as pydantic gave it.
    """
    definitions: dict[str, CoreSchema] = {}
    node = schema
    out: Loc = []
    for part in loc:
        node = unwrap(node, definitions)
        if node is None:
            out.append(part)
            continue
        kind = node.get("type")
        if kind == "tagged-union":
            choice = _tagged_choice(node, part)
            if choice is not None:
                node = choice  # the tag: the next part is the chosen model's
                continue
        elif kind == "union":
            # A plain union labels each member's errors (``str``, ``function-after[...]``, a
            # model's name): not the client's. Which member it names is not followed.
            node = _labelled_choice(node, part)
            continue
        out.append(part)
        node = _child(node, part)
    return out


def unwrap(
    node: CoreSchema | None, definitions: dict[str, CoreSchema] | None = None
) -> CoreSchema | None:
    """The schema that ``node`` validates through (past wrappers, references, a model to its
    fields)."""
    if definitions is None:
        definitions = {}
    while node is not None:
        if "ref" in node:
            definitions.setdefault(node["ref"], node)
        kind = node.get("type")
        if kind == "definitions":
            for definition in node.get("definitions", ()):
                definitions.setdefault(definition["ref"], definition)
            node = node["schema"]
        elif kind == "definition-ref":
            node = definitions.get(node["schema_ref"])
        elif kind in _WRAPPERS and _WRAPPERS[kind] in node:
            node = node[_WRAPPERS[kind]]
        else:
            return node
    return None


def _tagged_choice(node: CoreSchema, part: str | int) -> CoreSchema | None:
    choices: Mapping[Any, Any] = node.get("choices", {})
    choice = choices.get(part)
    # A choice may name another tag (an alias), as pydantic-core allows.
    while isinstance(choice, str | int) and choice in choices:
        choice = choices[choice]
    return choice if isinstance(choice, Mapping) else None


def _labelled_choice(node: CoreSchema, part: str | int) -> CoreSchema | None:
    for choice in node.get("choices", ()):
        if isinstance(choice, tuple) and choice[1] == part:
            found: CoreSchema = choice[0]
            return found
    return None


def _child(node: CoreSchema, part: str | int) -> CoreSchema | None:
    kind = node.get("type")
    if kind in ("model-fields", "typed-dict"):
        fields: Mapping[str, Any] = node.get("fields", {})
        field = fields.get(str(part))
        if field is None:
            field = next((f for f in fields.values() if f.get("validation_alias") == part), None)
        return field["schema"] if field is not None else None
    if kind == "dataclass-args":
        found = next((f for f in node.get("fields", ()) if f.get("name") == part), None)
        return found["schema"] if found is not None else None
    if kind in ("list", "set", "frozenset", "generator") and isinstance(part, int):
        return node.get("items_schema")
    if kind == "tuple" and isinstance(part, int):
        items = node.get("items_schema", [])
        variadic = node.get("variadic_item_index")
        chosen: CoreSchema | None = None
        if part < len(items) and (variadic is None or part < variadic):
            chosen = items[part]
        elif variadic is not None:
            chosen = items[variadic]
        return chosen
    if kind == "dict":
        return node.get("values_schema")
    return None


def field_error(loc: Sequence[str | int], err: Mapping[str, Any]) -> dict[str, Any]:
    """One of a problem's ``errors``: where (in the client's terms), the message, the type."""
    return {
        "loc": [p if isinstance(p, int) else str(p) for p in loc],
        "msg": err.get("msg", ""),
        "type": err.get("type", ""),
    }


def body_errors(
    errors: Sequence[Mapping[str, Any]], schema: CoreSchema | None
) -> list[dict[str, Any]]:
    """A body's errors, validated by ``schema``: each located from ``body``."""
    return [field_error(["body", *client_loc(schema, e.get("loc", ()))], e) for e in errors]


def summary(errors: Sequence[Mapping[str, Any]]) -> str:
    """A problem's ``detail`` naming the first few field errors: ``query.near: ...``."""
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5])
