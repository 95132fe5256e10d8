"""Small helpers shared by the edit tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from app.db.session import read_session
from app.models import AuditEntry, EventRevision


def etag_of(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


def audit_rows(engine: Engine, action: str | None = None) -> list[dict[str, Any]]:
    stmt = select(
        AuditEntry.action,
        AuditEntry.entity,
        AuditEntry.entity_id,
        AuditEntry.api_key_id,
        AuditEntry.detail,
    ).order_by(AuditEntry.id)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    with read_session(engine) as session:
        return [dict(r) for r in session.execute(stmt).mappings()]


def revisions(engine: Engine, event_id: int) -> list[dict[str, Any]]:
    stmt = (
        select(EventRevision.action, EventRevision.api_key_id, EventRevision.changes)
        .where(EventRevision.event_id == event_id)
        .order_by(EventRevision.id)
    )
    with read_session(engine) as session:
        return [dict(r) for r in session.execute(stmt).mappings()]
