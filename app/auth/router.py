"""Key management over HTTP (admin scope)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from app.auth import repository, service
from app.auth.dependencies import AdminAccess
from app.auth.schemas import KeyCreate, KeyCreated, KeyList, KeyListQuery, KeyRead
from app.core import ids
from app.core.bodies import openapi_body, parse_body
from app.core.errors import problem_responses
from app.db.session import EngineDep, read_session
from app.writer.transaction import write_transaction

router = APIRouter(prefix="/v1/keys", tags=["keys"])


def _public(record: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in record.items() if k in KeyRead.model_fields}
    out["scopes"] = record["scopes"].split()
    return out


@router.post(
    "",
    status_code=201,
    response_model=KeyCreated,
    summary="Create an API key",
    description="The key is in the response once; only its SHA-256 and prefix are stored.",
    responses=problem_responses(400, 401, 403, 413, 415, 422, 429, 503),
    openapi_extra=openapi_body(KeyCreate),
)
async def create_key(request: Request, engine: EngineDep, principal: AdminAccess) -> JSONResponse:
    body = await parse_body(request, KeyCreate)
    key, record = write_transaction(
        engine,
        lambda session: service.create_key(
            session,
            name=body.name,
            scopes=list(body.scopes),
            expires_at=body.expires_at,
            created_by=principal.api_key_id,
        ),
    )
    created = KeyCreated.model_validate(_public(record) | {"key": key})
    # The one answer that shows the key itself: no cache, shared or private, may keep it.
    return JSONResponse(
        created.model_dump(mode="json"), status_code=201, headers={"Cache-Control": "no-store"}
    )


@router.get(
    "",
    response_model=KeyList,
    summary="List API keys",
    description="Every key's prefix, scopes and dates; never the keys themselves.",
    responses=problem_responses(401, 403, 422, 429, 503),
)
def list_keys(
    engine: EngineDep, principal: AdminAccess, q: Annotated[KeyListQuery, Query()]
) -> dict[str, Any]:
    with read_session(engine) as session:
        return {"data": [_public(r) for r in repository.list_keys(session, q.include_revoked)]}


@router.delete(
    "/{key_id}",
    response_model=KeyRead,
    summary="Revoke an API key",
    description="The key stops working at once; its record is kept for the audit log.",
    responses=problem_responses(401, 403, 404, 422, 429, 503),
)
def revoke_key(
    engine: EngineDep,
    principal: AdminAccess,
    key_id: Annotated[ids.PathId, Path(description="Key id.", examples=[1])],
) -> dict[str, Any]:
    record = write_transaction(
        engine,
        lambda session: service.revoke_key(session, key_id, revoked_by=principal.api_key_id),
    )
    return _public(record)
