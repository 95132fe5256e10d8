"""Local mode: the first start creates a write key, prints it, and keeps it in a file.

One key file per database, so that serving a second database (``DATABASE_URL=... make run``)
never overwrites the key of the first: the default SQLite file keeps ``.conflictdb-local-key``
(the README's tour reads it), any other database gets ``.conflictdb-local-key-<name>-<hash>``,
its name (the SQLite file's stem, or the database's name) for people and the first 8 hex digits
of the SHA-256 of its URL for uniqueness. The URL is taken without its password (changing a
password does not change the database) and with a SQLite path made absolute (two spellings of
one file are one database). ``CONFLICTDB_LOCAL_KEY_FILE`` names the file instead.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app.auth import keys, repository, service
from app.config import DEFAULT_DATABASE_URL, Settings
from app.db.base import utcnow
from app.db.session import read_session
from app.writer.transaction import write_transaction

DEFAULT_KEY_FILE = ".conflictdb-local-key"


def key_file(settings: Settings) -> str:
    """Where the local key of the settings' database is kept."""
    return settings.local_key_file or key_file_for(settings.database_url)


def key_file_for(database_url: str) -> str:
    """The local key file of a database (relative to the working directory, as its URL may be)."""
    identity = _identity(database_url)
    if identity == _identity(DEFAULT_DATABASE_URL):
        return DEFAULT_KEY_FILE
    url = make_url(database_url)
    name = Path(url.database).stem if url.get_backend_name() == "sqlite" and url.database else ""
    name = name or url.database or url.get_backend_name()
    label = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")[:40] or "db"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:8]
    return f"{DEFAULT_KEY_FILE}-{label}-{digest}"


def _identity(database_url: str) -> str:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        url = url.set(database=str(Path(str(url.database)).resolve()))
    return url.render_as_string(hide_password=True)


def ensure_local_key(engine: Engine, key_file: str) -> str | None:
    """Create a 'local' write key when the database has none; returns it when created.

    When the database has keys already, says (one line on standard error) where the local
    key is, or that there is none for this database and how to make one.
    """
    path = Path(key_file)
    with read_session(engine) as session:
        if repository.any_key(session):
            problem = _problem_with(session, path)
            _say(
                f"local write key in {path}"
                if problem is None
                else f"this database has API keys, but {problem}; make a local key with the "
                f"same DATABASE_URL: (umask 077; {command()} keys create --scope write "
                f"--name local > {path})"
            )
            return None
    key, _ = write_transaction(
        engine, lambda session: service.create_key(session, name="local", scopes=["write"])
    )
    # Readable by this user only: the key is a credential.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(key + "\n")
    _say(
        f"created a local write key (saved in {path}):\n  {key}\n"
        f"  use it as: -H 'Authorization: Bearer {key}'"
    )
    return key


def _problem_with(session: Session, path: Path) -> str | None:
    """Why the key in ``path`` does not work on this database; None when it does."""
    try:
        key = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return f"no local key file ({path})"
    except OSError as exc:
        return f"the local key file {path} cannot be read ({exc.strerror})"
    record = repository.key_by_hash(session, keys.hash_key(key))
    if record is None or record["kind"] != "key":
        return f"the key in {path} is not one of them"
    if record["revoked_at"] is not None:
        return f"the key in {path} was revoked"
    if record["expires_at"] is not None and record["expires_at"] <= utcnow():
        return f"the key in {path} has expired"
    if "write" not in keys.effective_scopes(record["scopes"]):
        return f"the key in {path} cannot write"
    return None


def command() -> str:
    """How to run this installation's ``conflictdb`` from here, to paste into a shell: its
    name when the shell finds this one by it, else its path (``.venv/bin/conflictdb`` after
    ``make run``)."""
    installed = Path(sys.prefix) / "bin" / "conflictdb"
    if not installed.exists():
        return "conflictdb"
    found = shutil.which("conflictdb")
    if found is not None and Path(found).resolve() == installed.resolve():
        return "conflictdb"
    try:
        return str(installed.relative_to(Path.cwd()))
    except ValueError:
        return str(installed)


def _say(message: str) -> None:
    print(f"conflictdb: {message}", file=sys.stderr, flush=True)
