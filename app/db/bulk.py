"""The bulk-insert engine: rows into a table in one batch, with their ids taken up front.

A report writes a dozen rows; a dataset import writes hundreds of thousands. Both call
``insert_rows``: in an ordinary session it is one Core ``INSERT`` with many parameter sets; in
a session marked ``BULK`` (``app.writer.transaction.bulk_session``) the rows go straight to the
driver (executemany on SQLite, ``COPY`` on PostgreSQL), because SQLAlchemy's per-row statement
machinery then costs more than the insert itself.

Every table a session writes through the driver is noted in ``session.info[DRIVER_WRITES]``:
SQLAlchemy sees none of those statements, so whoever keeps state derived from writes (the
data version, ``app.derived``) reads the note instead.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from operator import itemgetter
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, CursorResult, Insert, Table, func, insert, select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

# Set in a session's ``info`` by bulk loaders: its inserts go straight to the driver.
BULK = "conflictdb_bulk"
# A set in a session's ``info``: the tables it wrote through the driver.
DRIVER_WRITES = "conflictdb_driver_writes"

_Key = TypeVar("_Key", int, str)

# Ids per IN (...) list: well under SQLite's bound-parameter limit.
CHUNK = 500


def chunks(ids: Iterable[_Key]) -> Iterator[list[_Key]]:
    """The distinct ids (or names), sorted, in lists of at most ``CHUNK``."""
    ordered = sorted(set(ids))
    for i in range(0, len(ordered), CHUNK):
        yield ordered[i : i + CHUNK]


def rowcount(result: Any) -> int:
    """The rows an UPDATE or DELETE matched."""
    return int(cast(CursorResult[Any], result).rowcount)


def insert_rows(session: Session, model: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows (dicts with the same keys) into the model's table, in one batch."""
    if not rows:
        return
    table = cast(Table, model.__table__)
    if session.info.get(BULK):
        driver_insert(session, table, rows)
    else:
        # Core on the session's connection, not the ORM's bulk insert: no per-row ORM
        # bookkeeping, nor the ORM's execution around the statement; same rows, defaults.
        # The ORM's execute hooks do not see it: noted as the driver's writes are.
        session.info.setdefault(DRIVER_WRITES, set()).add(table.name)
        session.connection().execute(_insert(table), rows[0] if len(rows) == 1 else rows)


def reserve_ids(session: Session, model: Any, count: int) -> list[int]:
    """``count`` new primary keys for the model's table, taken before its rows are inserted.

    An INSERT ... RETURNING of many rows is slow on both databases: SQLite does not promise
    RETURNING's order, so SQLAlchemy sends one INSERT per row (and splices the results at a
    quadratic cost); on PostgreSQL it renders one huge statement the driver then re-parses.
    Taking the ids first lets the rows go in as a plain batch.
    """
    table = model.__table__
    if session.get_bind().dialect.name == "sqlite":
        # Writes hold SQLite's write lock from BEGIN IMMEDIATE (app.db.dialect): nobody else
        # can take ids meanwhile, and a new rowid is max(rowid) + 1 anyway.
        start = session.execute(select(func.max(table.c.id))).scalar() or 0
        return list(range(start + 1, start + 1 + count))
    sequence = func.pg_get_serial_sequence(table.name, "id")
    return list(
        session.scalars(select(func.nextval(sequence)).select_from(func.generate_series(1, count)))
    )


def insert_returning_ids(
    session: Session, model: Any, rows: Sequence[Mapping[str, Any]]
) -> list[int]:
    """Insert rows and return their new ids, in the order given."""
    if not rows:
        return []
    if not session.info.get(BULK) and len(rows) <= _RETURNING_ROWS[_dialect_name(session)]:
        # A report's few rows: their ids come back from the INSERT itself, one round trip
        # instead of two. PostgreSQL takes them in one statement, in the order given
        # (SQLAlchemy's insertmanyvalues, sorted by parameter order); SQLite only one row per
        # statement, so there just one.
        table = model.__table__
        session.info.setdefault(DRIVER_WRITES, set()).add(table.name)
        result = session.connection().execute(
            _insert_returning_id(table), rows[0] if len(rows) == 1 else list(rows)
        )
        return list(result.scalars())
    ids = reserve_ids(session, model, len(rows))
    insert_rows(session, model, [{**row, "id": i} for row, i in zip(rows, ids, strict=True)])
    return ids


@functools.cache
def _insert(table: Table) -> Insert:
    return insert(table)


@functools.cache
def _insert_returning_id(table: Table) -> Insert:
    return insert(table).returning(table.c.id, sort_by_parameter_order=True)


