"""Versioned records: the compare-and-set every edit goes through, and the guards of merges.

Edits change a record only if its ``version`` is still the one the caller read
(``UPDATE ... WHERE id = :id AND version = :expected``, then the row count is checked), so of
two clients holding the same ETag exactly one wins. Every change to a record bumps its
``version`` and ``updated_at``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from app import derived
from app.core.errors import MergedRecord, PreconditionFailed
from app.core.normalize import normalized
from app.db.base import utcnow
from app.db.bulk import chunks, rowcount
from app.models import ActorAlias, Event, PlaceAlias


def unique_aliases(names: Sequence[str]) -> dict[str, str]:
    """normalised form -> first spelling given, skipping names that normalise to nothing."""
    out: dict[str, str] = {}
    for name in names:
        norm = normalized(name)
        if norm and norm not in out:
            out[norm] = name
    return out


def bump(session: Session, model: Any, ids: Iterable[int]) -> None:
    """A new version (and ``updated_at``) for records whose representation changed."""
    ids = list(ids)
    if model is Event:
        derived.events_changed(session, ids)
    now = utcnow()
    for chunk in chunks(ids):
        session.execute(
            update(model)
            .where(model.id.in_(chunk))
            .values(version=model.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )


def compare_and_set(
    session: Session,
    model: Any,
    record_id: int,
    expected_version: int,
    values: Mapping[str, Any] | None = None,
) -> int:
    """Write ``values`` only if the record is still at ``expected_version``; the new version.

    One statement, so two writers holding the same version cannot both pass: on PostgreSQL the
    second waits for the first's row lock, then re-reads the row and no longer matches.
    """
    result = session.execute(
        update(model)
        .where(model.id == record_id, model.version == expected_version)
        .values(**dict(values or {}), version=model.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        raise PreconditionFailed(
            "The record has changed since the ETag in If-Match was read; GET it again, "
            "re-apply your change and retry with the new ETag."
        )
    if model is Event:
        derived.events_changed(session, [record_id])
    return expected_version + 1


def edit(
    session: Session,
    model: Any,
    record_id: int,
    expected_version: int,
    values: Mapping[str, Any],
    *,
    touched: bool = False,
) -> tuple[int, dict[str, tuple[Any, Any]]]:
    """Compare-and-set the fields of ``values`` that differ; (new version, {field: (before, after)}).

    Nothing is written when nothing differs, unless ``touched`` (a related row changed).
    """
    columns = [getattr(model, name) for name in values]
    row = (
        session.execute(select(model.version, *columns).where(model.id == record_id))
        .mappings()
        .first()
    )
    if row is None or row["version"] != expected_version:
        compare_and_set(session, model, record_id, expected_version)  # raises the 412
    assert row is not None
    changes = {k: (row[k], v) for k, v in values.items() if row[k] != v}
    if not changes and not touched:
        return expected_version, {}
    version = compare_and_set(
        session, model, record_id, expected_version, {k: after for k, (_, after) in changes.items()}
    )
    return version, changes


def jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def changes_json(changes: Mapping[str, tuple[Any, Any]]) -> dict[str, list[Any]]:
    return {k: [jsonable(before), jsonable(after)] for k, (before, after) in changes.items()}


def delete_versioned(session: Session, model: Any, record_id: int, expected_version: int) -> None:
    result = session.execute(
        delete(model)
        .where(model.id == record_id, model.version == expected_version)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        raise PreconditionFailed(
            "The record has changed since it was read; GET it again and retry."
        )


def insert_aliases(
    session: Session,
    model: type[ActorAlias] | type[PlaceAlias],
    owner_id: int,
    names: Sequence[str],
    existing: Iterable[str],
) -> dict[str, str]:
    """Insert the names (normalised form -> spelling) not among ``existing`` normalised forms."""
    owner = "actor_id" if model is ActorAlias else "place_id"
    known = set(existing)
    new = {n: name for n, name in unique_aliases(names).items() if n not in known}
    if new:
        session.execute(
            insert(model),
            [{owner: owner_id, "name": name, "name_norm": n} for n, name in new.items()],
        )
    return new


def lock_for_merge(session: Session, model: Any, loser_id: int) -> None:
    """FOR UPDATE on the loser (PostgreSQL; SQLite's writers are serial already).

    A transaction inserting a row that refers to the loser holds a KEY SHARE lock on it until
    it commits; FOR UPDATE waits for it, so the rows it wrote are there to be moved.
    """
    session.execute(select(model.id).where(model.id == loser_id).with_for_update()).all()


def guard_survivor(session: Session, model: Any, survivor_id: int, kind: str) -> None:
    """Bump the survivor only if it is not merged itself: a row lock, then the check.

    A concurrent merge of the survivor into a third record either waits for this one or makes
    this statement match nothing, so references never move to a merged record.
    """
    result = session.execute(
        update(model)
        .where(model.id == survivor_id, model.merged_into_id.is_(None))
        .values(version=model.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        raise MergedRecord(f"The {kind} {survivor_id} has just been merged into another; retry.")
