"""access, idempotency, history, versions: API keys, Idempotency-Key records, event
revisions, the audit log, per-row versions for ETags, retraction and merge columns

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 01:23:13.945187
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("prefix", sa.String(length=20), nullable=False),
        sa.Column("key_sha256", sa.String(length=64), nullable=True),
        sa.Column(
            "scopes",
            sa.String(length=100),
            nullable=False,
            comment="space-separated: read write admin",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind = 'local' OR key_sha256 IS NOT NULL", name=op.f("ck_api_key_key_has_hash")
        ),
        sa.CheckConstraint("kind IN ('key', 'local')", name=op.f("ck_api_key_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("key_sha256", name=op.f("uq_api_key_key_sha256")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_key_prefix")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("entity", sa.String(length=30), nullable=True),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_key.id"], name=op.f("fk_audit_log_api_key_id_api_key")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_api_key_id"), ["api_key_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)

    op.create_table(
        "idempotency_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_key.id"],
            name=op.f("fk_idempotency_key_api_key_id_api_key"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_key")),
        sa.UniqueConstraint("api_key_id", "key", name=op.f("uq_idempotency_key_api_key_id_key")),
    )
    with op.batch_alter_table("idempotency_key", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idempotency_key_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "event_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_key.id"], name=op.f("fk_event_revision_api_key_id_api_key")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_event_revision_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_revision")),
    )
    with op.batch_alter_table("event_revision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_revision_api_key_id"), ["api_key_id"], unique=False
        )
        batch_op.create_index("ix_event_revision_event_id_id", ["event_id", "id"], unique=False)

    with op.batch_alter_table("actor", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_actor_merged_into_id"), ["merged_into_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_actor_merged_into_id_actor"), "actor", ["merged_into_id"], ["id"]
        )

    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))

    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retraction_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("retracted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))

    with op.batch_alter_table("outlet", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))

    with op.batch_alter_table("place", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_place_merged_into_id"), ["merged_into_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_place_merged_into_id_place"), "place", ["merged_into_id"], ["id"]
        )

    with op.batch_alter_table("quote", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("quote", schema=None) as batch_op:
        batch_op.drop_column("version")

    with op.batch_alter_table("place", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_place_merged_into_id_place"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_place_merged_into_id"))
        batch_op.drop_column("merged_into_id")
        batch_op.drop_column("version")

    with op.batch_alter_table("outlet", schema=None) as batch_op:
        batch_op.drop_column("version")

    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("version")
        batch_op.drop_column("retracted_at")
        batch_op.drop_column("retraction_reason")

    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_column("version")

    with op.batch_alter_table("actor", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_actor_merged_into_id_actor"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_actor_merged_into_id"))
        batch_op.drop_column("merged_into_id")
        batch_op.drop_column("version")

    with op.batch_alter_table("event_revision", schema=None) as batch_op:
        batch_op.drop_index("ix_event_revision_event_id_id")
        batch_op.drop_index(batch_op.f("ix_event_revision_api_key_id"))

    op.drop_table("event_revision")
    with op.batch_alter_table("idempotency_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_key_expires_at"))

    op.drop_table("idempotency_key")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
        batch_op.drop_index(batch_op.f("ix_audit_log_api_key_id"))

    op.drop_table("audit_log")
    op.drop_table("api_key")
