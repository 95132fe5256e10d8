"""Run a write so that retries with the same Idempotency-Key are answered, not re-applied.

The key is claimed (a row inserted) at the start of the write transaction and completed with
the response in the same transaction, so the stored response exists exactly when the write
does. A twin request arriving while the first runs blocks on the key's unique index (or, on
SQLite, on the write lock taken at BEGIN) until the first commits, then replays its response.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from fastapi import Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.core.errors import ProblemError, ValidationProblem
from app.core.outcomes import Outcome
from app.db.base import utcnow
from app.idempotency import repository
from app.writer.transaction import write_transaction

HEADER = "Idempotency-Key"
_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


class IdempotencyKeyReused(ProblemError):
    status, slug, title = (
        422,
        "idempotency-key-reused",
        "Idempotency-Key reused with another request",
    )


@dataclass(frozen=True)
class IdempotencyRequest:
    key: str
    api_key_id: int
    method: str
    path: str
    fingerprint: str
    ttl: timedelta


def fingerprint(raw: bytes) -> str:
    """The request's identity: its canonical JSON (key order and spacing do not matter)."""
    try:
        canonical = orjson.dumps(orjson.loads(raw), option=orjson.OPT_SORT_KEYS)
    except orjson.JSONDecodeError:
        canonical = raw
    return hashlib.sha256(canonical).hexdigest()


def parameter() -> dict[str, Any]:
    """The OpenAPI description of the Idempotency-Key header (the route reads it itself,
    with ``from_request``)."""
    return {
        "name": HEADER,
        "in": "header",
        "required": False,
        "description": (
            "Optional: makes a retry safe. A request repeating the key and the body of one "
            "already answered gets that answer again (with `Idempotent-Replayed: true`) and "
            "writes nothing; the same key with another body is a 422. 1 to 255 visible ASCII "
            "characters, kept per API key for `CONFLICTDB_IDEMPOTENCY_TTL_HOURS` (24 h)."
        ),
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
        # On the parameter, not its schema: generators then draw fresh keys for each request
        # instead of repeating the example, whose replay would answer for another request.
        "example": "3f1c9a60-tour-1",
    }


def from_request(request: Request, raw: bytes, api_key_id: int | None) -> IdempotencyRequest | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _VALID_KEY.match(key):
        raise ValidationProblem(
            f"{HEADER} must be 1 to 255 visible ASCII characters.",
            errors=[{"loc": ["header", HEADER], "msg": "invalid key", "type": "idempotency_key"}],
        )
    if api_key_id is None:
        raise ValidationProblem(f"{HEADER} needs an API key to be scoped to.")
    hours = request.app.state.settings.idempotency_ttl_hours
    return IdempotencyRequest(
        key=key,
        api_key_id=api_key_id,
        method=request.method,
        path=request.url.path,
        fingerprint=fingerprint(raw),
        ttl=timedelta(hours=hours),
    )


def run(
    engine: Engine, idem: IdempotencyRequest | None, work: Callable[[Session], Outcome]
) -> Outcome:
    """``work`` in one write transaction (``write_transaction``: committed before this returns,
    retried on lost races), answered from the stored response when ``idem``'s key was seen."""
    if idem is None:
        return write_transaction(engine, work)
    return write_transaction(engine, lambda session: _run_once(session, idem, work))


def _run_once(
    session: Session, idem: IdempotencyRequest, work: Callable[[Session], Outcome]
) -> Outcome:
    now = utcnow()
    record = repository.find(session, idem.api_key_id, idem.key)
    if record is not None and record["expires_at"] <= now:
        repository.delete_record(session, record["id"])
        record = None
    if record is not None:
        same = (record["method"], record["path"], record["request_sha256"]) == (
            idem.method,
            idem.path,
            idem.fingerprint,
        )
        if not same:
            raise IdempotencyKeyReused(
                f"{HEADER} {idem.key!r} was used for a different request; use a new key."
            )
        return Outcome(record["response_status"], record["response_body"], replayed=True)
    record_id = repository.insert_pending(
        session,
        api_key_id=idem.api_key_id,
        key=idem.key,
        method=idem.method,
        path=idem.path,
        request_sha256=idem.fingerprint,
        now=now,
        expires_at=now + idem.ttl,
    )
    outcome = work(session)
    repository.complete(session, record_id, outcome.status, outcome.body)
    return outcome
