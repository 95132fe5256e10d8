"""history: a system-versioned copy of events, their links and places, for as_of reads (issue 12)

Each ``t_history`` holds every column of ``t`` plus ``valid_from``/``valid_to`` (data versions);
``version_history`` maps versions to commit times. The current rows are copied as valid from
the current data version, the earliest version ``as_of`` can reproduce.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 17:42:18.339090
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The versioned tables and their columns, as of this revision.
HISTORY: dict[str, tuple[str, ...]] = {
    "event": (
        "id",
        "external_id",
        "event_type",
        "sub_event_type",
        "date_start",
        "date_end",
        "date_precision",
        "place_id",
        "geo_precision",
        "summary",
        "fatalities_low",
        "fatalities_best",
        "fatalities_high",
        "deaths_a",
        "deaths_b",
        "deaths_civilians",
        "deaths_unknown",
        "interaction",
        "status",
        "retraction_reason",
        "retracted_at",
        "version",
        "source_count",
        "outlet_count",
        "quote_count",
        "first_reported_date",
        "evidence",
        "disputed",
        "incident_id",
        "created_at",
        "updated_at",
    ),
    "event_actor": ("event_id", "actor_id", "side", "role"),
    "event_dimension": ("code_id", "event_id"),
    "event_source": ("id", "event_id", "article_id"),
    "claim": (
        "id",
        "event_id",
        "field",
        "kind",
        "value",
        "qualifier",
        "origin",
        "article_id",
        "quote_id",
        "dataset_id",
        "api_key_id",
        "created_at",
        "withdrawn_at",
        "withdrawn_reason",
    ),
    "place": (
        "id",
        "name",
        "name_norm",
        "kind",
        "country",
        "parent_id",
        "depth",
        "latitude",
        "longitude",
        "geonames_id",
        "centroid_latitude",
        "centroid_longitude",
        "centroid_x",
        "centroid_y",
        "centroid_z",
        "version",
        "merged_into_id",
        "created_at",
        "updated_at",
    ),
    "place_ancestor": ("ancestor_id", "place_id", "depth"),
}


def upgrade() -> None:
    op.create_table(
        "claim_history",
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
        sa.Column("valid_from", sa.BigInteger(), nullable=False),
        sa.Column("valid_to", sa.BigInteger(), nullable=True),
    )
    with op.batch_alter_table("claim_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_claim_history_event_id_valid_to", ["event_id", "valid_to"], unique=False
        )
        batch_op.create_index("ix_claim_history_valid_from", ["valid_from"], unique=False)

    op.create_table(
        "event_actor_history",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=1), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("valid_from", sa.BigInteger(), nullable=False),
        sa.Column("valid_to", sa.BigInteger(), nullable=True),
    )
    with op.batch_alter_table("event_actor_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_event_actor_history_event_id_valid_to", ["event_id", "valid_to"], unique=False
        )
        batch_op.create_index("ix_event_actor_history_valid_from", ["valid_from"], unique=False)

    op.create_table(
        "event_dimension_history",
        sa.Column("code_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.BigInteger(), nullable=False),
        sa.Column("valid_to", sa.BigInteger(), nullable=True),
    )
    with op.batch_alter_table("event_dimension_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_event_dimension_history_event_id_valid_to", ["event_id", "valid_to"], unique=False
        )
        batch_op.create_index("ix_event_dimension_history_valid_from", ["valid_from"], unique=False)

    op.create_table(
        "event_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("event_type", sa.String(length=80), nullable=False),
        sa.Column("sub_event_type", sa.String(length=80), nullable=True),
        sa.Column("date_start", sa.Date(), nullable=False),
        sa.Column("date_end", sa.Date(), nullable=False),
        sa.Column("date_precision", sa.String(length=10), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=True),
        sa.Column("geo_precision", sa.SmallInteger(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("fatalities_low", sa.Integer(), nullable=True),
        sa.Column("fatalities_best", sa.Integer(), nullable=True),
        sa.Column("fatalities_high", sa.Integer(), nullable=True),
        sa.Column("deaths_a", sa.Integer(), nullable=True),
        sa.Column("deaths_b", sa.Integer(), nullable=True),
        sa.Column("deaths_civilians", sa.Integer(), nullable=True),
        sa.Column("deaths_unknown", sa.Integer(), nullable=True),
        sa.Column("interaction", sa.String(length=2), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("retraction_reason", sa.Text(), nullable=True),
        sa.Column("retracted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source_count", sa.Integer(), nullable=False),
        sa.Column("outlet_count", sa.Integer(), nullable=False),
        sa.Column("quote_count", sa.Integer(), nullable=False),
        sa.Column("first_reported_date", sa.Date(), nullable=True),
        sa.Column("evidence", sa.String(length=10), nullable=False),
        sa.Column("disputed", sa.Boolean(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_from", sa.BigInteger(), nullable=False),
        sa.Column("valid_to", sa.BigInteger(), nullable=True),
    )
    with op.batch_alter_table("event_history", schema=None) as batch_op:
        batch_op.create_index("ix_event_history_id_valid_to", ["id", "valid_to"], unique=False)
        batch_op.create_index("ix_event_history_valid_from", ["valid_from"], unique=False)
        batch_op.create_index("ix_event_history_date_start_id", ["date_start", "id"], unique=False)

    op.create_table(
        "event_source_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.BigInteger(), nullable=False),
        sa.Column("valid_to", sa.BigInteger(), nullable=True),
    )
    with op.batch_alter_table("event_source_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_event_source_history_event_id_valid_to", ["event_id", "valid_to"], unique=False
        )
        batch_op.create_index("ix_event_source_history_valid_from", ["valid_from"], unique=False)

    op.create_table(
        "place_ancestor_history",
        sa.Column("ancestor_id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.BigInteger(), nullable=False),
        sa.Column("valid_to", sa.BigInteger(), nullable=True),
    )
    with op.batch_alter_table("place_ancestor_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_place_ancestor_history_place_id_valid_to", ["place_id", "valid_to"], unique=False
        )
        batch_op.create_index("ix_place_ancestor_history_valid_from", ["valid_from"], unique=False)

    op.create_table(
        "place_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("name_norm", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("geonames_id", sa.Integer(), nullable=True),
        sa.Column("centroid_latitude", sa.Float(), nullable=True),
        sa.Column("centroid_longitude", sa.Float(), nullable=True),
        sa.Column("centroid_x", sa.Float(), nullable=True),
        sa.Column("centroid_y", sa.Float(), nullable=True),
        sa.Column("centroid_z", sa.Float(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_from", sa.BigInteger(), nullable=False),
        sa.Column("valid_to", sa.BigInteger(), nullable=True),
    )
    with op.batch_alter_table("place_history", schema=None) as batch_op:
        batch_op.create_index("ix_place_history_id_valid_to", ["id", "valid_to"], unique=False)
        batch_op.create_index("ix_place_history_valid_from", ["valid_from"], unique=False)

    op.create_table(
        "version_history",
        sa.Column("version", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_version_history")),
    )
    with op.batch_alter_table("version_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_version_history_changed_at"), ["changed_at"], unique=False
        )

    # The current state, valid from the current data version: the first one as_of reproduces.
    conn = op.get_bind()
    version = conn.execute(sa.text("SELECT version FROM data_version WHERE id = 1")).scalar_one()
    for table, columns in HISTORY.items():
        names = ", ".join(columns)
        conn.execute(
            sa.text(
                f"INSERT INTO {table}_history ({names}, valid_from) "
                f"SELECT {names}, :version FROM {table}"
            ),
            {"version": version},
        )
    now = datetime.now(UTC)
    if conn.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # naive UTC text, as the app stores timestamps there
    conn.execute(
        sa.text(
            "INSERT INTO version_history (version, changed_at) "
            "SELECT version, COALESCE(changed_at, :now) FROM data_version WHERE id = 1"
        ).bindparams(sa.bindparam("now", now, type_=sa.DateTime(timezone=True)))
    )


def downgrade() -> None:
    op.drop_table("version_history")
    for table in HISTORY:
        op.drop_table(f"{table}_history")
