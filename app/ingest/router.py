"""POST /v1/reports: one article, its quotes and the events they support, in one transaction."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from app.core.errors import ProblemError, problem_responses
from app.db.session import EngineDep
from app.ingest import service
from app.ingest.schemas import ReportCreated

router = APIRouter(prefix="/v1/reports", tags=["reports"])

_DEMO = Path(__file__).resolve().parents[1] / "demo" / "east_qalamoun_2018_04_18.json"


class PayloadTooLarge(ProblemError):
    status, slug, title = 413, "payload-too-large", "Payload too large"


def _example() -> dict[str, Any]:
    try:
        return json.loads(_DEMO.read_text(encoding="utf-8"))
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
        "Unicode code points and are checked against the body."
    ),
    responses={
        200: {
            "model": ReportCreated,
            "description": "An identical report was already stored: its response, replayed.",
        },
        **problem_responses(409, 413, 422, 503),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/ReportCreate"},
                    "example": _example(),
                }
            },
        }
    },
)
async def post_report(request: Request, engine: EngineDep) -> JSONResponse:
    # The body is validated from raw JSON (pydantic's JSON mode) rather than by FastAPI, whose
    # Python-mode validation cannot tell "2018-04-18" from a date object in strict mode.
    limit = request.app.state.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The body exceeds {limit} bytes.")
    raw = await request.body()
    if len(raw) > limit:
        raise PayloadTooLarge(f"The body exceeds {limit} bytes.")
    report = service.parse_report(raw)
    outcome = await run_in_threadpool(service.ingest_report, engine, report)
    # The transaction has committed by now: the response is built from durable data.
    return JSONResponse(outcome.body, status_code=outcome.status)
