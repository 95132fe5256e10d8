"""API key request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from app.core.fields import NOT_BLANK, Text
from app.core.pagination import NoQuery


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: Annotated[
        Text, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NOT_BLANK
    ] = Field(examples=["ucdp-importer"])
    scopes: list[Literal["read", "ingest", "curate", "write", "admin"]] = Field(
        min_length=1,
        max_length=5,
        description=(
            "read: the reads (when CONFLICTDB_AUTH_READS); ingest: post reports and create "
            "actors, places and outlets; curate: edit, retract, merge and delete; write: "
            "ingest and curate; admin: everything, keys included."
        ),
        examples=[["ingest"]],
    )
    expires_at: AwareDatetime | None = Field(
        default=None, description="With a UTC offset.", examples=["2027-01-01T00:00:00Z"]
    )


class KeyRead(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="The visible start of the key, to recognise it.")
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class KeyCreated(KeyRead):
    key: str = Field(description="The key itself. Shown once: only its SHA-256 is stored.")


class KeyList(BaseModel):
    data: list[KeyRead]


class KeyListQuery(NoQuery):
    include_revoked: bool = Field(
        default=True, description="Also list revoked keys.", examples=[False]
    )
