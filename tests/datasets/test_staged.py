"""The set-based writer (``app.writer.staged``) stores what the row-by-row one stores.

The real GED and ACLED samples are imported into two fresh databases of the same backend:
one through the loader as it is (events created set by set, from staging tables), the other
with the loader's ``writer.import_rows`` replaced by the row-by-row path it replaced
(``writer.import_events``: every row built in Python). Every table must then hold the same
rows, ids included; only timestamps (and the API keys' random secrets) are left out, and
JSON is compared decoded.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from typing import Any

import orjson
import pytest
from sqlalchemy import JSON, Engine, select
from sqlalchemy.orm import Session

from app import writer
from app.datasets import loader, ucdp
from app.db import migrate
from app.db.base import Base, UTCDateTime
from app.db.session import create_db_engine
from app.formats import acled
from app.formats.records import ACLED
from app.writer.events import GIVEN_FIELDS
from tests.conftest import PostgresServer, make_key, unique_name
from tests.datasets.test_loader import GED_23_1, principal
from tests.samples import ACLED_SAMPLE, GED_SAMPLE


def _row_by_row(
    session: Session,
    dataset_id: int,
    rows: Sequence[writer.ImportedRow],
    *,
    api_key_id: int | None,
) -> list[int]:
    """What the loader called before the set-based writer: ``import_events``."""
    return writer.import_events(
        session,
        [
            writer.NewEvent(
                **dict(zip(GIVEN_FIELDS, r.fields, strict=True)),
                actors=r.actors,
                sources=[writer.NewSource(article_id) for article_id in r.article_ids],
                dimension_ids=r.dimension_ids,
            )
            for r in rows
        ],
        [
            writer.NewProvenance(
                dataset_id=dataset_id,
                external_id=r.row_id,
                dataset_version=r.dataset_version,
                content_sha256=r.content_sha256,
                original=orjson.Fragment(r.original_json),
            )
            for r in rows
        ],
        api_key_id=api_key_id,
    )


@pytest.fixture
def other_engine(
    backend: str, request: pytest.FixtureRequest, tmp_path: Any, write_key: str
) -> Iterator[Engine]:
    """A second fresh database of the test's backend, with the same keys as the first."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'other.sqlite3'}"
        name = None
    else:
        server: PostgresServer = request.getfixturevalue("pg_server")
        name = unique_name("other")
        url = server.create(name)
    engine = create_db_engine(url)
    try:
        migrate.upgrade(engine)
        make_key(url, ["write"], name="tests-write")
        yield engine
    finally:
        engine.dispose()
        if name is not None:
            server.drop_later(name)


def _import_samples(engine: Engine) -> None:
    with GED_SAMPLE.open(encoding="utf-8", newline="") as f:
        summary = loader.import_records(
            engine, ucdp.parse_rows(f, "23.1"), GED_23_1, principal_id=principal(engine)
        )
    assert summary.created == 1000
    text = ACLED_SAMPLE.read_text(encoding="utf-8")
    summary = loader.import_records(
        engine,
        acled.parse_rows(io.StringIO(text, newline="")),
        ACLED,
        principal_id=principal(engine),
    )
    assert summary.created > 0


def _contents(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, in key order, without timestamps; JSON decoded."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if not isinstance(c.type, UTCDateTime)]
            rows = connection.execute(
                select(*columns).order_by(*(table.primary_key.columns or columns))
            ).all()
            json_at = [i for i, c in enumerate(columns) if isinstance(c.type, JSON)]
            out[table.name] = [
                tuple(
                    orjson.loads(v) if i in json_at and isinstance(v, str) else v
                    for i, v in enumerate(row)
                )
                for row in rows
            ]
    return out


def test_the_set_based_writer_stores_what_the_row_by_row_one_stores(
    engine: Engine, other_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _import_samples(engine)
    monkeypatch.setattr(writer, "import_rows", _row_by_row)
    _import_samples(other_engine)
    staged, reference = _contents(engine), _contents(other_engine)
    assert staged["event"] and staged["event_revision"] and staged["claim"]
    for contents in (staged, reference):  # the keys and their audit rows are random
        del contents["api_key"]
        contents["audit_log"] = [r for r in contents["audit_log"] if r[2] != "key.create"]
    for name in reference:
        assert staged[name] == reference[name], name
