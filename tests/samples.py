"""The real UCDP sample and the synthetic ACLED file (tests/data), parsed: fixtures for the
dataset and format tests (their conftest.py files take them from here). No database."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from app.datasets import ucdp
from app.formats import acled
from app.formats.records import EventRecord, RowError

DATA = Path(__file__).resolve().parent / "data"
GED_SAMPLE = DATA / "ucdp-ged-sample-1000.csv"
ACLED_SAMPLE = DATA / "acled-sample.csv"


@pytest.fixture(scope="session")
def ged_rows() -> list[dict[str, str]]:
    """The sample as the csv module reads it: the independent view the records are checked against."""
    with GED_SAMPLE.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="session")
def ged_results() -> list[EventRecord | RowError]:
    with GED_SAMPLE.open(newline="", encoding="utf-8") as f:
        return list(ucdp.parse_rows(f, "23.1"))


@pytest.fixture(scope="session")
def ged_records(ged_results: list[EventRecord | RowError]) -> dict[str, EventRecord]:
    return {r.external_id: r for r in ged_results if isinstance(r, EventRecord)}


@pytest.fixture(scope="session")
def acled_results() -> list[EventRecord | RowError]:
    with ACLED_SAMPLE.open(newline="", encoding="utf-8") as f:
        return list(acled.parse_rows(f))


@pytest.fixture(scope="session")
def acled_records(acled_results: list[EventRecord | RowError]) -> dict[str, EventRecord]:
    return {r.external_id: r for r in acled_results if isinstance(r, EventRecord)}
