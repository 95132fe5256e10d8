"""Creating, listing and revoking API keys; the local principals of the command-line tools."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from app import writer
from app.auth import keys, repository
from app.core.errors import NotFound, ValidationProblem
from app.db.base import utcnow
from app.models import ApiKey


def create_key(
    session: Session,
    *,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
    created_by: int | None = None,
) -> tuple[str, repository.ApiKeyRow]:
    """A new key: returns the key itself (shown once, never stored) and its record."""
    unknown = sorted(set(scopes) - set(keys.SCOPES))
    if unknown or not scopes:
        raise ValidationProblem(
            f"Scopes must be some of {', '.join(keys.SCOPES)}; got {', '.join(scopes) or 'none'}."
        )
    if expires_at is not None and expires_at <= utcnow():
        raise ValidationProblem("expires_at is in the past.")
    key, prefix = keys.new_key()
    key_id = session.execute(
        insert(ApiKey)
        .values(
            name=name,
            kind="key",
            prefix=prefix,
            key_sha256=keys.hash_key(key),
            scopes=" ".join(sorted(set(scopes))),
            created_at=utcnow(),
            expires_at=expires_at,
        )
        .returning(ApiKey.id)
    ).scalar_one()
    writer.audit(
        session,
        "key.create",
        api_key_id=created_by,
        entity="api_key",
        entity_id=key_id,
        detail={"name": name, "prefix": prefix, "scopes": sorted(set(scopes))},
    )
    record = repository.get_key(session, key_id)
    assert record is not None
    return key, record


def revoke_key(session: Session, key_id: int, *, revoked_by: int | None) -> repository.ApiKeyRow:
    record = repository.get_key(session, key_id)
    if record is None or record["kind"] != "key":
        raise NotFound(f"No API key with id {key_id}.")
    if record["revoked_at"] is None:
        session.execute(update(ApiKey).where(ApiKey.id == key_id).values(revoked_at=utcnow()))
        writer.audit(
            session,
            "key.revoke",
            api_key_id=revoked_by,
            entity="api_key",
            entity_id=key_id,
            detail={"prefix": record["prefix"]},
        )
    revoked = repository.get_key(session, key_id)
    assert revoked is not None
    return revoked


def local_principal(session: Session, name: str = "cli") -> int:
    """The recorded principal of local command-line writes (imports, demo loading)."""
    existing = repository.local_principal_id(session, name)
    if existing is not None:
        return existing
    return int(
        session.execute(
            insert(ApiKey)
            .values(
                name=name,
                kind="local",
                prefix=f"local:{name}"[:20],
                key_sha256=None,
                scopes="write",
                created_at=utcnow(),
            )
            .returning(ApiKey.id)
        ).scalar_one()
    )
