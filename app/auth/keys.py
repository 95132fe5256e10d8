"""Making and recognising API keys. Keys are random, so a fast hash (SHA-256) is the right one."""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "cdb"
SCOPES = ("read", "ingest", "curate", "write", "admin")
# What each scope grants: admin everything; write is ingest and curate together (the scope
# keys had before the split, and the local key of `make run`); each includes read.
IMPLIED = {
    "admin": {"admin", "write", "ingest", "curate", "read"},
    "write": {"write", "ingest", "curate", "read"},
    "ingest": {"ingest", "read"},
    "curate": {"curate", "read"},
    "read": {"read"},
}


def new_key() -> tuple[str, str]:
    """A fresh key and its visible prefix: ``cdb_<8 hex>_<32 url-safe chars>`` (>128 bits)."""
    visible = secrets.token_hex(4)
    secret = secrets.token_urlsafe(24)  # 192 random bits
    prefix = f"{KEY_PREFIX}_{visible}"
    return f"{prefix}_{secret}", prefix


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def effective_scopes(scopes: str | set[str] | frozenset[str]) -> frozenset[str]:
    names = scopes.split() if isinstance(scopes, str) else scopes
    out: set[str] = set()
    for name in names:
        out |= IMPLIED.get(name, set())
    return frozenset(out)
