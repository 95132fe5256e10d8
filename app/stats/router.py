"""HTTP routes for stats: aggregates of the filtered events, for dashboards and maps.

Answers are serialised with orjson straight from plain rows (thousands of them, no per-row
validation); the response models only document them.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from app.core.errors import problem_responses
from app.db.session import ReadSessionDep
from app.events import asof
from app.http import negotiation
from app.stats import service
from app.stats.schemas import (
    COUNTING_RULE,
    EventStats,
    EventStatsQuery,
    PlaceStats,
    PlaceStatsQuery,
)
from app.vocabulary.dependencies import known_terms

router = APIRouter(prefix="/v1/stats", tags=["stats"])

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
# The formats of each route, the default first (Accept or format=: app.http.negotiation).
EVENT_MEDIA_TYPES = {"json": "application/json", "csv": CSV_MEDIA_TYPE}
PLACE_MEDIA_TYPES = {"geojson": "application/geo+json", "csv": CSV_MEDIA_TYPE}
# The answer depends on Accept (when format= is absent): caches must key on it.
VARY = {"Vary": "Accept"}


class OrjsonResponse(JSONResponse):
    """JSON serialised by orjson from plain rows (dates as ISO strings), no validation."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class GeoJSONResponse(OrjsonResponse):
    """RFC 7946's media type; as the route's response class, the OpenAPI document puts the
    FeatureCollection's schema under it."""

    media_type = "application/geo+json"


FILTERS_NOTE = (
    "The filters are exactly those of GET /v1/events (retracted events are left out unless "
    "`include_retracted=true`)."
)


def _max_rows(request: Request) -> int:
    return int(request.app.state.settings.stats_max_buckets)


def _use_rollups(request: Request) -> bool:
    return bool(request.app.state.settings.stats_use_rollups)


@router.get(
    "/events",
    response_model=EventStats,
    summary="Event counts and fatalities over time and by group",
    description=(
        "Counts and fatality sums of the events matching the filters, per time bucket "
        "(`interval`) and/or per group (`group_by`, one or two dimensions), ready to chart: "
        "`data` holds one flat row per bucket and group, sorted by bucket, then by each "
        "group's name. " + FILTERS_NOTE + "\n\n"
        "With `interval`, every bucket between `date_from` and `date_to` is present, empty "
        "ones with zeros; a bound not given is the first (last) day of the bucket holding the "
        "earliest (latest) matching event, and the answer's `date_from`/`date_to` say which "
        "range was used. "
        "With `group_by` too, each group that has events gets every bucket. Buckets are "
        "labelled by their first day (ISO weeks start on Monday); the first and last may be "
        "only partly inside the range.\n\n"
        + COUNTING_RULE
        + " A record dimension (`admin1`, `place`, `actor`, `outlet`) gives its id and name "
        "(`actor_id`, `actor_name`); `admin1` and `country` are null for events without "
        "one.\n\n"
        "`sort` and `limit` give a top N (per bucket with an `interval`); `spread=true` "
        "shares each event out over the buckets its dates cover (decimal figures). "
        "`datasets` names the licence and citation of every dataset whose events the "
        "figures include.\n\n"
        "Without `interval` or `group_by`, one row of totals. `format=csv` (or `Accept: "
        "text/csv`) gives the same rows as a flat table; an `Accept` allowing neither is a "
        "**406**. An answer of more than the server's row limit "
        "(`CONFLICTDB_STATS_MAX_BUCKETS`, 10,000 by default) is a **422** saying so."
    ),
    responses={
        200: {
            "description": "The rows (JSON), or the same as CSV with `format=csv`.",
            "content": {
                CSV_MEDIA_TYPE: {
                    "schema": {"type": "string"},
                    "example": "bucket,event_type,count,fatalities\r\n2018-04-01,Battles,3,10\r\n",
                }
            },
        },
        **problem_responses(406, 422, 503),
    },
)
def event_stats(
    request: Request,
    session: ReadSessionDep,
    q: Annotated[EventStatsQuery, known_terms(EventStatsQuery)],
) -> Response:
    fmt = negotiation.negotiate(q.format, request.headers.get("accept"), EVENT_MEDIA_TYPES)
    headers = dict(VARY)
    if q.as_of is not None:  # issue 12: as it was at a version, which never changes
        q = asof.resolve(session, q)
        headers.update(asof.headers(q._version or 0))
    stats = service.event_stats(
        session, q, max_rows=_max_rows(request), use_rollups=_use_rollups(request)
    )
    if fmt == "csv":
        return Response(service.to_csv(stats), media_type=CSV_MEDIA_TYPE, headers=headers)
    return OrjsonResponse(stats, headers=headers)


@router.get(
    "/places",
    response_model=PlaceStats,
    summary="Event counts and fatalities per place, as GeoJSON",
    description=(
        "A GeoJSON FeatureCollection (RFC 7946, `application/geo+json`) ready for a map: one "
        "Point feature (`[longitude, latitude]`) per place with matching events, its id, "
        "name, kind and country, and the metrics of its events. " + FILTERS_NOTE + " "
        "`level=admin1` or `country` rolls each event up to the first-level division or "
        "country containing its place, drawn at that place's coordinates. Events that "
        "cannot be drawn (no place on the level, or a place without coordinates) are left "
        "out of the features and totalled in the foreign member `unlocated`, with the number "
        "of places lacking coordinates. More features than the server's row limit is a **422**."
        "\n\nEvery place has a point when it or anything around or inside it is located: "
        "its own coordinates, else its centroid (the spherical mean of the located places "
        "inside it), else its nearest located ancestor's; each feature's `point` says which. "
        "On the admin1 and country levels an event above the level (a country-level event "
        "on the admin1 map) counts at its outermost place, whose feature has `above_level` "
        "(`country-level`). `unlocated.place_list` names the places (up to 100) that have "
        "no point. `Accept: text/csv` (or `format=csv`) gives the features as a table."
    ),
    response_class=GeoJSONResponse,
    responses={
        200: {
            "description": "The FeatureCollection (GeoJSON), or its features as CSV.",
            "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}},
        },
        **problem_responses(406, 422, 503),
    },
)
def place_stats(
    request: Request,
    session: ReadSessionDep,
    q: Annotated[PlaceStatsQuery, known_terms(PlaceStatsQuery)],
) -> Response:
    fmt = negotiation.negotiate(q.format, request.headers.get("accept"), PLACE_MEDIA_TYPES)
    headers = dict(VARY)
    if q.as_of is not None:  # issue 12: as it was at a version, which never changes
        q = asof.resolve(session, q)
        headers.update(asof.headers(q._version or 0))
    stats = service.place_stats(
        session, q, max_rows=_max_rows(request), use_rollups=_use_rollups(request)
    )
    if fmt == "csv":
        return Response(service.places_csv(stats), media_type=CSV_MEDIA_TYPE, headers=headers)
    return GeoJSONResponse(stats, headers=headers)
