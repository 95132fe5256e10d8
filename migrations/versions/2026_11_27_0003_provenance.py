"""provenance: datasets, the imported row behind each event, actors' external ids

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 01:54:37.103872
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dataset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("licence", sa.Text(), nullable=True),
        sa.Column("citation", sa.Text(), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset")),
        sa.UniqueConstraint("name", name=op.f("uq_dataset_name")),
    )
    op.create_table(
        "actor_external_id",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["actor.id"],
            name=op.f("fk_actor_external_id_actor_id_actor"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name=op.f("fk_actor_external_id_dataset_id_dataset")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actor_external_id")),
        sa.UniqueConstraint(
            "dataset_id", "external_id", name=op.f("uq_actor_external_id_dataset_id_external_id")
        ),
    )
    with op.batch_alter_table("actor_external_id", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_actor_external_id_actor_id"), ["actor_id"], unique=False
        )

    op.create_table(
        "event_provenance",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("dataset_version", sa.String(length=50), nullable=True),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("imported_version", sa.Integer(), nullable=False),
        sa.Column("original", sa.JSON(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name=op.f("fk_event_provenance_dataset_id_dataset")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_event_provenance_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_event_provenance")),
        sa.UniqueConstraint(
            "dataset_id", "external_id", name=op.f("uq_event_provenance_dataset_id_external_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("event_provenance")
    with op.batch_alter_table("actor_external_id", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_actor_external_id_actor_id"))

    op.drop_table("actor_external_id")
    op.drop_table("dataset")
