"""POST /v1/reports: one article, its quotes and the events they support, in one transaction."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from app.auth.dependencies import IngestAccess
from app.core import bodies, outcomes
from app.core.errors import problem_responses
from app.db.session import EngineDep
from app.idempotency import service as idempotency
from app.reports import service
from app.reports.schemas import ReportCreate, ReportCreated

router = APIRouter(prefix="/v1/reports", tags=["reports"])

_DEMO = Path(__file__).resolve().parents[1] / "demo" / "east_qalamoun_2018_04_18.json"


def _example() -> dict[str, Any]:
    try:
        example: dict[str, Any] = json.loads(_DEMO.read_text(encoding="utf-8"))
        return example
    except OSError:
        return {}


@router.post(
    "",
    status_code=201,
    response_model=ReportCreated,
    summary="Ingest a report",
    description=(
        "One article with its quotes and events, written in one transaction. Actors and places "
        "are given by id or described by name; names are matched (case, accents, Arabic article "
        "variants, hyphens) within their country or parent place, and created when new. "
        "Re-posting an identical report returns **200** with the first response and writes "
        "nothing; a different report for an existing article is a **409**. Quote offsets are "
        "Unicode code points and are checked against the body. Needs a key with the `write` "
        "scope. With an `Idempotency-Key` header, a retry of the same request replays the "
        "stored response (with `Idempotent-Replayed: true`); the same key with another body "
        "is a 422."
    ),
    responses={
        200: {
            "model": ReportCreated,
            "description": "An identical report was already stored: its response, replayed.",
        },
        **problem_responses(400, 401, 403, 409, 413, 415, 422, 429, 503),
    },
    openapi_extra={
        **bodies.openapi_body(ReportCreate, example=_example()),
        "parameters": [idempotency.parameter()],
    },
)
async def post_report(request: Request, engine: EngineDep, principal: IngestAccess) -> JSONResponse:
    raw = await bodies.read_body(request)
    report = service.parse_report(raw)
    idem = idempotency.from_request(request, raw, principal.api_key_id)
    outcome = await run_in_threadpool(
        service.ingest_report,
        engine,
        report,
        api_key_id=principal.api_key_id,
        idem=idem,
        limits=service.limits_of(request.app.state.settings),
    )
    # The transaction has committed by now: the response is built from durable data.
    headers = {outcomes.REPLAY_HEADER: "true"} if outcome.replayed else None
    kind = "replayed" if outcome.replayed else "created" if outcome.status == 201 else "recognised"
    request.app.state.metrics.reports.labels(kind).inc()
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)
