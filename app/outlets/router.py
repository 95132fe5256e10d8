"""HTTP routes for outlets."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from app import derived
from app.auth.dependencies import CurateAccess, IngestAccess
from app.core import bodies, etag, ids
from app.core.edits import Deleted, outcome_response
from app.core.errors import NotFound, problem_responses
from app.core.pagination import NoQuery, Page
from app.db.session import EngineDep, ReadSessionDep
from app.idempotency import service as idempotency
from app.outlets import repository, service
from app.outlets.schemas import (
    OutletCreate,
    OutletDetail,
    OutletFilter,
    OutletRead,
    OutletUpdate,
)
from app.vocabulary.dependencies import known_terms

router = APIRouter(prefix="/v1/outlets", tags=["outlets"])

OutletId = Annotated[ids.PathId, Path(description="The outlet's id.", examples=[1])]
WITH_ETAG = {
    "description": "The outlet; `ETag` names its version.",
    "headers": etag.response_header(),
}
WITH_VERSION = {
    "description": "The outlet; `ETag` names its version, `Data-Version` the data's.",
    "headers": {**etag.response_header(), **etag.data_version_header()},
}


@router.get(
    "",
    response_model=Page[OutletRead],
    response_model_exclude_unset=True,
    summary="List outlets",
    description=(
        "Outlets matching every filter given, in id order, in pages of `limit` with an opaque "
        "`next_cursor`. `name` matches the whole name after normalisation, not a substring."
    ),
    responses=problem_responses(422, 503),
)
def list_outlets(
    session: ReadSessionDep, f: Annotated[OutletFilter, known_terms(OutletFilter)]
) -> dict[str, Any]:
    rows, next_cursor = repository.list_outlets(session, f)
    page: dict[str, Any] = {"data": rows, "next_cursor": next_cursor}
    if f.total:
        page["total"] = repository.count_outlets(session, f)
    return page


@router.get(
    "/{outlet_id}",
    response_model=OutletDetail,
    summary="Get an outlet",
    description=(
        "The outlet with the number of its articles in the database. The `ETag` header names "
        "its version, for `If-Match`."
    ),
    responses={200: WITH_VERSION, **problem_responses(404, 422, 503)},
)
def get_outlet(
    session: ReadSessionDep,
    outlet_id: OutletId,
    _: Annotated[NoQuery, Query()],
    response: Response,
) -> dict[str, Any]:
    # Issue 12: the exact data version the detail reflects, in Data-Version.
    outlet, version = derived.at_one_version(
        session, lambda: repository.get_outlet(session, outlet_id)
    )
    response.headers["Data-Version"] = str(version)
    if outlet is None:
        raise NotFound(f"No outlet with id {outlet_id}.")
    response.headers["ETag"] = service.tag(outlet)
    return outlet


@router.post(
    "",
    status_code=201,
    response_model=OutletDetail,
    summary="Create an outlet",
    description=(
        "A new outlet, checked and normalised as ingestion does (its domain comes from its "
        "URL). A name that matches an existing outlet after normalisation is a **409** naming "
        "it. Answers **201** with `Location` and `ETag`. Accepts `Idempotency-Key`."
    ),
    responses={
        201: {
            "description": "The new outlet.",
            "headers": {
                **etag.response_header(),
                "Location": {"description": "The outlet's URL.", "schema": {"type": "string"}},
            },
        },
        **problem_responses(400, 401, 403, 409, 413, 415, 422, 503),
    },
    openapi_extra={
        **bodies.openapi_body(OutletCreate),
        "parameters": [idempotency.parameter()],
    },
)
async def create_outlet(
    request: Request, engine: EngineDep, principal: IngestAccess
) -> JSONResponse:
    raw = await bodies.read_body(request)
    body = bodies.validate_json(OutletCreate, raw)
    idem = idempotency.from_request(request, raw, principal.api_key_id)
    outcome = await run_in_threadpool(
        service.create_outlet, engine, body, principal.api_key_id, idem
    )
    return outcome_response(outcome, service.KIND, service.location)


@router.patch(
    "/{outlet_id}",
    response_model=OutletDetail,
    summary="Edit an outlet",
    description=(
        "Change the fields given (null clears a nullable one); needs `If-Match` with the "
        "outlet's ETag (**428** without, **412** when stale). A name another outlet has "
        "(after normalisation) is a **409**."
    ),
    responses={
        200: WITH_ETAG,
        **problem_responses(400, 401, 403, 404, 409, 412, 413, 415, 422, 428, 503),
    },
    openapi_extra={
        **bodies.openapi_body(OutletUpdate),
        "parameters": [etag.parameter(required=True)],
    },
)
async def update_outlet(
    request: Request,
    engine: EngineDep,
    principal: CurateAccess,
    outlet_id: OutletId,
    response: Response,
) -> dict[str, Any]:
    patch = await bodies.parse_body(request, OutletUpdate)
    outlet = await run_in_threadpool(
        service.update_outlet,
        engine,
        outlet_id,
        patch,
        request.headers.get(etag.HEADER),
        principal.api_key_id,
    )
    response.headers["ETag"] = service.tag(outlet)
    return outlet


@router.delete(
    "/{outlet_id}",
    response_model=Deleted,
    summary="Delete an outlet",
    description=(
        "Deletes an outlet without articles; while it has any, a **409** naming them. "
        "`If-Match` is optional; when given and stale, **412**."
    ),
    responses=problem_responses(401, 403, 404, 409, 412, 422, 503),
    openapi_extra={"parameters": [etag.parameter(required=False)]},
)
def delete_outlet(
    request: Request,
    engine: EngineDep,
    principal: CurateAccess,
    outlet_id: OutletId,
    _: Annotated[NoQuery, Query()],
) -> dict[str, Any]:
    return service.delete_outlet(
        engine, outlet_id, request.headers.get(etag.HEADER), principal.api_key_id
    )
