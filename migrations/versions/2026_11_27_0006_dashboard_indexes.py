"""dashboard indexes: events by place and date, by update time; places by coordinates

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 04:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # (place_id, date_start, id) serves everything ix_event_place_id did, and more.
    op.drop_index("ix_event_place_id", table_name="event")
    op.create_index("ix_event_place_id_date_start_id", "event", ["place_id", "date_start", "id"])
    op.create_index("ix_event_updated_at_id", "event", ["updated_at", "id"])
    op.create_index("ix_place_latitude_longitude", "place", ["latitude", "longitude"])


def downgrade() -> None:
    op.drop_index("ix_place_latitude_longitude", table_name="place")
    op.drop_index("ix_event_updated_at_id", table_name="event")
    op.drop_index("ix_event_place_id_date_start_id", table_name="event")
    op.create_index("ix_event_place_id", "event", ["place_id"])
