"""HTTP route of the change feed: events created, updated and retracted, in commit order."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Response

from app.changes import repository
from app.changes.schemas import ChangePage, ChangesQuery
from app.core.errors import problem_responses
from app.db.session import ReadSessionDep
from app.events import service as event_service
from app.vocabulary.dependencies import known_terms

router = APIRouter(prefix="/v1/changes", tags=["changes"])


@router.get(
    "",
    response_model=ChangePage,
    summary="The change feed: events created, updated and retracted",
    description=(
        "Every change to an event, in the order the changes were committed (by `version`, "
        "then `event_id`), each with the event's **current** row exactly as GET /v1/events "
        "lists it (retracted events included, with `status: retracted`). A dashboard keeps a "
        "copy in sync without downloading everything again: upsert each entry's `event` by "
        "`id`, in order, and the copy equals the database. Start without `since` (or with "
        "the `Data-Version` of the list or export the copy was taken from), then pass each "
        "page's `next_cursor` as `since`. `next_cursor` is always given, also on an empty "
        "page: it is where to poll from next. The copy is up to date when a page is shorter "
        "than `limit`; `data_version` is the database's current version.\n\n"
        "A `since` that is not a cursor of this feed or a version number, or is ahead of the "
        "database's version, is a **422**. Like the lists, the answer has a weak `ETag` and "
        "`If-None-Match` with it is a **304** while nothing was written.\n\n"
        "**Following a slice**: the filters of GET /v1/events (`country`, `actor`, "
        "`dimension`, `date_from` ...) narrow the feed to the events that list would give. "
        "Each entry then says whether its event is in the slice now (`in_slice`): upsert "
        "those that are, delete by `id` those that are not (an edit moved them out, or they "
        "were retracted; without `include_retracted=true` a retracted event leaves the "
        "slice). Changes of events created outside the slice and still outside are left "
        "out; an entry may name an event the copy never had (deleting it does nothing)."
    ),
    responses=problem_responses(422, 503),
)
def list_changes(
    session: ReadSessionDep, q: Annotated[ChangesQuery, known_terms(ChangesQuery)]
) -> Response:
    page = repository.changes_page(session, q.position(), q.limit, q if q.filtered() else None)
    # Serialised as the events list is (orjson, no per-row validation), so the embedded rows
    # are byte for byte its items.
    return Response(
        orjson.dumps(page, option=event_service.JSON_OPTIONS), media_type="application/json"
    )
