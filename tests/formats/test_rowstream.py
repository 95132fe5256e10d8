"""Parsing in a second process (``RowStream.offload``): the same records and lines as parsing
in-process, read-ahead bounded, files that fail and workers that die reported, and no process
left behind however the import ends."""

from __future__ import annotations

import io
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import IO, Any, cast

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.datasets import loader, ucdp
from app.datasets.loader import ImportAborted
from app.db.session import create_db_engine
from app.formats import rowstream as pipeline
from app.formats.records import EventRecord, RowError
from tests.datasets.test_loader import (
    GED_23_1,
    counts_without_audit,
    figures_from_api,
    figures_from_csv,
    ged_csv,
    ged_rows,
    principal,
)
from tests.samples import GED_SAMPLE

pytestmark = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="the worker is forked"
)


def _accept(record: EventRecord) -> str | None:
    return None


def _values(item: Any) -> tuple[Any, ...]:
    """A record or its wire form as comparable values (the wire form may lack ``original``)."""
    if isinstance(item, RowError):
        return ("error", item.line, item.reason, item.external_id)
    return (
        item.external_id,
        item.line,
        item.content_sha256,
        item.event_key,
        item.date_start,
        item.summary,
        item.flags,
        tuple((p.name, p.kind, p.country, p.latitude, p.longitude, p.aliases) for p in item.places),
        tuple((a.name, a.kind, a.country, a.side, a.role, a.external_id) for a in item.actors),
        tuple((s.outlet, s.published_date, s.headline, s.raw) for s in item.sources),
        tuple((a.name, a.kind, a.side, a.external_id) for a in item.member_actors),
    )


class _Lines:
    """A text file that counts the lines taken from it, and can stop being readable."""

    def __init__(self, text: str, fail_after: int | None = None) -> None:
        self._stream = io.StringIO(text, newline="")
        self.lines_read = 0
        self._fail_after = fail_after

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self._fail_after is not None and self.lines_read >= self._fail_after:
            raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")
        self.lines_read += 1
        return next(self._stream)

    def read(self, size: int = -1) -> str:
        raise AssertionError("the file is read by lines")


def _messy_file() -> tuple[str, list[dict[str, str]]]:
    """600 sample rows with bad ones after the first batches, a value spanning lines, and a
    line of the wrong width; and the rows that should load."""
    rows = [dict(r) for r in ged_rows()[:600]]
    rows[250]["where_description"] = "across\nthree\r\nlines"
    rows[450]["date_start"] = "not a date"
    rows[451]["type_of_violence"] = "9"
    text = ged_csv(rows)
    cut = text[: text.index(rows[500]["relid"])].rindex("\r\n") + 2
    text = text[:cut] + "1,2,3\r\n" + text[cut:]
    return text, [r for i, r in enumerate(rows) if i not in (450, 451)]


def test_offloaded_rows_are_the_rows_parsed_here_with_their_lines() -> None:
    text, _ = _messy_file()
    here = list(ucdp.parse_rows(io.StringIO(text, newline=""), "23.1"))
    stream = ucdp.parse_rows(io.StringIO(text, newline=""), "23.1")
    there = [next(stream) for _ in range(10)]  # in this process, then the rest in the worker
    assert stream.offload(_accept)
    there += list(stream)
    stream.close()
    assert [_values(r) for r in there] == [_values(r) for r in here]
    errors = [r for r in here if isinstance(r, RowError)]
    assert len(errors) == 3
    assert errors[-1].line == text[: text.index("\r\n1,2,3\r\n")].count("\n") + 2
    assert all(isinstance(r, pipeline.WireEventRecord | RowError) for r in there[10:])


