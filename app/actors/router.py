"""HTTP routes for actors, their aliases and affiliations."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from app import derived
from app.actors import repository, service
from app.actors.schemas import (
    ActorAliasCreate,
    ActorAliasRead,
    ActorCreate,
    ActorDetail,
    ActorFilter,
    ActorRead,
    ActorUpdate,
    AffiliationCreate,
    AffiliationRead,
)
from app.auth.dependencies import CurateAccess, IngestAccess
from app.core import bodies, etag, ids
from app.core.edits import MERGED_REDIRECT, Deleted, MergeInto, outcome_response, redirect
from app.core.errors import NotFound, problem_responses
from app.core.pagination import NoQuery, Page, PageQuery
from app.db.session import EngineDep, ReadSessionDep
from app.idempotency import service as idempotency
from app.vocabulary.dependencies import known_terms

router = APIRouter(prefix="/v1/actors", tags=["actors"])

ActorId = Annotated[ids.PathId, Path(description="The actor's id.", examples=[1])]
AliasId = Annotated[ids.PathId, Path(description="The alias's id.", examples=[1])]
AffiliationId = Annotated[ids.PathId, Path(description="The affiliation's id.", examples=[1])]
WITH_ETAG = {
    "description": "The actor; `ETag` names its version.",
    "headers": etag.response_header(),
}
WITH_VERSION = {
    "description": "The actor; `ETag` names its version, `Data-Version` the data's.",
    "headers": {**etag.response_header(), **etag.data_version_header()},
}
OPTIONAL_IF_MATCH = {"parameters": [etag.parameter(required=False)]}


@router.get(
    "",
    response_model=Page[ActorRead],
    response_model_exclude_unset=True,
    summary="List actors",
    description=(
        "Actors matching every filter given, in id order, in pages of `limit` with an opaque "
        "`next_cursor`. `name` matches any of an actor's names, aliases and transliteration "
        "variants included, as a whole name (not a substring). Actors merged into another are "
        "left out."
    ),
    responses=problem_responses(422, 503),
)
def list_actors(
    session: ReadSessionDep, f: Annotated[ActorFilter, known_terms(ActorFilter)]
) -> dict[str, Any]:
    rows, next_cursor = repository.list_actors(session, f)
    page: dict[str, Any] = {"data": rows, "next_cursor": next_cursor}
    if f.total:
        page["total"] = repository.count_actors(session, f)
    return page


@router.get(
    "/{actor_id}",
    response_model=ActorDetail,
    summary="Get an actor with its aliases and affiliations",
    description=(
        "The actor with its other names, its affiliations in both directions (the groups it "
        "belongs to and the groups that belong to it), and the number of events it takes part "
        "in, retracted events left out. The `ETag` header names its version, for `If-Match`. "
        "An actor merged into another answers **308** with the survivor's URL."
    ),
    responses={200: WITH_VERSION, 308: MERGED_REDIRECT, **problem_responses(404, 422, 503)},
)
def get_actor(
    session: ReadSessionDep,
    actor_id: ActorId,
    _: Annotated[NoQuery, Query()],
    response: Response,
) -> Any:
    # Issue 12: the exact data version the detail reflects, in Data-Version.
    actor, version = derived.at_one_version(
        session, lambda: repository.get_actor(session, actor_id)
    )
    response.headers["Data-Version"] = str(version)
    if actor is None:
        raise NotFound(f"No actor with id {actor_id}.")
    if actor["merged_into_id"] is not None:
        return redirect(service.location(actor["merged_into_id"]))
    response.headers["ETag"] = service.tag(actor)
    return actor


@router.post(
    "",
    status_code=201,
    response_model=ActorDetail,
    summary="Create an actor",
    description=(
        "A new actor, checked and normalised as ingestion does: its kind must be in the "
        "vocabulary. A name (or alias) that a report would already match to an actor of the "
        "same kind and country is a **409** naming that actor. Answers **201** with "
        "`Location` and `ETag`. Accepts `Idempotency-Key`."
    ),
    responses={
        201: {
            "description": "The new actor.",
            "headers": {
                **etag.response_header(),
                "Location": {"description": "The actor's URL.", "schema": {"type": "string"}},
            },
        },
        **problem_responses(400, 401, 403, 409, 413, 415, 422, 503),
    },
    openapi_extra={
        **bodies.openapi_body(ActorCreate),
        "parameters": [idempotency.parameter()],
    },
)
async def create_actor(
    request: Request, engine: EngineDep, principal: IngestAccess
) -> JSONResponse:
    raw = await bodies.read_body(request)
    body = bodies.validate_json(ActorCreate, raw)
    idem = idempotency.from_request(request, raw, principal.api_key_id)
    outcome = await run_in_threadpool(
        service.create_actor, engine, body, principal.api_key_id, idem
    )
    return outcome_response(outcome, service.KIND, service.location)


@router.patch(
    "/{actor_id}",
    response_model=ActorDetail,
    summary="Edit an actor",
    description=(
        "Change the fields given (null clears `country`) and add or remove aliases; needs "
        "`If-Match` with the actor's ETag (**428** without, **412** when stale). A new name "
        "keeps the old one as an alias; the primary name cannot be removed. A name a report "
        "would already match to another actor of the same kind and country is a **409**."
    ),
    responses={
        200: WITH_ETAG,
        **problem_responses(400, 401, 403, 404, 409, 412, 413, 415, 422, 428, 503),
    },
    openapi_extra={
        **bodies.openapi_body(ActorUpdate),
        "parameters": [etag.parameter(required=True)],
    },
)
async def update_actor(
    request: Request,
    engine: EngineDep,
    principal: CurateAccess,
    actor_id: ActorId,
    response: Response,
) -> dict[str, Any]:
    patch = await bodies.parse_body(request, ActorUpdate)
    actor = await run_in_threadpool(
        service.update_actor,
        engine,
        actor_id,
        patch,
        request.headers.get(etag.HEADER),
        principal.api_key_id,
    )
    response.headers["ETag"] = service.tag(actor)
    return actor


@router.delete(
    "/{actor_id}",
    response_model=Deleted,
    summary="Delete an actor",
    description=(
        "Deletes an actor nothing refers to, with its aliases. While it takes part in events, "
        "quotes speak for it, it has affiliations or actors were merged into it, it is a "
        "**409** saying which (merge it into another actor instead). `If-Match` is optional; "
        "when given and stale, **412**."
    ),
    responses=problem_responses(401, 403, 404, 409, 412, 422, 503),
    openapi_extra=OPTIONAL_IF_MATCH,
)
def delete_actor(
    request: Request,
    engine: EngineDep,
    principal: CurateAccess,
    actor_id: ActorId,
    _: Annotated[NoQuery, Query()],
) -> dict[str, Any]:
    return service.delete_actor(
        engine, actor_id, request.headers.get(etag.HEADER), principal.api_key_id
    )


@router.post(
    "/{actor_id}/merge",
    response_model=ActorDetail,
    summary="Merge a duplicate actor into another",
    description=(
        "Moves everything that refers to this actor onto the actor given as `into`: its part "
        "in events (where both took part, the survivor's side and role stay; each event gets a "
        "revision), its aliases (names the survivor already has are dropped), its affiliations "
        "in both directions (dropping ties the survivor already has or that would tie it to "
        "itself), and the quotes spoken for it. The merged actor is kept as a redirect: its "
        "URL answers **308** to the survivor, and filters given its id act on the survivor. "
        "Merging into itself is a **422**; into a merged actor, a **409**. Answers with the "
        "survivor and its `ETag`. `If-Match` (this actor's ETag) is optional. Accepts "
        "`Idempotency-Key`."
    ),
    responses={
        200: {"description": "The surviving actor.", "headers": etag.response_header()},
        **problem_responses(400, 401, 403, 404, 409, 412, 413, 415, 422, 503),
    },
    openapi_extra={
        **bodies.openapi_body(MergeInto),
        "parameters": [etag.parameter(required=False), idempotency.parameter()],
    },
)
async def merge_actor(
    request: Request, engine: EngineDep, principal: CurateAccess, actor_id: ActorId
) -> JSONResponse:
    raw = await bodies.read_body(request)
    body = bodies.validate_json(MergeInto, raw)
    idem = idempotency.from_request(request, raw, principal.api_key_id)
    outcome = await run_in_threadpool(
        service.merge_actor,
        engine,
        actor_id,
        body.into,
        request.headers.get(etag.HEADER),
        principal.api_key_id,
        idem,
    )
    return outcome_response(outcome, service.KIND)


# -- aliases -----------------------------------------------------------------------------------


@router.get(
    "/{actor_id}/aliases",
    response_model=Page[ActorAliasRead],
    response_model_exclude_unset=True,
    summary="List an actor's names",
    description=(
        "Every name the actor is known by, its primary name included (`primary`), in the "
        "order they were added, with the ids to delete them by. A merged actor answers "
        "**308** with the survivor's aliases URL."
    ),
    responses={308: MERGED_REDIRECT, **problem_responses(404, 422, 503)},
)
def list_aliases(
    session: ReadSessionDep, actor_id: ActorId, q: Annotated[PageQuery, Query()]
) -> Any:
    actor = repository.merge_state(session, actor_id)
    if actor is None:
        raise NotFound(f"No actor with id {actor_id}.")
    if actor["merged_into_id"] is not None:
        return redirect(service.location(actor["merged_into_id"]) + "/aliases")
    rows, next_cursor = repository.list_aliases(session, actor_id, q)
    page: dict[str, Any] = {"data": rows, "next_cursor": next_cursor}
    if q.total:
        page["total"] = len(repository.alias_rows(session, actor_id))
    return page


@router.post(
    "/{actor_id}/aliases",
    status_code=201,
    response_model=ActorAliasRead,
    summary="Add a name to an actor",
    description=(
        "One more name for the actor; the actor gets a new version (ETag). A name the actor "
        "already has (after normalisation), or one a report would already match to another "
        "actor of the same kind and country, is a **409**. `If-Match` (the actor's ETag) is "
        "optional. Accepts `Idempotency-Key`."
    ),
    responses=problem_responses(400, 401, 403, 404, 409, 412, 413, 415, 422, 503),
    openapi_extra={
        **bodies.openapi_body(ActorAliasCreate),
        "parameters": [etag.parameter(required=False), idempotency.parameter()],
    },
)
async def add_alias(
    request: Request, engine: EngineDep, principal: CurateAccess, actor_id: ActorId
) -> JSONResponse:
    raw = await bodies.read_body(request)
    body = bodies.validate_json(ActorAliasCreate, raw)
    idem = idempotency.from_request(request, raw, principal.api_key_id)
    outcome = await run_in_threadpool(
        service.add_alias,
        engine,
        actor_id,
        body.name,
        request.headers.get(etag.HEADER),
        principal.api_key_id,
        idem,
    )
    return outcome_response(outcome, "actor_alias")


@router.delete(
    "/{actor_id}/aliases/{alias_id}",
    response_model=Deleted,
    summary="Remove a name from an actor",
    description=(
        "Removes one of the actor's other names; the actor gets a new version (ETag). The "
        "primary name cannot be removed (**409**; rename the actor first). `If-Match` (the "
        "actor's ETag) is optional."
    ),
    responses=problem_responses(401, 403, 404, 409, 412, 422, 503),
    openapi_extra=OPTIONAL_IF_MATCH,
)
def remove_alias(
    request: Request,
    engine: EngineDep,
    principal: CurateAccess,
    actor_id: ActorId,
    alias_id: AliasId,
    _: Annotated[NoQuery, Query()],
) -> dict[str, Any]:
    return service.remove_alias(
        engine, actor_id, alias_id, request.headers.get(etag.HEADER), principal.api_key_id
    )


# -- affiliations ------------------------------------------------------------------------------


@router.post(
    "/{actor_id}/affiliations",
    status_code=201,
    response_model=AffiliationRead,
    summary="Add an affiliation",
    description=(
        "A tie from this actor to another: this actor is `relation` the actor `actor_id` "
        "(member_of, allied_with, commanded_by), optionally from `since` until `until`. Both "
        "actors get a new version (ETag). A tie to itself or to a merged actor is a **422**; "
        "the same tie again is a **409**. `If-Match` (this actor's ETag) is optional. Accepts "
        "`Idempotency-Key`."
    ),
    responses=problem_responses(400, 401, 403, 404, 409, 412, 413, 415, 422, 503),
    openapi_extra={
        **bodies.openapi_body(AffiliationCreate),
        "parameters": [etag.parameter(required=False), idempotency.parameter()],
    },
)
async def add_affiliation(
    request: Request, engine: EngineDep, principal: CurateAccess, actor_id: ActorId
) -> JSONResponse:
    raw = await bodies.read_body(request)
    body = bodies.validate_json(AffiliationCreate, raw)
    idem = idempotency.from_request(request, raw, principal.api_key_id)
    outcome = await run_in_threadpool(
        service.add_affiliation,
        engine,
        actor_id,
        body,
        request.headers.get(etag.HEADER),
        principal.api_key_id,
        idem,
    )
    return outcome_response(outcome, "actor_affiliation")


@router.delete(
    "/{actor_id}/affiliations/{affiliation_id}",
    response_model=Deleted,
    summary="Remove an affiliation",
    description=(
        "Removes a tie of this actor's, in either direction; both actors get a new version "
        "(ETag). `If-Match` (this actor's ETag) is optional."
    ),
    responses=problem_responses(401, 403, 404, 409, 412, 422, 503),
    openapi_extra=OPTIONAL_IF_MATCH,
)
def remove_affiliation(
    request: Request,
    engine: EngineDep,
    principal: CurateAccess,
    actor_id: ActorId,
    affiliation_id: AffiliationId,
    _: Annotated[NoQuery, Query()],
) -> dict[str, Any]:
    return service.remove_affiliation(
        engine, actor_id, affiliation_id, request.headers.get(etag.HEADER), principal.api_key_id
    )
