"""place names free on merge: the unique sibling-name indexes skip merged places

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 02:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "uq_place_parent_id_name_norm": ["parent_id", "name_norm"],
    "uq_place_country_name_norm": ["country", "name_norm"],
}
OLD_WHERE = {
    "uq_place_parent_id_name_norm": "parent_id IS NOT NULL",
    "uq_place_country_name_norm": "parent_id IS NULL",
}


def _recreate(where: dict[str, str]) -> None:
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name="place")
        op.create_index(
            name,
            "place",
            columns,
            unique=True,
            sqlite_where=sa.text(where[name]),
            postgresql_where=sa.text(where[name]),
        )


def upgrade() -> None:
    _recreate({name: f"{cond} AND merged_into_id IS NULL" for name, cond in OLD_WHERE.items()})


def downgrade() -> None:
    _recreate(OLD_WHERE)