def test_the_worker_runs_the_checks_and_encodes_the_provenance() -> None:
    text = GED_SAMPLE.read_text(encoding="utf-8")
    here = {
        r.external_id: r
        for r in ucdp.parse_rows(io.StringIO(text, newline=""), "23.1")
        if isinstance(r, EventRecord)
    }
    stream = ucdp.parse_rows(io.StringIO(text, newline=""), "23.1")
    next(stream)
    assert stream.offload(
        lambda r: "odd" if int(r.external_id) % 2 else None, provenance=loader.provenance_json
    )
    rest = list(stream)
    stream.close()
    refused: list[Any] = [r for r in rest if isinstance(r, pipeline.Refused)]
    kept: list[Any] = [r for r in rest if not isinstance(r, RowError)]
    assert refused and all(int(r.external_id) % 2 and r.reason == "odd" for r in refused)
    assert all(r.line == here[r.external_id].line for r in refused)
    assert kept and all(int(r.external_id) % 2 == 0 for r in kept)
    for record in kept:  # what the provenance will store, and the values not sent twice
        assert record.provenance_json == loader.provenance_json(here[record.external_id])
        assert record.original is None


def test_read_ahead_is_bounded() -> None:
    """Memory stays flat: the file is read at most IN_FLIGHT chunks ahead of the rows taken."""
    text = ged_csv(ged_rows() * 12)
    lines = _Lines(text)
    stream = ucdp.parse_rows(cast(IO[str], lines), "23.1")
    next(stream)
    assert stream.offload(_accept)
    taken = 1 + sum(1 for _, _ in zip(range(3000), stream, strict=False))
    time.sleep(0.5)  # the worker fills what it may meanwhile
    # The header, the rows taken, the message being read, and IN_FLIGHT chunks.
    ahead = (pipeline.IN_FLIGHT + 1) * pipeline.CHUNK
    assert lines.lines_read <= 1 + taken + ahead + 50  # (a few rows span two lines)
    assert taken + sum(1 for _ in stream) == 12_000
    stream.close()


def test_a_file_that_stops_being_readable_gives_the_rows_before_then_fails() -> None:
    text = GED_SAMPLE.read_text(encoding="utf-8")
    here = list(ucdp.parse_rows(io.StringIO(text, newline=""), "23.1"))
    stream = ucdp.parse_rows(cast(IO[str], _Lines(text, fail_after=700)), "23.1")
    got = [next(stream)]
    assert stream.offload(_accept)
    with pytest.raises(UnicodeDecodeError):
        got.extend(stream)
    stream.close()
    # Every row complete before the failure, in order; no partial row reported as bad.
    assert [_values(r) for r in got] == [_values(r) for r in here[: len(got)]]
    # ... and the next row did not end before the failure (it ends where the one after starts).
    assert here[len(got) + 1].line - 1 > 700 and len(got) > 500


def test_a_worker_that_dies_is_a_failure_to_read_not_a_hang() -> None:
    stream = ucdp.parse_rows(io.StringIO(ged_csv(ged_rows() * 20), newline=""), "23.1")
    next(stream)
    assert stream.offload(_accept)
    next(stream)
    worker = stream._worker
    assert worker is not None
    os.kill(worker._process.pid, signal.SIGKILL)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="stopped"):
        for _ in stream:
            pass
    stream.close()
    assert not multiprocessing.active_children()


def test_closing_the_stream_stops_the_worker() -> None:
    stream = ucdp.parse_rows(io.StringIO(ged_csv(ged_rows() * 20), newline=""), "23.1")
    next(stream)
    assert stream.offload(_accept)
    next(stream)
    assert multiprocessing.active_children()
    stream.close()
    assert not multiprocessing.active_children()


def test_rows_given_as_dicts_stay_in_this_process() -> None:
    stream = ucdp.parse_rows(ged_rows()[:5], "23.1")
    next(stream)
    assert not stream.offload(_accept)
    assert len(list(stream)) == 4


# -- through the loader --------------------------------------------------------------------------


