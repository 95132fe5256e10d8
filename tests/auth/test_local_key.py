"""Local mode's key: one key file per database, so serving another database never breaks the
first one's tour, and a start-up that finds keys but no usable key file says what to do."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.auth import local
from app.config import DEFAULT_DATABASE_URL, Settings
from app.main import create_app
from tests.conftest import make_key

KEY_FILE_NAME = r"\.conflictdb-local-key-[A-Za-z0-9_.-]+-[0-9a-f]{8}"
OUTLET = {"name": "Example Wire", "kind": "agency"}


def local_settings(database_url: str, **overrides: object) -> Settings:
    return Settings(
        database_url=database_url,
        environment="local",
        demo=False,
        rate_limit_per_minute=0,
        **overrides,  # type: ignore[arg-type]
    )


def start(settings: Settings) -> None:
    """What `make run` does at start-up (the lifespan), then stop."""
    with TestClient(create_app(settings)):
        pass


def can_write(settings: Settings, key: str) -> bool:
    with TestClient(create_app(settings)) as client:
        response = client.post(
            "/v1/outlets",
            json={**OUTLET, "name": f"Wire {key[-6:]}"},
            headers={"Authorization": f"Bearer {key}"},
        )
    assert response.status_code in (201, 401), response.text
    return response.status_code == 201


def test_a_second_database_does_not_break_the_first_ones_key(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make run` on the default database, then `DATABASE_URL=... make run`: each gets its
    own file and the first one's key (the tour's `cat .conflictdb-local-key`) still works."""
    monkeypatch.chdir(tmp_path)  # the default database and the key files live here
    first = local_settings(DEFAULT_DATABASE_URL)
    second = local_settings(database_url, migrate_on_start=False)
    start(first)
    start(second)

    first_file = tmp_path / ".conflictdb-local-key"
    files = sorted(p.name for p in tmp_path.glob(".conflictdb-local-key*"))
    assert len(files) == 2 and first_file.name in files
    second_file = tmp_path / next(f for f in files if f != first_file.name)
    assert re.fullmatch(KEY_FILE_NAME, second_file.name)
    assert second_file.name == local.key_file_for(database_url)
    assert first_file.stat().st_mode & 0o777 == 0o600
    assert second_file.stat().st_mode & 0o777 == 0o600

    first_key = first_file.read_text().strip()
    second_key = second_file.read_text().strip()
    assert first_key != second_key
    assert can_write(first, first_key)
    assert can_write(second, second_key)
    assert not can_write(first, second_key)

    # Starting either again keeps both files as they are.
    start(first)
    start(second)
    assert first_file.read_text().strip() == first_key
    assert second_file.read_text().strip() == second_key


def test_key_file_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert local.key_file_for(DEFAULT_DATABASE_URL) == ".conflictdb-local-key"
    # Another spelling of the default file is the default file.
    assert local.key_file_for("sqlite:///conflictdb.sqlite3") == ".conflictdb-local-key"
    assert local.key_file_for(f"sqlite:///{tmp_path}/conflictdb.sqlite3") == (
        ".conflictdb-local-key"
    )

    other = local.key_file_for("sqlite:///data/other.sqlite3")
    assert re.fullmatch(r"\.conflictdb-local-key-other-[0-9a-f]{8}", other)
    assert local.key_file_for(f"sqlite:///{tmp_path}/data/other.sqlite3") == other

    pg = local.key_file_for("postgresql+psycopg://app:one@db.example.org/conflicts")
    assert re.fullmatch(r"\.conflictdb-local-key-conflicts-[0-9a-f]{8}", pg)
    # A new password is the same database; another host or database is not.
    assert local.key_file_for("postgresql+psycopg://app:two@db.example.org/conflicts") == pg
    assert local.key_file_for("postgresql+psycopg://app:one@db2.example.org/conflicts") != pg
    assert local.key_file_for("postgresql+psycopg://app:one@db.example.org/conflicts2") != pg
    assert "one" not in pg

    # CONFLICTDB_LOCAL_KEY_FILE wins.
    monkeypatch.setenv("CONFLICTDB_LOCAL_KEY_FILE", "/run/secrets/conflictdb-key")
    assert local.key_file(Settings()) == "/run/secrets/conflictdb-key"


def test_keys_but_no_key_file_is_said_in_one_line(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    make_key(database_url, ["write"], name="importer")  # made with `conflictdb keys create`
    settings = local_settings(database_url, migrate_on_start=False)
    start(settings)

    name = local.key_file_for(database_url)
    assert not (tmp_path / name).exists()  # no key was made behind the user's back
    assert local.command().endswith("conflictdb")
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        f"conflictdb: this database has API keys, but no local key file ({name}); make a local "
        f"key with the same DATABASE_URL: (umask 077; {local.command()} keys create --scope "
        f"write --name local > {name})"
    ]


def test_a_key_file_whose_key_no_longer_works_is_said_and_a_working_one_named(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    key_file = tmp_path / "key"
    settings = local_settings(database_url, migrate_on_start=False, local_key_file=str(key_file))
    start(settings)
    capsys.readouterr()

    start(settings)
    assert capsys.readouterr().err == f"conflictdb: local write key in {key_file}\n"

    key_file.write_text(make_key(database_url, ["read"]) + "\n")
    start(settings)
    assert f"but the key in {key_file} cannot write; make a local key" in capsys.readouterr().err

    key_file.write_text("cdb_00000000_from-another-database\n")
    start(settings)
    err = capsys.readouterr().err
    assert f"but the key in {key_file} is not one of them; make a local key" in err
    assert len(err.splitlines()) == 1
