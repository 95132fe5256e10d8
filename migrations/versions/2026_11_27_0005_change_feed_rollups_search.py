"""change feed, data version, monthly rollups and the full-text index

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 04:20:00
"""

from collections.abc import Sequence

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

    # Derive the new state for the events already stored, with the writer's own code.
    from sqlalchemy.orm import Session

    from app.derived.hooks import rebuild

    rebuild(Session(bind=op.get_bind()))


def downgrade() -> None:
    op.execute("DROP TABLE event_search")
    op.drop_table("event_rollup_member")
    op.drop_index("ix_event_rollup_country_month", table_name="event_rollup")
    op.drop_table("event_rollup")
    op.drop_index(op.f("ix_event_change_event_id"), table_name="event_change")
    op.drop_table("event_change")
    op.drop_table("data_version")
