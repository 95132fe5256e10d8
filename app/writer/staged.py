"""Set-based creation of imported events: one staged row per event, then a statement per table.

``import_events`` (``app.writer.datasets``) builds every row of every table in Python (an
event writes ~11: the event, its provenance, four to seven claims, actors, sources, codes, a
'create' revision), then hands them to the driver. Here the loader hands over one tuple per
event (its fields, its resolved ids, its provenance); the tuples are staged into ``TEMP``
tables (executemany on SQLite, ``COPY`` on PostgreSQL), and each table is then written by one
``INSERT ... SELECT`` from them: the events with their corroboration (a join of the staged
sources to their articles), the provenance, the dataset's claims (one per figure given), the
actors, codes and sources, and the 'create' revisions, their JSON built by the database.

What is stored is what ``import_events`` stores, row for row (tests/writer/test_staged.py
compares the two on the GED sample); the derived state follows at commit as for any created
event (``app.derived``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from app import derived
from app.db.base import utcnow
from app.db.bulk import driver_rows, reserve_ids
from app.db.dialect import SetSql, set_sql
from app.derived import interaction
from app.models import Event
from app.models.event import FIGURE_FIELDS
from app.writer.events import GIVEN_FIELDS, NewEventActor, interaction_of

# The staging tables, and the columns the loader fills (the event's id is added here).
_EVENT_FIELDS = GIVEN_FIELDS  # external_id ... deaths_unknown, in column order
_STAGE_EVENT = "import_stage_event"
_STAGE_ACTOR = "import_stage_actor"
_STAGE_SOURCE = "import_stage_source"
_STAGE_CODE = "import_stage_code"


class ImportedRow(NamedTuple):
    """A new event from a dataset row: its recorded fields (``GIVEN_FIELDS``, in order), its
    resolved actors, articles and codes, and the row behind it (provenance: the row's id in
    the dataset, the release, the row's hash, and its original values as JSON text)."""

    fields: tuple[Any, ...]
    actors: Sequence[NewEventActor]
    article_ids: Sequence[int]
    dimension_ids: Sequence[int]
    row_id: str
    dataset_version: str | None
    content_sha256: str
    original_json: str


def _ddl(sql: SetSql) -> list[str]:
    types = {
        "external_id": "TEXT",
        "event_type": "TEXT",
        "sub_event_type": "TEXT",
        "date_start": sql.date_type,
        "date_end": sql.date_type,
        "date_precision": "TEXT",
        "place_id": "INTEGER",
        "geo_precision": "INTEGER",
        "summary": "TEXT",
        **dict.fromkeys(FIGURE_FIELDS, "INTEGER"),
    }
    assert list(types) == list(_EVENT_FIELDS), "GIVEN_FIELDS changed: stage them"
    columns = ", ".join(f"{name} {kind}" for name, kind in types.items())
    return [
        f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE_EVENT} (id INTEGER PRIMARY KEY, {columns}, "
        "interaction TEXT, row_id TEXT, dataset_version TEXT, content_sha256 TEXT, "
        "original TEXT)",
        f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE_ACTOR} "
        "(id INTEGER, ord INTEGER, actor_id INTEGER, side TEXT, role TEXT)",
        f"CREATE INDEX IF NOT EXISTS {_STAGE_ACTOR}_id ON {_STAGE_ACTOR} (id)",
        f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE_SOURCE} (id INTEGER, ord INTEGER, "
        "article_id INTEGER)",
        f"CREATE INDEX IF NOT EXISTS {_STAGE_SOURCE}_id ON {_STAGE_SOURCE} (id)",
        f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE_CODE} (id INTEGER, code_id INTEGER)",
        f"CREATE INDEX IF NOT EXISTS {_STAGE_CODE}_id ON {_STAGE_CODE} (id)",
    ]


