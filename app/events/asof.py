"""Reproducible reads (issue 12): what ``as_of`` stands for, and reading at it.

``as_of`` is a data version, or an RFC 3339 time standing for the last version committed at or
before it. Versions from the earliest the history holds (``app.derived.history``: the version
the history started at) to the current one can be read; anything else is a 422 naming that
range. A read at a version runs the ordinary queries over the rows valid at it
(``history.shadow``), so every filter the history can answer means what it meant then; the few
that read records the history does not keep are refused (422), never silently ignored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import derived
from app.core.errors import ValidationProblem
from app.derived import history
from app.events.schemas import EventFilter
from app.models import Actor

F = TypeVar("F", bound=EventFilter)

# Cache-Control of an answer at a version: it can never change.
IMMUTABLE: Final = "public, max-age=31536000, immutable"


def _problem(name: str, msg: str, kind: str = "as_of") -> ValidationProblem:
    return ValidationProblem(msg, errors=[{"loc": ["query", name], "msg": msg, "type": kind}])


def version_of(session: Session, as_of: int | datetime, name: str = "as_of") -> int:
    """The data version ``as_of`` stands for, checked against what the history can
    reproduce (a 422 naming ``name`` and the allowed range otherwise)."""
    current = derived.current_version(session)
    first = history.earliest(session)
    if first is None:  # not reached once migrated: the migration starts the history
        raise _problem(name, "This database keeps no history yet: nothing can be read as of.")
    allowed = f"from {first} (the earliest reproducible version) to {current} (the current one)"
    if isinstance(as_of, int):
        if as_of > current:
            raise _problem(
                name,
                f"{name}={as_of} is a data version that does not exist yet: {name} is a "
                f"version {allowed}, or a time from {_first_time(session, first)} to now.",
            )
        if as_of < first:
            raise _problem(
                name,
                f"{name}={as_of} is older than the history kept: {name} is a version "
                f"{allowed}, or a time from {_first_time(session, first)} to now.",
            )
        return as_of
    if as_of > datetime.now(UTC):
        raise _problem(
            name,
            f"{name}={_rfc3339(as_of)} is in the future: what will be true then is not known "
            f"yet; {name} is a time from {_first_time(session, first)} to now, or a version "
            f"{allowed}.",
        )
    version = history.version_at(session, as_of)
    if version is None:
        raise _problem(
            name,
            f"{name}={_rfc3339(as_of)} is before the first version the history holds: {name} "
            f"is a time from {_first_time(session, first)} to now, or a version {allowed}.",
        )
    return version


def _first_time(session: Session, first: int) -> str:
    at = history.time_of(session, first)
    return _rfc3339(at) if at is not None else "the history's start"


def _rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


# The filters whose records the history does not keep: under as_of they are refused.
_NOT_REPRODUCIBLE: Final[dict[str, str]] = {
    "q": "the full-text index is kept for the current data only",
    "outlet": "articles' outlets are read as they are now",
    "actor_kind": "actors' kinds are read as they are now",
    "include_affiliates": "actors' affiliations are read as they are now",
}


def refuse_unreproducible(f: EventFilter) -> None:
    given: dict[str, str] = {
        name: why for name, why in _NOT_REPRODUCIBLE.items() if getattr(f, name) not in (None, [])
    }
    if not f.include_affiliates:
        given.pop("include_affiliates", None)
    if f.count == "incidents":
        given["count"] = "incidents are read as they are now (count=incidents)"
    if given:
        raise ValidationProblem(
            f"{', '.join(given)} cannot be used with as_of: {'; '.join(given.values())}, so "
            "the answer would not be the one given at that version.",
            errors=[
                {
                    "loc": ["query", name],
                    "msg": f"{name} cannot be used with as_of: {why}",
                    "type": "as_of_conflict",
                }
                for name, why in given.items()
            ],
        )


def resolve(session: Session, f: F) -> F:
    """``f`` with the version its ``as_of`` stands for (read once, a 422 when out of range);
    ``f`` itself when it has none or has it already."""
    if f.as_of is None or f._version is not None:
        return f
    refuse_unreproducible(f)
    at = f.model_copy()
    at._version = version_of(session, f.as_of)
    return at


def apply(session: Session, f: EventFilter) -> None:
    """Make ``session`` read at ``f``'s version, if it has one (once per session)."""
    if f._version is not None and not history.reading_at(session):
        history.shadow(session, f._version)


def live_id(session: Session, kind: str, ident: int, version: int) -> int:
    """The record a place or actor id stood for at ``version``, as the live read then resolved
    it: the merges made by then followed, the later ones not.

    Places: their merges are in the history (``place_history.merged_into_id`` valid then).
    Actors are not versioned: a merged actor is frozen once merged, so its ``updated_at`` is
    its merge's time, compared with the time ``version`` was committed.
    """
    seen: set[int] = set()
    at = history.time_of(session, version)
    while ident not in seen:
        seen.add(ident)
        if kind == "place":
            target = history.place_merged_into(session, ident, version)
        else:
            row = session.execute(
                select(Actor.merged_into_id, Actor.updated_at).where(Actor.id == ident)
            ).first()
            merged_by_then = row is not None and at is not None and row.updated_at <= at
            target = row.merged_into_id if row is not None and merged_by_then else None
        if target is None:
            return ident
        ident = int(target)
    return ident


def read_at(session: Session, version: int) -> None:
    """Make ``session`` read at ``version`` (checked already: ``version_of``)."""
    history.shadow(session, version)


def headers(version: int) -> dict[str, Any]:
    """An answer at a version: the version it reflects, and cacheable for good."""
    return {"Data-Version": str(version), "Cache-Control": IMMUTABLE}
