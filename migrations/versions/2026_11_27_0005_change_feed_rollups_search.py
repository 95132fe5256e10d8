"""change feed, data version, monthly rollups and the full-text index

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 04:20:00
"""

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_data_version_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_version")),
    )
    op.execute("INSERT INTO data_version (id, version) VALUES (1, 0)")
    op.create_table(
        "event_change",
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "action IN ('created', 'updated', 'retracted')", name=op.f("ck_event_change_action")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_event_change_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version", "event_id", name=op.f("pk_event_change")),
    )
    op.create_index(op.f("ix_event_change_event_id"), "event_change", ["event_id"])
    op.create_table(
        "event_rollup",
        sa.Column("month", sa.Date(), nullable=False, comment="first day of the month"),
        sa.Column("country", sa.String(length=2), nullable=False, comment="'' when none"),
        sa.Column("admin1_id", sa.Integer(), nullable=False, comment="0 when none"),
        sa.Column("event_type", sa.String(length=80), nullable=False),
        sa.Column("sub_event_type", sa.String(length=80), nullable=False, comment="'' if none"),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("fatalities_best", sa.BigInteger(), nullable=False),
        sa.Column("fatalities_low", sa.BigInteger(), nullable=False),
        sa.Column("fatalities_high", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "month",
            "country",
            "admin1_id",
            "event_type",
            "sub_event_type",
            name=op.f("pk_event_rollup"),
        ),
    )
    op.create_index("ix_event_rollup_country_month", "event_rollup", ["country", "month"])
    op.create_table(
        "event_rollup_member",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("admin1_id", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=80), nullable=False),
        sa.Column("sub_event_type", sa.String(length=80), nullable=False),
        sa.Column("fatalities_best", sa.Integer(), nullable=False),
        sa.Column("fatalities_low", sa.Integer(), nullable=False),
        sa.Column("fatalities_high", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_event_rollup_member_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_event_rollup_member")),
    )
    # The full-text index is not an ORM table (migrations/env.py leaves it out of `check`).
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE event_search USING fts5("
            "body, tokenize = 'unicode61 remove_diacritics 2')"
        )
    else:
        op.execute(
            "CREATE TABLE event_search ("
            " event_id integer PRIMARY KEY REFERENCES event (id) ON DELETE CASCADE,"
            " document tsvector NOT NULL)"
        )
        op.execute("CREATE INDEX ix_event_search_document ON event_search USING gin (document)")

    # Derive the new state for the events already stored. Frozen here, as the app derived it
    # when this revision was written: a revision never imports the app, whose code moves on.
    _derive(op.get_bind())


# -- the derived state of the events stored at 0004, frozen ----------------------------------
#
# What app.derived.rebuild gave at this revision: the data version advanced once (0 -> 1), one
# 'created' change per event under it, one rollup member per active event and the rollups
# summed from them, one search document per event (any status).

# Rollup key columns are part of the primary key, so "none" is a value: '' country or
# sub-event type, 0 admin1.
_MEMBER_COLUMNS = (
    "event_id, month, country, admin1_id, event_type, sub_event_type,"
    " fatalities_best, fatalities_low, fatalities_high"
)
_MONTH = {
    "sqlite": "date(e.date_start, 'start of month')",
    "postgresql": "CAST(date_trunc('month', CAST(e.date_start AS TIMESTAMP)) AS DATE)",
}
# The nearest ancestor of kind 'admin1' in the closure table (the place itself at depth 0).
_ADMIN1 = (
    "(SELECT pa.ancestor_id FROM place_ancestor pa JOIN place a ON a.id = pa.ancestor_id"
    " WHERE pa.place_id = e.place_id AND a.kind = 'admin1'"
    " ORDER BY pa.depth, pa.ancestor_id LIMIT 1)"
)
_DOCUMENT_BATCH = 1000


