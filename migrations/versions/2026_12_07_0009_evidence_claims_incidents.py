"""evidence you can weigh: claims, corroboration counts, incidents, title quotes, protected speakers

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 09:00:00

- ``claim``: each figure a source gives about an event (fatalities low/best/high, deaths by
  whom, measures), with its origin: an article (and its outlet, and maybe a quote), a dataset,
  or a curator. Existing data becomes claims: every ``event_measure`` row (then dropped: a
  measure is a claim now), and every event's current fatality figures and deaths by whom
  (the columns 0008 added), attributed to the
  dataset an imported event came from, else to the event's first source article, else to a
  curator (no key: the figure predates claims). One claim a field, so the headlines the
  writer's rule gives are the figures the events already have.
- ``event``: what the writer keeps from the evidence: how many articles,
  outlets and quotes support the event, when it was first reported, what backs it
  (``evidence``: quotes / dataset / none), whether its sources disagree (``disputed``), and
  its ``incident``. Filled here from the stored evidence.
- ``incident``: one real-world happening that several events describe.
- ``quote``: ``in_title`` (a quote of an article's title, for articles without a body) and
  ``speaker_protected``.

Every event's list row changes, so the data version advances and each event gets an
'updated' entry in the change feed (a copy kept in sync reads the new fields).

Downgrade keeps what the older schema can hold: measure claims go back to ``event_measure``;
figure claims, incidents and the new columns are dropped; quotes of titles are deleted (the
older schema cannot say a quote is not in the body).
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIGURES = ("fatalities_low", "fatalities_best", "fatalities_high")
DEATHS = ("deaths_a", "deaths_b", "deaths_civilians", "deaths_unknown")


def _now(conn: sa.Connection) -> datetime:
    now = datetime.now(UTC)
    # SQLite stores timestamps as naive UTC text (the app's UTCDateTime).
    return now.replace(tzinfo=None) if conn.dialect.name == "sqlite" else now


def upgrade() -> None:
    conn = op.get_bind()
    now = sa.bindparam("now", _now(conn), type_=sa.DateTime(timezone=True))

    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_event_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident")),
    )
    op.create_table(
        "claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=30), nullable=False),
        sa.Column("kind", sa.String(length=200), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("qualifier", sa.String(length=100), nullable=True),
        sa.Column("origin", sa.String(length=10), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("quote_id", sa.Integer(), nullable=True),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "origin IN ('source', 'dataset', 'curator')", name=op.f("ck_claim_origin")
        ),
        sa.CheckConstraint(
            "origin <> 'source' OR article_id IS NOT NULL", name=op.f("ck_claim_source_has_article")
        ),
        sa.CheckConstraint(
            "origin <> 'dataset' OR dataset_id IS NOT NULL",
            name=op.f("ck_claim_dataset_claim_has_dataset"),
        ),
        sa.CheckConstraint(
            "(field = 'measure') = (kind IS NOT NULL)", name=op.f("ck_claim_measure_has_kind")
        ),
        sa.CheckConstraint(
            "field = 'measure' OR value IS NULL OR value >= 0", name=op.f("ck_claim_figure_sign")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_claim_event_id_event"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["article.id"],
            name=op.f("fk_claim_article_id_article"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"], ["quote.id"], name=op.f("fk_claim_quote_id_quote"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name=op.f("fk_claim_dataset_id_dataset")
        ),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_key.id"], name=op.f("fk_claim_api_key_id_api_key")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim")),
    )
    op.create_index("ix_claim_event_id_field", "claim", ["event_id", "field"])
    op.create_index(op.f("ix_claim_article_id"), "claim", ["article_id"])
    op.create_index(op.f("ix_claim_quote_id"), "claim", ["quote_id"])

    with op.batch_alter_table("event", schema=None) as batch_op:
        # The deaths by whom (DEATHS) came with 0008 (dataset dimensions).
        batch_op.add_column(
            sa.Column("source_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("outlet_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("quote_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("first_reported_date", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("evidence", sa.String(length=10), server_default="none", nullable=False)
        )
        batch_op.add_column(
            sa.Column("disputed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("incident_id", sa.Integer(), nullable=True))
        batch_op.create_check_constraint("evidence", "evidence IN ('quotes', 'dataset', 'none')")
        batch_op.create_foreign_key(
            batch_op.f("fk_event_incident_id_incident"), "incident", ["incident_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_event_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index(
            "ix_event_disputed_date_start_id",
            ["date_start", "id"],
            unique=False,
            sqlite_where=sa.text("disputed"),
            postgresql_where=sa.text("disputed"),
        )

    with op.batch_alter_table("quote", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("in_title", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("speaker_protected", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.drop_constraint("uq_quote_article_id_start_offset_end_offset", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_quote_article_id_in_title_start_offset_end_offset"),
            ["article_id", "in_title", "start_offset", "end_offset"],
        )

    # -- existing data as claims ---------------------------------------------------------------
    first_source = (
        "(SELECT event_id, MIN(article_id) AS article_id FROM event_source GROUP BY event_id)"
    )
    op.execute(
        sa.text(
            "INSERT INTO claim (event_id, field, kind, value, qualifier, origin, article_id,"
            " quote_id, created_at)"
            " SELECT m.event_id, 'measure', m.kind, m.value, m.qualifier,"
            " CASE WHEN COALESCE(q.article_id, s.article_id) IS NULL THEN 'curator'"
            " ELSE 'source' END,"
            " COALESCE(q.article_id, s.article_id), m.quote_id, :now"
            " FROM event_measure m"
            " LEFT JOIN quote q ON q.id = m.quote_id"
            f" LEFT JOIN {first_source} s ON s.event_id = m.event_id"
            " ORDER BY m.id"
        ).bindparams(now)
    )
    for name in (*FIGURES, *DEATHS):
        op.execute(
            sa.text(
                "INSERT INTO claim (event_id, field, value, origin, article_id, dataset_id,"
                " created_at)"
                f" SELECT e.id, '{name}', e.{name},"
                " CASE WHEN p.dataset_id IS NOT NULL THEN 'dataset'"
                " WHEN s.article_id IS NOT NULL THEN 'source' ELSE 'curator' END,"
                " CASE WHEN p.dataset_id IS NULL THEN s.article_id END, p.dataset_id, :now"
                " FROM event e"
                " LEFT JOIN event_provenance p ON p.event_id = e.id"
                f" LEFT JOIN {first_source} s ON s.event_id = e.id"
                f" WHERE e.{name} IS NOT NULL"
                " ORDER BY e.id"
            ).bindparams(now)
        )
    op.drop_index("ix_event_measure_quote_id", table_name="event_measure")
    op.drop_index("ix_event_measure_event_id", table_name="event_measure")
    op.drop_table("event_measure")

    # -- what the writer keeps from the evidence ----------------------------------------------
    op.execute(
        "UPDATE event SET"
        " source_count = (SELECT COUNT(*) FROM event_source s WHERE s.event_id = event.id),"
        " outlet_count = (SELECT COUNT(DISTINCT a.outlet_id) FROM event_source s"
        "   JOIN article a ON a.id = s.article_id WHERE s.event_id = event.id),"
        " quote_count = (SELECT COUNT(DISTINCT c.quote_id) FROM event_source s"
        "   JOIN event_source_quote c ON c.event_source_id = s.id WHERE s.event_id = event.id),"
        " first_reported_date = (SELECT MIN(a.published_date) FROM event_source s"
        "   JOIN article a ON a.id = s.article_id WHERE s.event_id = event.id),"
        " evidence = CASE"
        "   WHEN EXISTS (SELECT 1 FROM event_source s JOIN event_source_quote c"
        "     ON c.event_source_id = s.id WHERE s.event_id = event.id) THEN 'quotes'"
        "   WHEN EXISTS (SELECT 1 FROM event_provenance p WHERE p.event_id = event.id)"
        "     THEN 'dataset'"
        "   ELSE 'none' END"
    )

    # Every event's row changed: a new data version, and each event in the change feed (a
    # database without events keeps its version: nothing a reader saw changed).
    op.execute(
        sa.text(
            "UPDATE data_version SET version = version + 1, changed_at = :now"
            " WHERE id = 1 AND EXISTS (SELECT 1 FROM event)"
        ).bindparams(now)
    )
    op.execute(
        "INSERT INTO event_change (version, event_id, action, changed_at)"
        " SELECT d.version, e.id,"
        " CASE WHEN e.status = 'retracted' THEN 'retracted' ELSE 'updated' END, d.changed_at"
        " FROM event e, data_version d WHERE d.id = 1"
    )


def downgrade() -> None:
    op.create_table(
        "event_measure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("qualifier", sa.String(length=100), nullable=True),
        sa.Column("quote_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_event_measure_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"],
            ["quote.id"],
            name=op.f("fk_event_measure_quote_id_quote"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_measure")),
    )
    op.create_index("ix_event_measure_event_id", "event_measure", ["event_id"])
    op.create_index("ix_event_measure_quote_id", "event_measure", ["quote_id"])
    op.execute(
        "INSERT INTO event_measure (event_id, kind, value, qualifier, quote_id)"
        " SELECT event_id, kind, value, qualifier, quote_id FROM claim"
        " WHERE field = 'measure' AND withdrawn_at IS NULL ORDER BY id"
    )
    op.drop_index(op.f("ix_claim_quote_id"), table_name="claim")
    op.drop_index(op.f("ix_claim_article_id"), table_name="claim")
    op.drop_index("ix_claim_event_id_field", table_name="claim")
    op.drop_table("claim")

    # Quotes of titles cannot be told apart from quotes of bodies below this revision.
    op.execute("DELETE FROM quote WHERE in_title")
    with op.batch_alter_table("quote", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_quote_article_id_in_title_start_offset_end_offset"), type_="unique"
        )
        batch_op.create_unique_constraint(
            "uq_quote_article_id_start_offset_end_offset",
            ["article_id", "start_offset", "end_offset"],
        )
        batch_op.drop_column("speaker_protected")
        batch_op.drop_column("in_title")

    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("ix_event_disputed_date_start_id")
        batch_op.drop_index(batch_op.f("ix_event_incident_id"))
        batch_op.drop_constraint(batch_op.f("fk_event_incident_id_incident"), type_="foreignkey")
        batch_op.drop_constraint(op.f("ck_event_evidence"), type_="check")
        for name in (
            "incident_id",
            "disputed",
            "evidence",
            "first_reported_date",
            "quote_count",
            "outlet_count",
            "source_count",
        ):
            batch_op.drop_column(name)
    op.drop_table("incident")
