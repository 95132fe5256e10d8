"""The change feed's query, cursor and response models."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import orjson
from pydantic import Field, field_validator

from app.changes.shapes import ChangePage, ChangeRead
from app.core.pagination import encode_cursor
from app.events.schemas import EventFilter

__all__ = ["ChangePage", "ChangeRead"]

# A place in the feed: after the change (version, event_id), or with event_id None after
# every change of that version.
Position = tuple[int, int | None]

CURSOR_SORT = "changes"
MAX_VERSION = 2**63 - 1  # data_version is a BIGINT
MAX_EVENT_ID = 2**31 - 1
_VERSION = re.compile(r"[0-9]{1,19}")
_BAD_SINCE = "since is neither a data version number nor a next_cursor of this feed"


def encode_position(position: Position) -> str:
    return encode_cursor(CURSOR_SORT, list(position))


def parse_since(value: str) -> Position:
    """A plain data version (the changes after it), or a cursor from ``next_cursor``."""
    if _VERSION.fullmatch(value):
        version = int(value)
        if version > MAX_VERSION:
            raise ValueError(f"since: the data version is at most {MAX_VERSION}")
        return version, None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        sort, (version, event_id) = orjson.loads(raw)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise ValueError(_BAD_SINCE) from exc
    if (
        sort != CURSOR_SORT
        or not _is_int(version)
        or not 0 <= version <= MAX_VERSION
        or not (event_id is None or (_is_int(event_id) and 1 <= event_id <= MAX_EVENT_ID))
    ):
        raise ValueError(_BAD_SINCE)
    return version, event_id


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class ChangesQuery(EventFilter):
    """The feed's position and page size, and (issue 12) the events list's filters: the
    slice of the events a copy follows."""

    since: str | None = Field(
        default=None,
        max_length=200,
        description=(
            "Where to start: the `next_cursor` of a previous page (opaque), or a plain data "
            "version number, for the changes committed after that version (lists, exports and "
            "stats give the version they reflect in their `Data-Version` header). Absent: "
            "from the first change."
        ),
        examples=["WyJjaGFuZ2VzIixbMTIsbnVsbF1d", "12"],
    )
    limit: int = Field(
        default=100,
        ge=1,
        le=1000,
        description="Most changes in a page (at most 1,000).",
        examples=[100],
    )

    @field_validator("since")
    @classmethod
    def _since(cls, value: str | None) -> str | None:
        if value is not None:
            parse_since(value)
        return value

    def position(self) -> Position | None:
        return parse_since(self.since) if self.since is not None else None

    def filtered(self) -> bool:
        """Whether a filter of the list was given (the feed then follows that slice)."""
        return bool(self.model_fields_set - {"since", "limit"})