def _derive(conn: sa.Connection) -> None:
    conn.execute(
        sa.text(
            "UPDATE data_version SET version = version + 1, changed_at = :now WHERE id = 1"
        ).bindparams(sa.bindparam("now", _now(conn), type_=sa.DateTime(timezone=True)))
    )
    conn.execute(
        sa.text(
            "INSERT INTO event_change (version, event_id, action, changed_at)"
            " SELECT d.version, e.id, 'created', d.changed_at"
            " FROM event e CROSS JOIN data_version d WHERE d.id = 1"
        )
    )
    conn.execute(
        sa.text(
            f"INSERT INTO event_rollup_member ({_MEMBER_COLUMNS})"
            f" SELECT e.id, {_MONTH[conn.dialect.name]}, COALESCE(p.country, ''),"
            f" COALESCE({_ADMIN1}, 0), e.event_type, COALESCE(e.sub_event_type, ''),"
            " COALESCE(e.fatalities_best, 0), COALESCE(e.fatalities_low, 0),"
            " COALESCE(e.fatalities_high, 0)"
            " FROM event e LEFT JOIN place p ON p.id = e.place_id"
            " WHERE e.status = 'active'"
        )
    )
    conn.execute(
        sa.text(
            "INSERT INTO event_rollup (month, country, admin1_id, event_type, sub_event_type,"
            " events, fatalities_best, fatalities_low, fatalities_high)"
            " SELECT month, country, admin1_id, event_type, sub_event_type,"
            " COUNT(*), SUM(fatalities_best), SUM(fatalities_low), SUM(fatalities_high)"
            " FROM event_rollup_member"
            " GROUP BY month, country, admin1_id, event_type, sub_event_type"
        )
    )
    _index_documents(conn)


def _now(conn: sa.Connection) -> datetime:
    now = datetime.now(UTC)
    # Stored as the app stores timestamps: naive UTC on SQLite, timestamptz on PostgreSQL.
    return now.replace(tzinfo=None) if conn.dialect.name == "sqlite" else now


def _index_documents(conn: sa.Connection) -> None:
    """One search document per event: its summary, then the titles of the articles that report
    it (by article id), then the quotes that support it (by quote id), as words."""
    if conn.dialect.name == "sqlite":
        insert = sa.text("INSERT INTO event_search (rowid, body) VALUES (:id, :body)")
    else:
        insert = sa.text(
            "INSERT INTO event_search (event_id, document)"
            " VALUES (:id, to_tsvector('simple', CAST(:body AS TEXT)))"
        )
    after = 0
    while True:
        summaries = conn.execute(
            sa.text("SELECT id, summary FROM event WHERE id > :after ORDER BY id LIMIT :n"),
            {"after": after, "n": _DOCUMENT_BATCH},
        ).all()
        if not summaries:
            return
        first, after = summaries[0][0], summaries[-1][0]
        parts: dict[int, list[str]] = defaultdict(list)
        for event_id, summary in summaries:
            parts[event_id].append(summary or "")
        span = {"first": first, "last": after}
        for event_id, title in conn.execute(
            sa.text(
                "SELECT es.event_id, a.title FROM event_source es"
                " JOIN article a ON a.id = es.article_id"
                " WHERE es.event_id BETWEEN :first AND :last ORDER BY es.event_id, a.id"
            ),
            span,
        ):
            parts[event_id].append(title or "")
        for event_id, quote in conn.execute(
            sa.text(
                "SELECT es.event_id, q.text FROM event_source es"
                " JOIN event_source_quote esq ON esq.event_source_id = es.id"
                " JOIN quote q ON q.id = esq.quote_id"
                " WHERE es.event_id BETWEEN :first AND :last ORDER BY es.event_id, q.id"
            ),
            span,
        ):
            parts[event_id].append(quote)
        conn.execute(
            insert,
            [
                {"id": event_id, "body": " ".join(_words(" ".join(texts)))}
                for event_id, texts in sorted(parts.items())
            ],
        )


# The search index's words, as app.search.repository.words made them at this revision:
# accents dropped, case folded, runs of letters and digits.
_WORD = re.compile(r"[^\W_]+")


class _DropCombining(dict[int, int | None]):
    """A ``str.translate`` table deleting combining characters, filled as they are met."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        self[code] = kept
        return kept


_DROP_COMBINING = _DropCombining()


def _words(value: str) -> list[str]:
    if value.isascii():
        return _WORD.findall(value.lower())
    decomposed = unicodedata.normalize("NFKD", value)
    if not decomposed.isascii():
        decomposed = decomposed.translate(_DROP_COMBINING)
    return _WORD.findall(decomposed.casefold())


def downgrade() -> None:
    op.execute("DROP TABLE event_search")
    op.drop_table("event_rollup_member")
    op.drop_index("ix_event_rollup_country_month", table_name="event_rollup")
    op.drop_table("event_rollup")
    op.drop_index(op.f("ix_event_change_event_id"), table_name="event_change")
    op.drop_table("event_change")
    op.drop_table("data_version")