def _import(engine: Engine, text: str | IO[str], **options: Any) -> loader.ImportSummary:
    source = io.StringIO(text, newline="") if isinstance(text, str) else text
    return loader.import_records(
        engine,
        ucdp.parse_rows(source, "23.1"),
        GED_23_1,
        principal_id=principal(engine),
        **options,
    )


def test_an_import_in_two_processes_writes_what_one_process_writes(
    client: TestClient, engine: Engine, sqlite_template: Path, tmp_path: Path
) -> None:
    text, loaded = _messy_file()
    summary = _import(engine, text, batch_size=100, parallel=True)
    assert not multiprocessing.active_children()
    assert summary.created == len(loaded) == 598
    assert figures_from_api(client) == figures_from_csv(loaded)
    # The same file in one process (SQLite): the same rejections, the same rows written.
    path = tmp_path / "one-process.sqlite3"
    shutil.copyfile(sqlite_template, path)
    other = create_db_engine(f"sqlite:///{path}")
    try:
        alone = _import(other, text, batch_size=100, parallel=False)
        assert _data_counts(other) == _data_counts(engine)
    finally:
        other.dispose()
    assert [(e.line, e.reason) for e in summary.rejected] == [
        (e.line, e.reason) for e in alone.rejected
    ]
    # Again: all unchanged, nothing written (the worker is not started for unchanged rows).
    counts = counts_without_audit(engine)
    again = _import(engine, text, batch_size=100, parallel=True)
    assert (again.unchanged, again.created, again.updated) == (598, 0, 0)
    assert counts_without_audit(engine) == counts


def _data_counts(engine: Engine) -> dict[str, int]:
    counts = counts_without_audit(engine)
    counts.pop("api_key")  # the test client's
    return counts


def test_an_interrupted_import_leaves_no_worker(engine: Engine) -> None:
    def interrupt(rows: int) -> None:
        if rows > 300:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _import(engine, ged_csv(ged_rows()), batch_size=100, parallel=True, progress=interrupt)
    assert not multiprocessing.active_children()


def test_a_file_that_stops_being_readable_keeps_the_batches_before(engine: Engine) -> None:
    good = ged_csv(ged_rows()[:600]).encode()
    raw = io.BytesIO(good + b"\xff\xfe not UTF-8\r\n" + ged_csv(ged_rows()[600:610]).encode())
    text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
    with pytest.raises(ImportAborted) as info:
        _import(engine, text, batch_size=100, parallel=True)
    assert isinstance(info.value.cause, UnicodeDecodeError)
    assert info.value.summary.created % 100 == 0 and 100 < info.value.summary.created < 600
    assert not multiprocessing.active_children()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_killed_import_leaves_no_orphan(sqlite_template: Path, tmp_path: Path) -> None:
    """kill -9 of the importing process (no finally block runs): its worker goes with it."""
    path = tmp_path / "killed.sqlite3"
    shutil.copyfile(sqlite_template, path)
    data = tmp_path / "ged.csv"
    data.write_text(ged_csv(ged_rows() * 30), encoding="utf-8")
    script = textwrap.dedent(
        f"""
        from app.db.session import create_db_engine
        from app.datasets import loader, ucdp
        from app.formats.records import UCDP_GED
        engine = create_db_engine("sqlite:///{path}")
        with open({str(data)!r}, newline="", encoding="utf-8") as f:
            loader.import_records(
                engine, ucdp.parse_rows(f, "23.1"), UCDP_GED, principal_id=None,
                batch_size=200, parallel=True, progress=lambda n: print(n, flush=True),
            )
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()  # the first batch is in: the worker starts now
        workers: list[int] = []
        deadline = time.monotonic() + 30
        while not workers and time.monotonic() < deadline:
            workers = _children(process.pid)
            time.sleep(0.02)
        assert workers, "no worker process"
        process.kill()
        process.wait()
        deadline = time.monotonic() + 10
        while any(map(_alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not any(map(_alive, workers))
    finally:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
