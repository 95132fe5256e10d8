"""The dashboard benchmark's three queries as plain SQL, shared by every system that is not our API.

The bare-SQL floor, the reference app (bench/refapp.py) and Datasette all send exactly this
SQL, so their rows differ only in what serves it. Parameters are written ``:name``
(sqlite3, Datasette, pgbench); ``for_psycopg`` and ``for_asyncpg`` rewrite them.

- ``q1``: a page of 100 events of one country and date range, newest first: the columns of
  ``GET /v1/events`` (``app.events.repository.LIST_COLUMNS``).
- ``q2``: events per month and event type for one country and date range.
- ``q2_rollup``: the same from the monthly rollup table the writer maintains (what the API
  can do at best with it), when the schema has one.
- ``q3``: every event of one country and date range with its coordinates (a GeoJSON export's
  rows), in id order.
"""

from __future__ import annotations

import re

# The events list's columns, in its order.
_COLUMNS = """e.id, e.external_id, e.event_type, e.sub_event_type, e.date_start, e.date_end,
       e.date_precision, e.place_id, p.name AS place_name, p.country, p.latitude, p.longitude,
       e.geo_precision, e.summary, e.fatalities_low, e.fatalities_best, e.fatalities_high,
       e.status, e.created_at, e.updated_at"""
_WHERE = """p.country = :country AND e.status = 'active'
  AND e.date_start >= :date_from AND e.date_start <= :date_to"""

Q1 = f"""SELECT {_COLUMNS}
FROM event e JOIN place p ON p.id = e.place_id
WHERE {_WHERE}
ORDER BY e.date_start DESC, e.id DESC
LIMIT 100"""

Q3 = f"""SELECT {_COLUMNS}
FROM event e JOIN place p ON p.id = e.place_id
WHERE {_WHERE}
ORDER BY e.id"""

# Months: PostgreSQL truncates the date; SQLite stores dates as ISO text.
_MONTH = {
    "postgresql": "date_trunc('month', e.date_start)::date",
    "sqlite": "substr(e.date_start, 1, 7) || '-01'",
}


def q2(dialect: str) -> str:
    return f"""SELECT {_MONTH[dialect]} AS month, e.event_type, count(*) AS events
FROM event e JOIN place p ON p.id = e.place_id
WHERE {_WHERE}
GROUP BY 1, 2
ORDER BY 1, 2"""


# The rollup's months are first days; a range of whole months selects exactly its months.
Q2_ROLLUP = """SELECT r.month, r.event_type, sum(r.events) AS events
FROM event_rollup r
WHERE r.country = :country AND r.month >= :date_from AND r.month <= :date_to
GROUP BY 1, 2
HAVING sum(r.events) > 0
ORDER BY 1, 2"""


def queries(dialect: str) -> dict[str, str]:
    return {"q1": Q1, "q2": q2(dialect), "q2_rollup": Q2_ROLLUP, "q3": Q3}


_PARAM = re.compile(r"(?<![:\w]):(\w+)")  # :name, but not a ::cast


def for_psycopg(sql: str) -> str:
    return _PARAM.sub(r"%(\1)s", sql)


def for_asyncpg(sql: str, order: tuple[str, ...] = ("country", "date_from", "date_to")) -> str:
    return _PARAM.sub(lambda m: f"${order.index(m[1]) + 1}", sql)
