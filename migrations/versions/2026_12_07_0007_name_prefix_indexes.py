"""name prefix indexes: the alias name keys' indexes byte-wise on PostgreSQL

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 14:00:00

`name_prefix=` on /v1/actors and /v1/places (the explorer's autocomplete) is a range on
`name_norm` (app.db.dialect.starts_with). A PostgreSQL database whose collation is not
code-point order (en_US.UTF-8) cannot serve a code-point range from a default index, so
these two indexes become `text_pattern_ops` there, which serve equality (name resolution)
as before and the byte-wise range operators `~>=~` / `~<~`. SQLite's indexes compare bytes
already: nothing changes there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (("ix_actor_alias_name_norm", "actor_alias"), ("ix_place_alias_name_norm", "place_alias"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table in INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(
            name, table, ["name_norm"], postgresql_ops={"name_norm": "text_pattern_ops"}
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table in INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, ["name_norm"])
