"""The health check for load balancers and orchestrators: the app is up and reaches its database."""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.core.errors import ServiceUnavailable, problem_responses
from app.core.pagination import NoQuery
from app.db.session import EngineDep

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


class HealthRead(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]


@router.get(
    "/healthz",
    response_model=HealthRead,
    summary="Health check",
    description=(
        "200 when the API is serving and its database answers a trivial query; otherwise a "
        "503 problem response with `Retry-After`."
    ),
    responses=problem_responses(422, 503),
)
def healthz(engine: EngineDep, _: Annotated[NoQuery, Query()]) -> HealthRead:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.warning("health check: database unavailable: %s", exc)
        raise ServiceUnavailable(
            "The database is unavailable; retry shortly.", headers={"Retry-After": "1"}
        ) from exc
    return HealthRead(status="ok", database="ok")
