"""ETags from row versions, and the If-Match preconditions that guard every edit.

A resource's ETag is the strong entity tag ``"<kind>-<id>-v<version>"`` (``"event-12-v3"``),
built from the ``version`` column that every write through ``app.writer`` bumps. It is strong
because If-Match compares strongly (RFC 9110 §13.1.1): a weak tag could never satisfy it. The
tag names the version of the record itself: figures a detail derives from other records
(``event_count``, ``article_count``) can change without it. The kind and id are part of the
tag, so an ETag read from one record never matches another.
"""

from __future__ import annotations

import re
from typing import Any

from app.core.errors import PreconditionFailed, PreconditionRequired, ValidationProblem

HEADER = "If-Match"
_TAG = r'[ \t]*(W/)?"[^"]*"[ \t]*'
ENTITY_TAGS = f"^{_TAG}(,{_TAG})*$"
# On a route where If-Match is optional, `*` (any version) is meaningful too.
ANY_OR_ENTITY_TAGS = f"^[ \\t]*\\*[ \\t]*$|{ENTITY_TAGS}"


def make(kind: str, record_id: int, version: int) -> str:
    return f'"{kind}-{record_id}-v{version}"'


def _entity_tags(header: str) -> list[str]:
    """The entity tags of an If-Match value (a comma-separated list; commas may sit in quotes)."""
    tags: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            tags.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    tags.append("".join(current).strip())
    return [t for t in tags if t]


def require(header: str | None) -> str:
    """The If-Match value of an edit that must carry one: missing (or ``*``) is a 428."""
    if header is None or not header.strip():
        raise PreconditionRequired(
            "Send If-Match with the ETag you last read (GET the resource for it), so an edit "
            "never overwrites a change you have not seen."
        )
    if _entity_tags(header) == ["*"]:
        raise PreconditionRequired(
            "If-Match: * does not say which version you edited; send the ETag you read."
        )
    return header


def check(header: str | None, current: str) -> None:
    """Refuse (412) unless ``header`` is absent, ``*``, or lists the current ETag.

    Weak tags (``W/"..."``) never match: If-Match uses the strong comparison.
    """
    if header is None:
        return
    if not re.match(ANY_OR_ENTITY_TAGS, header):
        raise ValidationProblem(
            'If-Match must be "*" or one or more entity tags ("..." or W/"..."), as an ETag '
            "header gives them; leave it out to make the change unconditionally.",
            errors=[{"loc": ["header", HEADER], "msg": "not an entity tag", "type": "etag"}],
        )
    tags = _entity_tags(header)
    if tags == ["*"] or current in tags:
        return
    raise PreconditionFailed(
        "The record has changed since the ETag in If-Match was read; GET it again, "
        "re-apply your change and retry with the new ETag."
    )


def parameter(*, required: bool) -> dict[str, Any]:
    """The OpenAPI description of the If-Match header (the route reads it itself)."""
    if required:
        description = (
            "The ETag of the version being edited, from a GET of the resource. Missing: 428; "
            "no longer current: 412."
        )
    else:
        description = (
            "Optional: the ETag of the version the change is meant for. When given and no "
            "longer current: 412."
        )
    return {
        "name": HEADER,
        "in": "header",
        "required": required,
        "description": description,
        # One or more entity tags: blank or `*` is a 428, so the schema does not allow them.
        "schema": {
            "type": "string",
            "pattern": ENTITY_TAGS if required else ANY_OR_ENTITY_TAGS,
            "examples": ['"event-1-v1"'],
        },
    }


def response_header() -> dict[str, Any]:
    """The OpenAPI description of the ETag response header."""
    return {
        "ETag": {
            "description": (
                'The version of the record: send it as If-Match to edit it. Form: "<kind>-<id>-v<n>".'
            ),
            "schema": {"type": "string"},
        }
    }


def data_version_header() -> dict[str, Any]:
    """The OpenAPI description of a record's Data-Version response header (issue 12)."""
    return {
        "Data-Version": {
            "description": (
                "The data version the record is read at, exactly: cite it with the record, "
                "or pass it as `since` to GET /v1/changes."
            ),
            "schema": {"type": "string"},
        }
    }