# The most rows ``insert_returning_ids`` sends as INSERT ... RETURNING, by dialect; more
# take their ids first (``reserve_ids``).
_RETURNING_ROWS = {"sqlite": 1, "postgresql": 100}


def _dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name


def bind_processors(
    table: Table, names: Sequence[str], dialect: Dialect
) -> list[tuple[int, Callable[[Any], Any]]]:
    """(position, converter) for the columns among ``names`` whose Python values the driver
    cannot take as they are (dates on SQLite, UTC timestamps, JSON), as SQLAlchemy's own
    statements convert them: the type's dialect implementation, through public API."""
    found: list[tuple[int, Callable[[Any], Any]]] = []
    for index, name in enumerate(names):
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            found.append((index, process))
    return found


def driver_insert(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows through the driver: executemany on SQLite, COPY on PostgreSQL.

    Values are converted by SQLAlchemy's own bind processors (``bind_processors``), so what is
    stored is exactly what ``insert()`` would store. Column defaults the rows leave out are
    applied here (once per batch); driver errors are raised as SQLAlchemy's (IntegrityError ...).
    """
    session.info.setdefault(DRIVER_WRITES, set()).add(table.name)
    connection = session.connection()
    dialect = connection.dialect
    given = list(rows[0])
    defaults: dict[str, Any] = {}
    for column in table.columns:
        default: Any = column.default
        if column.name in rows[0] or default is None or column.primary_key:
            continue
        defaults[column.name] = default.arg(None) if default.is_callable else default.arg
    names = [*given, *defaults]
    extra = tuple(defaults.values())
    values_of = itemgetter(*given) if len(given) > 1 else (lambda row: (row[given[0]],))
    processors = bind_processors(table, names, dialect)
    data: list[Any]
    if not processors:
        data = [values_of(row) + extra for row in rows]
    else:
        data = [[*values_of(row), *extra] for row in rows]
        # Convert only the columns that need it (dates, timestamps, JSON), each distinct
        # value once: a batch's rows share their timestamps and many of their dates.
        for index, process in processors:
            done: dict[Any, Any] = {}
            for values in data:
                value = values[index]
                try:
                    values[index] = done[value]
                except KeyError:
                    values[index] = done[value] = process(value)
                except TypeError:  # unhashable (JSON documents): converted each time
                    values[index] = process(value)
    quote = dialect.identifier_preparer.quote
    driver_rows(connection, quote(table.name), [quote(name) for name in names], data)


def driver_rows(
    connection: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Rows whose values the driver takes as they are into ``table`` (names as SQL, quoted
    where they must be): executemany on SQLite, COPY on PostgreSQL; driver errors raised as
    SQLAlchemy's (``driver_errors``)."""
    names = ", ".join(columns)
    if connection.dialect.name == "sqlite":
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"
    else:
        sql = f"COPY {table} ({names}) FROM STDIN"
    with driver_errors(connection, sql) as raw:
        cursor = raw.cursor()
        try:
            if connection.dialect.name == "sqlite":
                cursor.executemany(sql, rows)
            else:
                with cursor.copy(sql) as copy:
                    for values in rows:
                        copy.write_row(values)
        finally:
            cursor.close()


@contextmanager
def driver_errors(connection: Connection, statement: str) -> Iterator[Any]:
    """The driver's own connection, for statements sent to it directly (bulk paths), with
    its errors raised as SQLAlchemy raises them (IntegrityError, OperationalError ...: the
    import loader tells a bad row from a failed database by their class), and the
    connection invalidated if the driver says it is gone."""
    raw: Any = connection.connection.driver_connection
    dialect = connection.dialect
    try:
        yield raw
    except dialect.loaded_dbapi.Error as exc:
        invalidated = dialect.is_disconnect(exc, raw, None)
        if invalidated:
            connection.invalidate(exc)
        raise as_sqlalchemy_error(statement, exc, dialect, invalidated=invalidated) from exc


def as_sqlalchemy_error(
    statement: str, exc: Exception, dialect: Dialect, *, invalidated: bool
) -> DBAPIError:
    """A driver's exception wrapped as SQLAlchemy wraps it (IntegrityError for an integrity
    error, OperationalError ...), for statements SQLAlchemy did not run.

    SQLAlchemy has no documented API for this; ``DBAPIError.instance`` is the factory its
    own execution path uses. It is called here only, and tests/db/test_bulk.py fails
    loudly if an upgrade changes what it returns.
    """
    error = DBAPIError.instance(
        statement,
        None,
        exc,
        dialect.loaded_dbapi.Error,
        connection_invalidated=invalidated,
        dialect=dialect,
    )
    if not isinstance(error, DBAPIError):  # only for exceptions that are not the driver's
        raise TypeError(f"not a driver error: {exc!r}")
    return error
