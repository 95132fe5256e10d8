"""The change feed's response shapes: pydantic only, shared with ``app.client``."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.events.shapes import EventRead


class ChangeRead(BaseModel):
    version: int = Field(
        description="The data version of the commit that made the change.", examples=[12]
    )
    event_id: int = Field(examples=[4])
    action: Literal["created", "updated", "retracted"] = Field(examples=["updated"])
    changed_at: datetime = Field(examples=["2018-04-18T09:30:00Z"])
    event: EventRead = Field(
        description=(
            "The event as it is NOW (not as the change left it), exactly as an item of "
            "GET /v1/events: upsert it by `id`. A retracted event has `status: retracted`."
        )
    )
    in_slice: bool = Field(
        default=True,
        description=(
            "With the list's filters: whether the event, as it is now, is in the slice they "
            "select (what GET /v1/events with them lists). `false`: it is not (an edit moved "
            "it out, or it was retracted): delete it from the copy by `id` (a copy that never "
            "had it has nothing to delete). Always `true` without filters."
        ),
        examples=[True],
    )


class ChangePage(BaseModel):
    data: list[ChangeRead]
    next_cursor: str = Field(
        description=(
            "Pass as `since` for the changes after this page; always present, also on an "
            "empty page (where to poll from next)."
        ),
        examples=["WyJjaGFuZ2VzIixbMTIsbnVsbF1d"],
    )
    data_version: int = Field(
        description=(
            "The current data version: once `next_cursor` is past it (a page shorter than "
            "`limit`), the copy is up to date."
        ),
        examples=[12],
    )
