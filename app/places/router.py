"""HTTP routes for places."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from app import derived
from app.auth.dependencies import CurateAccess, IngestAccess
from app.core import bodies, etag, ids
from app.core.edits import MERGED_REDIRECT, Deleted, MergeInto, outcome_response, redirect
from app.core.errors import NotFound, problem_responses
from app.core.pagination import NoQuery, Page
from app.db.session import EngineDep, ReadSessionDep
from app.idempotency import service as idempotency
from app.places import repository, service
from app.places.schemas import PlaceCreate, PlaceDetail, PlaceFilter, PlaceRead, PlaceUpdate
from app.vocabulary.dependencies import known_terms

router = APIRouter(prefix="/v1/places", tags=["places"])

PlaceId = Annotated[ids.PathId, Path(description="The place's id.", examples=[1])]
WITH_ETAG = {
    "description": "The place; `ETag` names its version.",
    "headers": etag.response_header(),
}
WITH_VERSION = {
    "description": "The place; `ETag` names its version, `Data-Version` the data's.",
    "headers": {**etag.response_header(), **etag.data_version_header()},
}


@router.get(
    "",
    response_model=Page[PlaceRead],
    response_model_exclude_unset=True,
    summary="List places",
    description=(
        "Places in the gazetteer matching every filter given, in id order, in pages of `limit` "
        "with an opaque `next_cursor`. `name` matches any of a place's names, aliases and "
        "transliteration variants included; `parent` gives the places directly inside one, "
        "`within` every place inside it at any depth. Places merged into another are left out."
    ),
    responses=problem_responses(422, 503),
)
def list_places(
    session: ReadSessionDep, f: Annotated[PlaceFilter, known_terms(PlaceFilter)]
) -> dict[str, Any]:
    rows, next_cursor = repository.list_places(session, f)
    page: dict[str, Any] = {"data": rows, "next_cursor": next_cursor}
    if f.total:
        page["total"] = repository.count_places(session, f)
    return page


@router.get(
    "/{place_id}",
    response_model=PlaceDetail,
    summary="Get a place with its hierarchy",
    description=(
        "The place with its other names, the places containing it (outermost first), the "
        "places directly inside it, and the number of events at it or anywhere inside it, "
        "retracted events left out. The `ETag` header names its version, for `If-Match`. A "
        "place merged into another answers **308** with the survivor's URL."
    ),
    responses={200: WITH_VERSION, 308: MERGED_REDIRECT, **problem_responses(404, 422, 503)},
)
def get_place(
    session: ReadSessionDep,
    place_id: PlaceId,
    _: Annotated[NoQuery, Query()],
    response: Response,
) -> Any:
    # Issue 12: the exact data version the detail reflects, in Data-Version.
    place, version = derived.at_one_version(
        session, lambda: repository.get_place(session, place_id)
    )
    response.headers["Data-Version"] = str(version)
    if place is None:
        raise NotFound(f"No place with id {place_id}.")
    if place["merged_into_id"] is not None:
        return redirect(service.location(place["merged_into_id"]))
    response.headers["ETag"] = service.tag(place)
    return place


@router.post(
    "",
    status_code=201,
    response_model=PlaceDetail,
    summary="Create a place",
    description=(
        "A new place in the gazetteer, checked and normalised as ingestion does: its kind must "
        "be in the vocabulary, its parent must exist, and its country defaults to the parent's. "
        "A name (or alias) that a report would already match in the same scope (inside the "
        "parent, or in the country for a top-level place) is a **409** naming the place it "
        "matches. Answers **201** with `Location` and `ETag`. Accepts `Idempotency-Key`."
    ),
    responses={
        201: {
            "description": "The new place.",
            "headers": {
                **etag.response_header(),
                "Location": {"description": "The place's URL.", "schema": {"type": "string"}},
            },
        },
        **problem_responses(400, 401, 403, 409, 413, 415, 422, 503),
    },
    openapi_extra={
        **bodies.openapi_body(PlaceCreate),
        "parameters": [idempotency.parameter()],
    },
)
async def create_place(
    request: Request, engine: EngineDep, principal: IngestAccess
) -> JSONResponse:
    raw = await bodies.read_body(request)
    body = bodies.validate_json(PlaceCreate, raw)
    idem = idempotency.from_request(request, raw, principal.api_key_id)
    outcome = await run_in_threadpool(
        service.create_place, engine, body, principal.api_key_id, idem
    )
    return outcome_response(outcome, service.KIND, service.location)


@router.patch(
    "/{place_id}",
    response_model=PlaceDetail,
    summary="Edit a place",
    description=(
        "Change the fields given (null clears a nullable one); needs `If-Match` with the "
        "place's ETag (**428** without, **412** when stale). A new `parent_id` moves the place "
        "and everything inside it: their ancestry (and so every filter by an ancestor) follows; "
        "a move into the place itself or anything inside it is a **422**. A name already held "
        "in the destination slot is a **409**. A new name keeps the old one as an alias."
    ),
    responses={
        200: WITH_ETAG,
        **problem_responses(400, 401, 403, 404, 409, 412, 413, 415, 422, 428, 503),
    },
    openapi_extra={
        **bodies.openapi_body(PlaceUpdate),
        "parameters": [etag.parameter(required=True)],
    },
)
async def update_place(
    request: Request,
    engine: EngineDep,
    principal: CurateAccess,
    place_id: PlaceId,
    response: Response,
) -> dict[str, Any]:
    patch = await bodies.parse_body(request, PlaceUpdate)
    place = await run_in_threadpool(
        service.update_place,
        engine,
        place_id,
        patch,
        request.headers.get(etag.HEADER),
        principal.api_key_id,
    )
    response.headers["ETag"] = service.tag(place)
    return place


@router.delete(
    "/{place_id}",
    response_model=Deleted,
    summary="Delete a place",
    description=(
        "Deletes a place nothing refers to, with its aliases. While events are at it, places "
        "are inside it or places were merged into it, it is a **409** saying which. "
        "`If-Match` is optional; when given and stale, **412**."
    ),
    responses=problem_responses(401, 403, 404, 409, 412, 422, 503),
    openapi_extra={"parameters": [etag.parameter(required=False)]},
)
def delete_place(
    request: Request,
    engine: EngineDep,
    principal: CurateAccess,
    place_id: PlaceId,
    _: Annotated[NoQuery, Query()],
) -> dict[str, Any]:
    return service.delete_place(
        engine, place_id, request.headers.get(etag.HEADER), principal.api_key_id
    )


@router.post(
    "/{place_id}/merge",
    response_model=PlaceDetail,
    summary="Merge a duplicate place into another",
    description=(
        "Moves everything that refers to this place onto the place given as `into`: its events "
        "(each gets a revision), the places inside it (re-parented with their ancestry "
        "rewritten), its aliases (names the survivor already has are dropped) and its GeoNames "
        "id if the survivor has none. The merged place is kept as a redirect: its URL answers "
        "**308** to the survivor, and filters given its id act on the survivor. Merging into "
        "itself or into a place inside it is a **422**; into a merged place, or when places "
        "inside both share a name, a **409**. Answers with the survivor and its `ETag`. "
        "`If-Match` (this place's ETag) is optional. Accepts `Idempotency-Key`."
    ),
    responses={
        200: {"description": "The surviving place.", "headers": etag.response_header()},
        **problem_responses(400, 401, 403, 404, 409, 412, 413, 415, 422, 503),
    },
    openapi_extra={
        **bodies.openapi_body(MergeInto),
        "parameters": [etag.parameter(required=False), idempotency.parameter()],
    },
)
async def merge_place(
    request: Request, engine: EngineDep, principal: CurateAccess, place_id: PlaceId
) -> JSONResponse:
    raw = await bodies.read_body(request)
    body = bodies.validate_json(MergeInto, raw)
    idem = idempotency.from_request(request, raw, principal.api_key_id)
    outcome = await run_in_threadpool(
        service.merge_place,
        engine,
        place_id,
        body.into,
        request.headers.get(etag.HEADER),
        principal.api_key_id,
        idem,
    )
    return outcome_response(outcome, service.KIND)
