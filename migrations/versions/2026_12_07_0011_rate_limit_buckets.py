"""rate-limit buckets shared by every process (CONFLICTDB_RATE_LIMIT_STORE=database)

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-07 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_bucket",
        sa.Column(
            "bucket",
            sa.String(length=200),
            nullable=False,
            comment="key:<api key id> or addr:<client address>",
        ),
        sa.Column("tokens", sa.Double(), nullable=False),
        sa.Column(
            "refilled_at",
            sa.Double(),
            nullable=False,
            comment="the database clock, seconds since the Unix epoch",
        ),
        sa.Column(
            "allowed",
            sa.Boolean(),
            nullable=False,
            comment="whether the last request took a token",
        ),
        sa.PrimaryKeyConstraint("bucket", name=op.f("pk_rate_limit_bucket")),
    )


def downgrade() -> None:
    op.drop_table("rate_limit_bucket")