def import_rows(
    session: Session, dataset_id: int, rows: Sequence[ImportedRow], *, api_key_id: int | None
) -> list[int]:
    """Create events from dataset rows, set by set; their ids, in the order given.

    The same events, provenance, claims, evidence and revisions as ``import_events``.
    """
    if not rows:
        return []
    sql = set_sql(session)
    connection = session.connection()
    for statement in _ddl(sql):
        connection.exec_driver_sql(statement)
    tables = [_STAGE_EVENT, _STAGE_ACTOR, _STAGE_SOURCE, _STAGE_CODE]
    for statement in sql.emptied(tables):  # of a previous batch's rows
        connection.exec_driver_sql(statement)

    ids = reserve_ids(session, Event, len(rows))
    kinds = interaction.kinds(session, {a.actor_id for r in rows for a in r.actors})
    dates = not sql.postgresql  # SQLite stores dates as ISO text
    events: list[tuple[Any, ...]] = []
    actors: list[tuple[Any, ...]] = []
    sources: list[tuple[int, int, int]] = []
    codes: list[tuple[int, int]] = []
    for event_id, r in zip(ids, rows, strict=True):
        fields = r.fields
        if dates:
            fields = (*fields[:3], fields[3].isoformat(), fields[4].isoformat(), *fields[5:])
        events.append(
            (
                event_id,
                *fields,
                interaction_of(r.actors, kinds),
                r.row_id,
                r.dataset_version,
                r.content_sha256,
                r.original_json,
            )
        )
        actors += ((event_id, k, a.actor_id, a.side, a.role) for k, a in enumerate(r.actors))
        sources += ((event_id, k, article_id) for k, article_id in enumerate(r.article_ids))
        codes += ((event_id, code_id) for code_id in dict.fromkeys(r.dimension_ids))
    _stage(
        session,
        _STAGE_EVENT,
        [
            "id",
            *_EVENT_FIELDS,
            "interaction",
            "row_id",
            "dataset_version",
            "content_sha256",
            "original",
        ],
        events,
    )
    _stage(session, _STAGE_ACTOR, ["id", "ord", "actor_id", "side", "role"], actors)
    _stage(session, _STAGE_SOURCE, ["id", "ord", "article_id"], sources)
    _stage(session, _STAGE_CODE, ["id", "code_id"], codes)
    for statement in sql.staged(tables):
        connection.exec_driver_sql(statement)

    # The timestamps bound as the columns' type stores them (every table's is UTCDateTime).
    now = bindparam("now", utcnow(), type_=Event.__table__.c.created_at.type)
    for statement in _statements(sql):
        query = text(statement)
        session.execute(
            query.bindparams(now) if ":now" in statement else query,
            {"dataset_id": dataset_id, "api_key_id": api_key_id},
        )
    derived.events_changed(session, ids, "created")
    derived.interaction_known(session, ids)
    return ids


