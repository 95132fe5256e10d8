"""The health check for load balancers and orchestrators: the app is up and reaches its database."""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.auth.dependencies import require
from app.core.errors import ServiceUnavailable, problem_responses
from app.core.pagination import NoQuery
from app.db.replicas import ReadRouter
from app.db.session import EngineDep
from app.http.metrics import CONTENT_TYPE, Metrics

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


class ReplicaHealth(BaseModel):
    name: str = Field(description="replica-1, replica-2 ... in CONFLICTDB_REPLICA_URLS order.")
    address: str = Field(description="host:port/database (never the password).")
    status: Literal["ok", "lagging", "down", "starting"] = Field(
        description="ok: takes reads; lagging: further behind than "
        "CONFLICTDB_REPLICA_MAX_LAG_S; down: did not answer its last check; starting: not "
        "checked yet. Reads skip all but ok."
    )
    data_version: int | None = Field(description="The data version it was last seen at.")
    behind_versions: int | None = Field(
        description="Data versions of the primary's it lacked at its last check."
    )
    lag_seconds: float | None = Field(
        description="How long ago the primary first had a version this replica still lacks "
        "(0: it has them all)."
    )
    checked_seconds_ago: float | None = Field(description="Since its last check that answered.")
    error: str | None = Field(description="Why it is down.")


class HealthRead(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]
    data_version: int | None = Field(
        default=None, description="The primary's data version (null: not readable yet)."
    )
    replicas: list[ReplicaHealth] = Field(
        default_factory=list, description="The read replicas (CONFLICTDB_REPLICA_URLS)."
    )


@router.get(
    "/healthz",
    response_model=HealthRead,
    summary="Health check",
    description=(
        "200 when the API is serving and its primary database answers a trivial query; "
        "otherwise a 503 problem response with `Retry-After`. Also the primary's data version "
        "and each read replica's state: a replica that is down or lagging does not make this "
        "a 503 (reads go to the primary meanwhile), it is reported here and in /metrics."
    ),
    responses=problem_responses(422, 503),
)
def healthz(request: Request, engine: EngineDep, _: Annotated[NoQuery, Query()]) -> HealthRead:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.warning("health check: database unavailable: %s", exc)
        raise ServiceUnavailable(
            "The database is unavailable; retry shortly.", headers={"Retry-After": "1"}
        ) from exc
    router: ReadRouter = request.app.state.read_router
    try:
        version: int | None = router.version_of(router.primary)
    except SQLAlchemyError:  # reachable but not migrated yet: still up
        version = None
    return HealthRead(
        status="ok",
        database="ok",
        data_version=version,
        replicas=[ReplicaHealth(**row) for row in router.health()],
    )


def metrics(request: Request) -> Response:
    """GET /metrics: the server's metrics in Prometheus's text format (docs/scaling.md lists
    them), for a key with the admin scope. Outside the API document, as /docs is: it is the
    operator's, not the API's. ``CONFLICTDB_METRICS_ADDRESS`` serves them without a key on a
    separate address, for a private network."""
    require("admin")(request)
    registry: Metrics = request.app.state.metrics
    return Response(registry.render(), media_type=CONTENT_TYPE)


router.add_route("/metrics", metrics, methods=["GET"], include_in_schema=False)
