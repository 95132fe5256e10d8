"""Local mode: the first start creates a write key, prints it, and keeps it in a file."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from sqlalchemy import Engine

from app.auth import repository, service
from app.db.session import read_session
from app.writer.transaction import write_session


def ensure_local_key(engine: Engine, key_file: str) -> str | None:
    """Create a 'local' write key when the database has none; returns it when created."""
    with read_session(engine) as session:
        if repository.any_key(session):
            return None
    with write_session(engine) as session:
        key, _ = service.create_key(session, name="local", scopes=["write"])
    path = Path(key_file)
    # Readable by this user only: the key is a credential.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(key + "\n")
    print(
        f"conflictdb: created a local write key (saved in {path}):\n  {key}\n"
        f"  use it as: -H 'Authorization: Bearer {key}'",
        file=sys.stderr,
        flush=True,
    )
    return key
