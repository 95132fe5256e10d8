"""Keyset pagination: opaque cursors, the page envelope, and the WHERE clause that resumes a sort."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, Generic, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.core import context, freshness
from app.core.errors import ValidationProblem

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )
    total: int | None = Field(
        default=None, description="Number of matching rows; present only with `total=true`."
    )


def _refuse_unstorable(data: Any) -> Any:
    """NUL and lone surrogates cannot reach PostgreSQL: refuse them in any query value (422)."""
    if isinstance(data, dict):
        for name, value in data.items():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str) and (
                    "\x00" in item or any("\ud800" <= ch <= "\udfff" for ch in item)
                ):
                    raise ValueError(f"{name}: NUL and lone surrogate characters are not allowed")
    return data


class StrictQuery(BaseModel):
    """Base of every query model: unknown parameters and unstorable characters are a 422."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        return _refuse_unstorable(data)


class PageQuery(StrictQuery):
    """Query parameters every list shares. Unknown parameters are refused (422)."""

    limit: int = Field(
        default=50, ge=1, le=1000, description="Page size (at most 1,000).", examples=[100]
    )
    cursor: str | None = Field(
        default=None,
        description="Opaque cursor from a previous page's `next_cursor`.",
        examples=["WyJpZCIsWzUwXV0"],
    )
    total: bool = Field(
        default=False, description="Also count every matching row.", examples=[True]
    )


class NoQuery(StrictQuery):
    """For routes without query parameters: any parameter given is refused (422)."""


def encode_cursor(sort: str, values: Sequence[Any]) -> str:
    """The cursor after ``values`` in ``sort``. Served with read replicas, it also carries the
    data version of the page, so that the next page is never read from a replica older than
    this one (``decode_cursor``)."""
    payload: list[Any] = [sort, [v.isoformat() if isinstance(v, date) else v for v in values]]
    current = context.current()
    if current is not None and current.replicated and current.data_version is not None:
        payload.append(current.data_version)
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str, kinds: Sequence[type]) -> list[Any]:
    """Decode a cursor made for ``sort``; ``kinds`` gives the Python type of each key. A
    cursor made at a later data version than this replica holds sends the read to the
    primary (``app.core.freshness``)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, values, *rest = orjson.loads(raw)
        if cursor_sort != sort or len(values) != len(kinds):
            raise ValueError("cursor made for another sort")
        if rest:
            (made_at,) = rest
            if not isinstance(made_at, int) or isinstance(made_at, bool) or made_at < 0:
                raise ValueError("bad cursor version")
            current = context.current()
            have = current.data_version if current is not None else None
            freshness.require_version(made_at, have if have is not None else 0)
        out: list[Any] = []
        for kind, value in zip(kinds, values, strict=True):
            if value is None:
                out.append(None)
            elif kind is date:
                out.append(date.fromisoformat(value))
            elif kind is int and isinstance(value, int) and not isinstance(value, bool):
                # Ids are 32-bit: a forged cursor must not reach the database as an overflow.
                if not -(2**31) <= value < 2**31:
                    raise ValueError("cursor value out of range")
                out.append(value)
            elif kind is float and isinstance(value, int | float) and not isinstance(value, bool):
                out.append(float(value))
            elif kind is str and isinstance(value, str):
                out.append(value)
            else:
                raise ValueError("bad cursor value")
        return out
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise ValidationProblem(
            "The cursor is invalid or was made for a different sort.",
            errors=[{"loc": ["query", "cursor"], "msg": "invalid cursor", "type": "cursor"}],
        ) from exc


# A sort column: a mapped attribute (Event.date_start) or a labelled expression.
SortColumn = ColumnElement[Any] | InstrumentedAttribute[Any]


def after(
    columns: Sequence[SortColumn], values: Sequence[Any], descending: bool
) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in the order (columns..., all ascending or descending).

    Columns must be non-null; the last one must be unique (the primary key).
    """
    clauses = []
    for i, col in enumerate(columns):
        prefix = [c == v for c, v in zip(columns[:i], values[:i], strict=True)]
        step = col < values[i] if descending else col > values[i]
        clauses.append(and_(*prefix, step))
    return or_(*clauses)


def fetch_page(
    session: Session,
    stmt: Select[*tuple[Any, ...]],
    query: PageQuery,
    *,
    sort: str = "id",
    columns: Sequence[SortColumn],
    kinds: Sequence[type] = (int,),
    descending: bool = False,
    row: Callable[[Any], dict[str, Any]] = dict,
) -> tuple[list[dict[str, Any]], str | None]:
    """One keyset page of ``stmt`` ordered by ``columns`` (the last one unique), and its cursor."""
    if query.cursor:
        stmt = stmt.where(after(columns, decode_cursor(query.cursor, sort, kinds), descending))
    stmt = stmt.order_by(*(c.desc() if descending else c.asc() for c in columns))
    rows = [row(r) for r in session.execute(stmt.limit(query.limit + 1)).mappings()]
    if len(rows) <= query.limit:
        return rows, None
    rows = rows[: query.limit]
    return rows, encode_cursor(sort, [rows[-1][str(c.key)] for c in columns])
