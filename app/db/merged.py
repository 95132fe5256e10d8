"""The live record a merged actor's or place's id stands for (a merge keeps the loser's row,
pointing at the survivor through ``merged_into_id``).

Merges repoint earlier merges at the new survivor and never merge into a merged record, so a
merged id is always one step from a live one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, literal, select
from sqlalchemy.orm import Session


def resolved_id(model: Any, record_id: int) -> ColumnElement[int]:
    """The live record's id as SQL: the id itself, or the one it was merged into."""
    merged_into = select(model.merged_into_id).where(model.id == record_id).scalar_subquery()
    return func.coalesce(merged_into, literal(record_id))


def live_id(session: Session, model: Any, record_id: int) -> int:
    """The live record's id, read now (an unknown id stays as it is: it matches nothing). A
    statement that carries it as a constant lets the planner estimate how many rows it
    matches, where ``resolved_id`` hides it in a subquery."""
    merged_into = session.execute(
        select(model.merged_into_id).where(model.id == record_id)
    ).scalar_one_or_none()
    return record_id if merged_into is None else int(merged_into)
