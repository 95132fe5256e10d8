"""POST /v1/drafts: a news text in, a report to check, edit and post out. Reads, never writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from app.auth.dependencies import IngestAccess
from app.core import bodies
from app.core.errors import problem_responses
from app.db.session import EngineDep
from app.drafts import service
from app.drafts.schemas import DraftCreate, DraftRead

router = APIRouter(prefix="/v1/drafts", tags=["drafts"])

_SAMPLE = Path(__file__).resolve().parents[1] / "demo" / "east_qalamoun_2018_04_18.json"


def _example() -> dict[str, Any]:
    return {
        "text": "Hostilities initially broke out in East Qalamoun on Sunday when fighters with "
        "the Ahmad al-Abdo brigade briefly seized four military points from the Syrian army.",
        "published_date": "2018-04-18",
        "outlet": "Syria Direct",
    }


@router.post(
    "",
    response_model=DraftRead,
    summary="Draft a report from a news text",
    description=(
        "Proposes, from a news text, the report `POST /v1/reports` takes: quoted speech with "
        "its speakers and the sentence that carries each event (every event cites at least "
        "one quote), places (the database's gazetteer first, then a bundled world gazetteer, "
        "preferring the article's country; unknown places as new, inside their parent), "
        "actors (the database's names and aliases, and common descriptions mapped to kinds), "
        "fatalities and measures, dates resolved against `published_date`, and the ACLED event "
        "type. `annotations` explains each proposal: its evidence span (code-point offsets "
        "into the text), a confidence, and the rule or gazetteer entry that matched. Check "
        "the draft, edit it and post it without `annotations`: unedited, it is accepted. "
        "Needs a key with the `ingest` scope; nothing is written. A text in which nothing is "
        "found is a 200 with an empty draft and notes saying so. The rules are written for "
        "English; other languages are out of scope for now, and the notes say so."
    ),
    responses=problem_responses(400, 401, 403, 413, 415, 422, 429, 503),
    openapi_extra=bodies.openapi_body(DraftCreate, example=_example()),
)
async def post_draft(request: Request, engine: EngineDep, principal: IngestAccess) -> JSONResponse:
    raw = await bodies.read_body(request)
    draft_request = bodies.validate_json(DraftCreate, raw)
    draft = await run_in_threadpool(service.draft, engine, draft_request)
    return JSONResponse(draft.body)