def _stage(session: Session, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Rows into a staging table through the driver: executemany on SQLite, COPY on
    PostgreSQL."""
    if rows:
        driver_rows(session.connection(), table, columns, rows)


def _statements(sql: SetSql) -> list[str]:
    given = ", ".join(_EVENT_FIELDS)
    staged = ", ".join(f"s.{name}" for name in _EVENT_FIELDS)
    # Corroboration (app.writer.evidence.new_event_values): the staged sources' articles and
    # outlets, the earliest publication; no quotes, so the evidence is the dataset.
    events = (
        f"INSERT INTO event (id, {given}, interaction, status, retraction_reason, "
        "retracted_at, version, source_count, outlet_count, quote_count, first_reported_date, "
        "evidence, disputed, incident_id, created_at, updated_at) "
        f"SELECT s.id, {staged}, s.interaction, 'active', NULL, NULL, 1, "
        "COALESCE(c.articles, 0), COALESCE(c.outlets, 0), 0, c.first_date, 'dataset', "
        "FALSE, NULL, :now, :now "
        f"FROM {_STAGE_EVENT} s LEFT JOIN (SELECT x.id, COUNT(DISTINCT x.article_id) AS articles, "
        "COUNT(DISTINCT a.outlet_id) AS outlets, MIN(a.published_date) AS first_date "
        f"FROM {_STAGE_SOURCE} x JOIN article a ON a.id = x.article_id GROUP BY x.id) c "
        "ON c.id = s.id ORDER BY s.id"
    )
    provenance = (
        "INSERT INTO event_provenance (event_id, dataset_id, external_id, dataset_version, "
        "content_sha256, imported_version, original, imported_at) "
        f"SELECT id, :dataset_id, row_id, dataset_version, content_sha256, 1, "
        f"{sql.text_as_json('original')}, :now FROM {_STAGE_EVENT} ORDER BY id"
    )
    # The dataset's claim on each figure it gives, in the order import_events writes them.
    figures = " UNION ALL ".join(
        f"SELECT id, {k} AS ord, '{name}' AS field, {name} AS value FROM {_STAGE_EVENT} "
        f"WHERE {name} IS NOT NULL"
        for k, name in enumerate(FIGURE_FIELDS)
    )
    claims = (
        "INSERT INTO claim (event_id, field, kind, value, qualifier, origin, article_id, "
        "quote_id, dataset_id, api_key_id, created_at, withdrawn_at, withdrawn_reason) "
        "SELECT f.id, f.field, NULL, CAST(f.value AS DOUBLE PRECISION), NULL, 'dataset', NULL, "
        "NULL, :dataset_id, :api_key_id, :now, NULL, NULL "
        f"FROM ({figures}) f ORDER BY f.id, f.ord"
    )
    actors = (
        "INSERT INTO event_actor (event_id, actor_id, side, role) "
        f"SELECT id, actor_id, side, role FROM {_STAGE_ACTOR} ORDER BY id, ord"
    )
    codes = (
        "INSERT INTO event_dimension (code_id, event_id) "
        f"SELECT DISTINCT code_id, id FROM {_STAGE_CODE}"
    )
    sources = (
        "INSERT INTO event_source (event_id, article_id) "
        f"SELECT id, article_id FROM {_STAGE_SOURCE} ORDER BY id, ord"
    )
    changes, joins = _create_changes(sql)
    revisions = (
        "INSERT INTO event_revision (event_id, api_key_id, action, changes, changed_at) "
        f"SELECT s.id, :api_key_id, 'create', {sql.json_column(changes)}, :now "
        f"FROM {_STAGE_EVENT} s {joins} ORDER BY s.id"
    )
    return [events, provenance, claims, actors, codes, sources, revisions]


def _create_changes(sql: SetSql) -> tuple[str, str]:
    """The 'create' revision's changes, as ``create_events`` records them: [null, value] for
    every field given (dates as ISO text), status, then the actors (by actor id), codes and
    sources (sorted ids) when there are any. (The expression, and the joins it needs.)

    PostgreSQL aggregates each staged list once, grouped by event and joined (its aggregates
    take an ORDER BY); SQLite 3.40 has no ORDER BY in an aggregate, so it aggregates each
    event's rows by a correlated subquery that feeds them in order (by index, in process).
    """
    pairs = []
    for name in _EVENT_FIELDS:
        value = sql.date_text(f"s.{name}") if name in ("date_start", "date_end") else f"s.{name}"
        pairs.append(
            f"'{name}', CASE WHEN s.{name} IS NULL THEN NULL "
            f"ELSE {sql.json_array}(NULL, {value}) END"
        )
    pairs.append(f"'status', {sql.json_array}(NULL, 'active')")
    changes = sql.strip_nulls(f"{sql.json_object}({', '.join(pairs)})")
    joins = []

    def optional(key: str, table: str, columns: str, element: str, order: str) -> str:
        alias = f"j_{key}"
        if sql.postgresql:
            distinct = columns.startswith("DISTINCT ")
            listed = f"{'DISTINCT ' if distinct else ''}x.id, {columns.removeprefix('DISTINCT ')}"
            joins.append(
                f"LEFT JOIN (SELECT x.id, {sql.json_agg(element, order)} AS list FROM "
                f"(SELECT {listed} FROM {table} x) x GROUP BY x.id) {alias} "
                f"ON {alias}.id = s.id"
            )
            present, array = f"{alias}.list IS NOT NULL", f"{alias}.list"
        else:  # the rows fed to the aggregate in its order; json(): kept as JSON, not text
            rows = f"(SELECT {columns} FROM {table} x WHERE x.id = s.id ORDER BY {order}) x"
            present = f"EXISTS (SELECT 1 FROM {table} x WHERE x.id = s.id)"
            array = f"json((SELECT {sql.json_agg(element, order)} FROM {rows}))"
        return (
            f"CASE WHEN {present} "
            f"THEN {sql.json_object}('{key}', {sql.json_array}(NULL, {array})) "
            f"ELSE {sql.empty_object} END"
        )

    actor = f"{sql.json_object}('actor_id', x.actor_id, 'side', x.side, 'role', x.role)"
    for part in (
        optional(
            "actors", _STAGE_ACTOR, "x.actor_id, x.side, x.role, x.ord", actor, "x.actor_id, x.ord"
        ),
        optional("dimensions", _STAGE_CODE, "DISTINCT x.code_id", "x.code_id", "x.code_id"),
        optional("sources", _STAGE_SOURCE, "DISTINCT x.article_id", "x.article_id", "x.article_id"),
    ):
        changes = sql.merge(changes, part)
    return changes, " ".join(joins)
