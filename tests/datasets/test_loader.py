"""The dataset loader on both databases: the real UCDP sample in, its figures out, re-imports
(unchanged, updated, conflicting edits, prune), bad rows, strict mode, ACLED, provenance."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections import Counter
from collections.abc import Iterable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update

from app import writer
from app.auth import service as auth_service
from app.datasets import loader, ucdp
from app.datasets.loader import ImportSummary
from app.db.session import read_session
from app.formats import acled
from app.formats import countries as country_codes
from app.formats.records import ACLED, UCDP_GED, EventRecord, RowError
from app.models import (
    Actor,
    Article,
    AuditEntry,
    Event,
    EventProvenance,
    EventRevision,
    EventSource,
    Outlet,
    Place,
)
from app.writer.transaction import write_session
from tests.conftest import demo_report
from tests.helpers import row_counts
from tests.samples import ACLED_SAMPLE, GED_SAMPLE

GED_23_1 = dataclasses.replace(UCDP_GED, version="23.1")
# GED's type_of_violence as the documented mapping turns it into our event types.
GED_TYPES = {"1": "Battles", "2": "Battles", "3": "Violence against civilians"}


# -- helpers (the CLI and export tests use them too) -------------------------------------------


def ged_rows() -> list[dict[str, str]]:
    with GED_SAMPLE.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def ged_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def principal(engine: Engine) -> int:
    with write_session(engine) as session:
        return auth_service.local_principal(session)


def import_ged(engine: Engine, rows: list[dict[str, str]] | str, **options: Any) -> ImportSummary:
    text = rows if isinstance(rows, str) else ged_csv(rows)
    records = ucdp.parse_rows(io.StringIO(text, newline=""), "23.1")
    return loader.import_records(
        engine, records, GED_23_1, principal_id=principal(engine), **options
    )


def import_records(
    engine: Engine, records: Iterable[EventRecord | RowError], **options: Any
) -> ImportSummary:
    return loader.import_records(
        engine, records, GED_23_1, principal_id=principal(engine), **options
    )


def import_acled(engine: Engine, text: str, **options: Any) -> ImportSummary:
    records = acled.parse_rows(io.StringIO(text, newline=""))
    return loader.import_records(engine, records, ACLED, principal_id=principal(engine), **options)


def counts_without_audit(engine: Engine) -> dict[str, int]:
    counts = row_counts(engine)
    counts.pop("audit_log")
    return counts


def audit_count(engine: Engine) -> int:
    with read_session(engine) as session:
        return int(session.execute(select(func.count()).select_from(AuditEntry)).scalar_one())


def event_id_of(engine: Engine, external_id: str) -> int:
    with read_session(engine) as session:
        return int(
            session.execute(
                select(Event.id).where(Event.external_id == f"ucdp-ged:{external_id}")
            ).scalar_one()
        )


def figures_from_csv(rows: list[dict[str, str]]) -> tuple[Counter[Any], Counter[Any]]:
    """Event counts and best-estimate sums per (ISO country, year, event type), from the CSV."""
    count: Counter[Any] = Counter()
    best: Counter[Any] = Counter()
    for row in rows:
        key = (
            country_codes.alpha2_from_name(row["country"]),
            int(row["date_start"][:4]),
            GED_TYPES[row["type_of_violence"]],
        )
        count[key] += 1
        best[key] += int(row["best"])
    return count, best


def figures_from_api(client: TestClient) -> tuple[Counter[Any], Counter[Any]]:
    count: Counter[Any] = Counter()
    best: Counter[Any] = Counter()
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/events", params=params).json()
        for event in page["data"]:
            key = (event["country"], int(event["date_start"][:4]), event["event_type"])
            count[key] += 1
            best[key] += event["fatalities_best"]
        cursor = page["next_cursor"]
        if cursor is None:
            return count, best


# -- the real sample ---------------------------------------------------------------------------


def test_the_real_sample_loads_and_its_figures_match_the_csv_twice(
    client: TestClient, engine: Engine
) -> None:
    rows = ged_rows()
    expected = figures_from_csv(rows)
    assert sum(expected[0].values()) == 1000

    first = import_ged(engine, GED_SAMPLE.read_text(encoding="utf-8"), batch_size=300)
    assert (first.rows, first.created, first.updated, first.unchanged) == (1000, 1000, 0, 0)
    assert first.rejected == [] and first.conflicts == []
    assert figures_from_api(client) == expected

    before, audits = counts_without_audit(engine), audit_count(engine)
    again = import_ged(engine, GED_SAMPLE.read_text(encoding="utf-8"), batch_size=300)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1000)
    # Nothing written but the audit row recording that the import ran.
    assert counts_without_audit(engine) == before
    assert audit_count(engine) == audits + 1
    assert figures_from_api(client) == expected

    with read_session(engine) as session:
        # One event, one provenance row and one 'create' revision per row; every GED row
        # with sources cites at least one article.
        assert session.execute(select(func.count()).select_from(EventProvenance)).scalar() == 1000
        actions = Counter(session.scalars(select(EventRevision.action)))
        assert actions == {"create": 1000}
        unsourced = session.execute(
            select(func.count())
            .select_from(Event)
            .where(~Event.id.in_(select(EventSource.event_id)))
        ).scalar()
    assert unsourced == sum(1 for r in rows if not r["source_article"].strip())


def test_names_resolve_to_one_record_each(client: TestClient, engine: Engine) -> None:
    rows = ged_rows()[:300]
    import_ged(engine, rows, batch_size=70)
    with read_session(engine) as session:
        countries = session.execute(
            select(Place.country, func.count())
            .where(Place.kind == "country")
            .group_by(Place.country)
        ).all()
        outlets = list(session.scalars(select(Outlet.name_norm)))
        governments = session.execute(
            select(Actor.name, Actor.country).where(Actor.name == "Government of Syria")
        ).all()
    assert all(n == 1 for _, n in countries)
    assert {c for c, _ in countries} == {country_codes.alpha2_from_name(r["country"]) for r in rows}
    assert len(outlets) == len(set(outlets))
    assert governments == [("Government of Syria", "SY")]


def test_provenance_in_the_event_detail(client: TestClient, engine: Engine) -> None:
    rows = ged_rows()
    import_ged(engine, rows[:5])
    event = client.get(f"/v1/events/{event_id_of(engine, '300380')}").json()
    provenance = event["provenance"]
    assert provenance["dataset"] == "ucdp-ged"
    assert provenance["version"] == "23.1"
    assert provenance["external_id"] == "300380"
    assert provenance["licence"] == "CC BY 4.0"
    assert provenance["citation"].startswith("Sundberg, Ralph, and Erik Melander, 2013")
    assert provenance["url"] == "https://ucdp.uu.se/downloads/"
    assert provenance["original"]["relid"] == "SYR-2013-1-11973-99"
    assert provenance["original"]["type_of_violence"] == "1"
    assert (provenance["original"]["latitude"], provenance["original"]["longitude"]) == (
        "35.763369",
        "36.558974",
    )
    assert provenance["flags"] == []
    assert event["external_id"] == "ucdp-ged:300380"
    assert [s["outlet"]["name"] for s in event["sources"]] == ["Support Kurds in Syria", "VDC"]
    assert event["place"]["ancestors"][0]["name"] == "Syria"
    # An event that was not imported has none.
    created = client.post("/v1/reports", json=demo_report())
    some_id = next(iter(created.json()["events"].values()))
    assert client.get(f"/v1/events/{some_id}").json()["provenance"] is None


def test_a_changed_row_updates_its_event_with_a_revision(
    client: TestClient, engine: Engine
) -> None:
    rows = ged_rows()[:20]
    import_ged(engine, rows)
    changed = [dict(r) for r in rows]
    target = changed[3]
    old_best = int(target["best"])
    target["best"] = str(old_best + 7)
    summary = import_ged(engine, changed)
    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 19)
    assert summary.conflicts == [] and summary.rejected == []

    event_id = event_id_of(engine, target["id"])
    event = client.get(f"/v1/events/{event_id}").json()
    assert event["fatalities_best"] == old_best + 7
    assert event["version"] == 2
    history = client.get(f"/v1/events/{event_id}/history").json()["data"]
    assert [h["action"] for h in history] == ["create", "import_update"]
    changes = history[-1]["changes"]
    assert changes["fatalities_best"] == {"before": old_best, "after": old_best + 7}
    assert history[-1]["api_key_id"] == principal(engine)
    # The provenance follows: the next import of the same file changes nothing.
    before = counts_without_audit(engine)
    assert import_ged(engine, changed).unchanged == 20
    assert counts_without_audit(engine) == before


def test_an_event_edited_through_the_api_keeps_its_edit(client: TestClient, engine: Engine) -> None:
    rows = ged_rows()[:10]
    import_ged(engine, rows)
    target = rows[2]
    event_id = event_id_of(engine, target["id"])
    url = f"/v1/events/{event_id}"
    etag = client.get(url).headers["etag"]
    edited = client.patch(url, json={"summary": "Checked by hand."}, headers={"If-Match": etag})
    assert edited.status_code == 200, edited.text

    # The same file: unchanged rows, the edit stays.
    assert import_ged(engine, rows).unchanged == 10
    # A release that changes the edited row: a conflict, reported with its line; edit kept.
    changed = [dict(r) for r in rows]
    changed[2]["best"] = str(int(target["best"]) + 1)
    changed[5]["best"] = str(int(rows[5]["best"]) + 1)
    summary = import_ged(engine, changed)
    assert (summary.updated, summary.unchanged, summary.conflict_count) == (1, 8, 1)
    (conflict,) = summary.conflicts
    assert (conflict.external_id, conflict.event_id, conflict.line) == (target["id"], event_id, 4)
    assert "changed through the API" in conflict.reason
    event = client.get(url).json()
    assert event["summary"] == "Checked by hand."
    assert event["fatalities_best"] == int(target["best"])


def test_an_event_changed_after_the_loader_read_it_is_a_conflict(
    client: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer applies a changed row only to an event still at the version the loader
    read (it reads them again, locked): one that moved on in between is left as it is and
    reported, and the other rows of the batch update."""
    rows = ged_rows()[:10]
    import_ged(engine, rows)
    changed = [dict(r) for r in rows]
    for row in (changed[2], changed[5]):
        row["best"] = str(int(row["best"]) + 1)
    moved = event_id_of(engine, rows[2]["id"])
    apply = writer.update_imported_events

    def after_someone_else(session: Any, updates: Any, **kwargs: Any) -> dict[int, int]:
        # As if another writer had changed the event between the loader's read and its write.
        session.execute(update(Event).where(Event.id == moved).values(version=Event.version + 1))
        return apply(session, updates, **kwargs)

    monkeypatch.setattr(writer, "update_imported_events", after_someone_else)
    summary = import_ged(engine, changed)
    assert (summary.updated, summary.unchanged, summary.conflict_count) == (1, 8, 1)
    (conflict,) = summary.conflicts
    assert conflict.event_id == moved and "changed through the API" in conflict.reason
    event = client.get(f"/v1/events/{moved}").json()
    assert event["fatalities_best"] == int(rows[2]["best"])  # not this import's value
    assert [h["action"] for h in client.get(f"/v1/events/{moved}/history").json()["data"]] == [
        "create"
    ]
    other = client.get(f"/v1/events/{event_id_of(engine, rows[5]['id'])}").json()
    assert (other["fatalities_best"], other["version"]) == (int(changed[5]["best"]), 2)

    # The batch's only changed row, changed meanwhile: nothing to apply, and no failure.
    moved = event_id_of(engine, rows[7]["id"])
    again = [dict(r) for r in changed]
    again[2] = dict(rows[2])  # as stored: unchanged
    again[7]["best"] = str(int(rows[7]["best"]) + 1)
    summary = import_ged(engine, again)
    assert (summary.updated, summary.unchanged, summary.conflict_count) == (0, 9, 1)
    assert summary.conflicts[0].event_id == moved and summary.rejected == []


def test_prune_retracts_the_events_a_file_no_longer_has(client: TestClient, engine: Engine) -> None:
    rows = ged_rows()[:12]
    import_ged(engine, rows)
    events_before = counts_without_audit(engine)["event"]
    summary = import_ged(engine, rows[:9], prune=True)
    assert (summary.unchanged, summary.retracted) == (9, 3)
    assert counts_without_audit(engine)["event"] == events_before  # retracted, not deleted
    for row in rows[9:]:
        event = client.get(f"/v1/events/{event_id_of(engine, row['id'])}").json()
        assert event["status"] == "retracted"
        assert event["retraction_reason"] == "absent from ucdp-ged 23.1"
    listed = client.get("/v1/events", params={"limit": 100}).json()["data"]
    assert len(listed) == 9
    # Without --prune nothing is retracted; a later file with the rows brings them back.
    assert import_ged(engine, rows[:9]).retracted == 0
    back = import_ged(engine, rows)
    assert (back.updated, back.unchanged) == (3, 9)
    assert len(client.get("/v1/events", params={"limit": 100}).json()["data"]) == 12


def test_prune_leaves_an_event_changed_after_the_loader_read_it(
    client: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An event another writer changed between prune's read and its write is kept, and
    reported; the other absent events are retracted."""
    rows = ged_rows()[:12]
    import_ged(engine, rows)
    moved = event_id_of(engine, rows[10]["id"])
    retract = writer.retract_imported_events

    def after_someone_else(session: Any, events: Any, reason: str, **kwargs: Any) -> Any:
        session.execute(update(Event).where(Event.id == moved).values(version=Event.version + 1))
        return retract(session, events, reason, **kwargs)

    monkeypatch.setattr(writer, "retract_imported_events", after_someone_else)
    summary = import_ged(engine, rows[:9], prune=True)
    assert (summary.unchanged, summary.retracted, summary.conflict_count) == (9, 2, 1)
    (conflict,) = summary.conflicts
    assert conflict.event_id == moved and "edited meanwhile" in conflict.reason
    assert client.get(f"/v1/events/{moved}").json()["status"] == "active"
    for row in (rows[9], rows[11]):
        event = client.get(f"/v1/events/{event_id_of(engine, row['id'])}").json()
        assert (event["status"], event["version"]) == ("retracted", 2)


def test_prune_keeps_events_edited_since_their_import(client: TestClient, engine: Engine) -> None:
    rows = ged_rows()[:4]
    import_ged(engine, rows)
    url = f"/v1/events/{event_id_of(engine, rows[3]['id'])}"
    client.patch(
        url, json={"summary": "Kept."}, headers={"If-Match": client.get(url).headers["etag"]}
    )
    summary = import_ged(engine, rows[:2], prune=True)
    assert summary.retracted == 1
    assert [c.external_id for c in summary.conflicts] == [rows[3]["id"]]
    assert client.get(url).json()["status"] == "active"


def test_prune_is_refused_when_a_rejected_row_has_no_id(engine: Engine, client: TestClient) -> None:
    rows = ged_rows()[:3]
    import_ged(engine, rows)
    text = ged_csv(rows[:1]) + "too,few,fields\r\n"
    summary = import_ged(engine, text, prune=True)
    assert summary.retracted == 0
    assert summary.rejected[0].line == 3
    assert any("prune skipped" in n for n in summary.notes)


# -- bad rows ----------------------------------------------------------------------------------


def test_bad_rows_are_reported_by_line_and_the_rest_load(
    client: TestClient, engine: Engine
) -> None:
    rows = [dict(r) for r in ged_rows()[:30]]
    rows[4]["date_start"] = "2013-02-30"
    rows[11]["country"] = "Atlantis"
    rows[20]["id"] = rows[19]["id"]  # a duplicate id
    text = ged_csv(rows)
    summary = import_ged(engine, text, batch_size=8)
    lines = {r.line: r.reason for r in summary.rejected}
    assert summary.created == 27
    assert sorted(lines) == sorted(_line_of(text, rows[i]["relid"]) for i in (4, 11, 20)), lines
    assert "is not a date" in lines[_line_of(text, rows[4]["relid"])]
    assert "unknown country 'Atlantis'" in lines[_line_of(text, rows[11]["relid"])]
    assert "appears earlier in the file" in lines[_line_of(text, rows[20]["relid"])]


def test_values_too_wide_for_their_columns_are_refused_alike_on_both_databases(
    client: TestClient, engine: Engine
) -> None:
    rows = [dict(r) for r in ged_rows()[:6]]
    rows[1]["adm_1"] = "A" * 301
    # 20 characters whose normalised form (compatibility decomposition) is 360.
    rows[3]["side_b"] = "\ufdfa" * 20
    text = ged_csv(rows)
    summary = import_ged(engine, text)
    assert summary.created == 4
    assert [(e.line, e.reason.split(":")[0]) for e in summary.rejected] == [
        (_line_of(text, rows[1]["relid"]), "place name longer than 300 characters"),
        (_line_of(text, rows[3]["relid"]), "actor name longer than 300 characters"),
    ]
    with pytest.raises(ValueError, match="longer than 50"):
        loader.import_records(
            engine, [], dataclasses.replace(UCDP_GED, version="9" * 51), principal_id=None
        )


def _line_of(text: str, relid: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if f",{relid}," in line)


def _records(rows: list[dict[str, str]]) -> list[EventRecord]:
    results = list(ucdp.parse_rows(io.StringIO(ged_csv(rows), newline=""), "23.1"))
    assert all(isinstance(r, EventRecord) for r in results)
    return results  # type: ignore[return-value]


def test_a_row_the_database_refuses_is_isolated_and_nothing_of_it_is_written(
    client: TestClient, engine: Engine
) -> None:
    rows = ged_rows()[:40]
    records = _records(rows)
    # Passes every check made before writing, but breaks the event's CHECK constraint. It is
    # first in its batch, so the places and actors it creates are the ones its neighbours use.
    bad = dataclasses.replace(records[16], geo_precision=5)
    records[16] = bad
    summary = import_records(engine, records, batch_size=16)
    assert summary.created == 39
    ((line, external_id),) = [(r.line, r.external_id) for r in summary.rejected]
    assert (line, external_id) == (bad.line, bad.external_id)
    assert "the database refused the row" in summary.rejected[0].reason
    with read_session(engine) as session:
        assert (
            session.execute(select(Event.id).where(Event.external_id == bad.event_key)).first()
            is None
        )
        # No article was left behind by the refused row alone.
        titles = set(session.scalars(select(Article.title)))
    others = {s.headline for r in records if r is not bad for s in r.sources}
    only_bad = {s.headline for s in bad.sources if s.headline} - others
    assert only_bad and not only_bad & titles
    # The fixed row loads later: nothing of it was half written.
    assert import_records(engine, [dataclasses.replace(bad, geo_precision=1)]).created == 1


def test_strict_writes_nothing_when_a_row_is_bad(client: TestClient, engine: Engine) -> None:
    rows = [dict(r) for r in ged_rows()[:25]]
    rows[17]["low"] = "-4"
    principal(engine)
    before = row_counts(engine)
    summary = import_ged(engine, rows, strict=True, batch_size=10)
    assert summary.aborted
    assert (summary.created, summary.updated) == (0, 0)
    assert [e.reason for e in summary.rejected] == ["low is negative (-4)"]
    assert row_counts(engine) == before


def test_strict_writes_nothing_when_the_database_refuses_a_row(
    client: TestClient, engine: Engine
) -> None:
    records = _records(ged_rows()[:12])
    records[7] = dataclasses.replace(records[7], geo_precision=9)
    principal(engine)
    before = row_counts(engine)
    summary = import_records(engine, records, strict=True, batch_size=5)
    assert summary.aborted
    assert [e.line for e in summary.rejected] == [records[7].line]
    assert row_counts(engine) == before
    # Without --strict the same records load but the one.
    assert import_records(engine, records).created == 11


def test_strict_without_bad_rows_loads_everything_in_one_go(
    client: TestClient, engine: Engine
) -> None:
    summary = import_ged(engine, ged_rows()[:15], strict=True, batch_size=4)
    assert (summary.created, summary.aborted) == (15, False)
    assert len(client.get("/v1/events").json()["data"]) == 15


def test_an_external_id_taken_by_another_event_is_a_conflict(
    client: TestClient, engine: Engine
) -> None:
    report = demo_report()
    taken = "ucdp-ged:300380"
    report["events"][0]["external_id"] = taken
    created = client.post("/v1/reports", json=report)
    assert created.status_code == 201, created.text
    summary = import_ged(engine, ged_rows()[:3])
    assert summary.created == 2
    (conflict,) = summary.conflicts
    assert conflict.external_id == "300380"
    assert "was not imported from ucdp-ged" in conflict.reason


def test_the_import_is_audited_once_with_its_summary(client: TestClient, engine: Engine) -> None:
    rows = [dict(r) for r in ged_rows()[:6]]
    rows[1]["date_end"] = "1900-01-01"
    import_ged(engine, rows)
    with read_session(engine) as session:
        audits = session.execute(
            select(AuditEntry.action, AuditEntry.api_key_id, AuditEntry.detail).where(
                AuditEntry.action == "import.run"
            )
        ).all()
    ((_, key_id, detail),) = audits
    assert key_id == principal(engine)
    assert detail["dataset"] == "ucdp-ged" and detail["version"] == "23.1"
    assert (detail["created"], detail["rejected"], detail["unchanged"]) == (5, 1, 0)
    assert detail["first_rejected"][0]["line"] == 3


# -- ACLED -------------------------------------------------------------------------------------


def test_the_acled_sample_loads(client: TestClient, engine: Engine) -> None:
    summary = import_acled(engine, ACLED_SAMPLE.read_text(encoding="utf-8"))
    assert (summary.created, summary.rejected_count) == (26, 7)
    assert [e.line for e in summary.rejected] == [12, 13, 14, 26, 27, 28, 29]
    with read_session(engine) as session:
        provenance = session.execute(
            select(EventProvenance.external_id, Event.id).join(
                Event, Event.id == EventProvenance.event_id
            )
        ).all()
    by_id = {external_id: event_id for external_id, event_id in provenance}
    records = {
        r.external_id: r
        for r in acled.parse_rows(io.StringIO(ACLED_SAMPLE.read_text(encoding="utf-8"), newline=""))
        if isinstance(r, EventRecord)
    }
    assert set(by_id) == set(records)
    for external_id, record in records.items():
        event = client.get(f"/v1/events/{by_id[external_id]}").json()
        assert event["external_id"] == f"acled:{external_id}"
        assert event["provenance"]["dataset"] == "acled"
        assert event["event_type"] == record.event_type
        assert event["fatalities_best"] == record.fatalities_best
        assert {(a["name"], a["side"], a["role"]) for a in event["actors"]} == {
            (a.name, a.side, a.role) for a in _unique_actors(record)
        }
        assert sorted(s["outlet"]["name"] for s in event["sources"]) == sorted(
            s.outlet for s in record.sources if s.outlet
        )
        chain = [p["name"] for p in event["place"]["ancestors"]] + [event["place"]["name"]]
        assert chain == [p.name for p in record.places]
    assert import_acled(engine, ACLED_SAMPLE.read_text(encoding="utf-8")).unchanged == 26


def _unique_actors(record: EventRecord) -> list[Any]:
    seen: dict[str, Any] = {}
    for actor in record.actors:
        seen.setdefault(actor.name, actor)
    return list(seen.values())


def test_ged_and_acled_share_places_and_actors_by_name(client: TestClient, engine: Engine) -> None:
    import_ged(engine, ged_rows()[:50])
    with read_session(engine) as session:
        places_before = session.execute(select(func.count()).select_from(Place)).scalar()
    header = ",".join(acled.ACLED_COLUMNS)
    row = dict.fromkeys(acled.ACLED_COLUMNS, "")
    row.update(
        event_id_cnty="SYR1",
        event_date="2013-01-04",
        time_precision="1",
        event_type="Battles",
        sub_event_type="Armed clash",
        actor1="Government of Syria",
        inter1="1",
        country="Syria",
        iso="760",
        admin1="Idlib",
        admin2="Ariha",
        location="Rami",
        latitude="35.763369",
        longitude="36.558974",
        geo_precision="1",
        source="VDC",
        fatalities="1",
    )
    out = io.StringIO(newline="")
    csv.DictWriter(out, fieldnames=acled.ACLED_COLUMNS).writerow(row)
    summary = import_acled(engine, header + "\r\n" + out.getvalue())
    assert summary.created == 1
    with read_session(engine) as session:
        places_after = session.execute(select(func.count()).select_from(Place)).scalar()
        governments = session.execute(
            select(func.count()).select_from(Actor).where(Actor.name == "Government of Syria")
        ).scalar()
        vdc = session.execute(
            select(func.count()).select_from(Outlet).where(Outlet.name == "VDC")
        ).scalar()
    # Syria > Idlib > Ariha > Rami came from GED ("Idlib governorate", "Ariha district").
    assert places_after == places_before
    assert (governments, vdc) == (1, 1)


def test_ucdp_side_ids_keep_two_actors_of_one_name_apart(
    client: TestClient, engine: Engine
) -> None:
    rows = ged_rows()[:2]
    twins = [dict(rows[0]), dict(rows[1])]
    twins[0].update(side_b="DPR", side_b_new_id="9001", side_b_dset_id="9001")
    twins[1].update(side_b="DPR", side_b_new_id="9002", side_b_dset_id="9002")
    import_ged(engine, [twins[0]])
    import_ged(engine, [twins[1]])
    with read_session(engine) as session:
        assert (
            session.execute(
                select(func.count()).select_from(Actor).where(Actor.name == "DPR")
            ).scalar()
            == 2
        )


def test_a_joint_side_links_each_group_as_an_actor_of_the_event(
    client: TestClient, engine: Engine
) -> None:
    """The sample's joint sides name several groups under one UCDP id ("Giants Brigade, STC"):
    the coalition stays as the row names it, and each group is an actor of the event on that
    side too, 'member_of' the coalition, found by name where it fights alone."""
    rows = ged_rows()
    joint = next(r for r in rows if r["id"] == "447228")
    assert (joint["side_a"], joint["side_a_new_id"]) == ("Giants Brigade, STC", "8527")
    alone = dict(rows[1], id="990001", side_a="STC", side_a_new_id="", side_a_dset_id="")
    assert import_ged(engine, [joint, alone]).created == 2
    event = client.get(f"/v1/events/{event_id_of(engine, '447228')}").json()
    actors = {(a["name"], a["side"], a["role"]): a for a in event["actors"]}
    assert set(actors) == {
        ("Giants Brigade, STC", "a", "primary"),
        ("Giants Brigade", "a", "primary"),
        ("STC", "a", "primary"),
        (joint["side_b"], "b", "primary"),
    }
    assert actors[("Giants Brigade, STC", "a", "primary")]["kind"] == "coalition"
    assert actors[("STC", "a", "primary")]["kind"] == "rebel_group"
    coalition = actors[("Giants Brigade, STC", "a", "primary")]["id"]
    for group in ("Giants Brigade", "STC"):
        detail = client.get(f"/v1/actors/{actors[(group, 'a', 'primary')]['id']}").json()
        assert [(t["actor"]["id"], t["relation"]) for t in detail["affiliations"]] == [
            (coalition, "member_of")
        ]
    # The group fighting alone is the same actor.
    other = client.get(f"/v1/events/{event_id_of(engine, '990001')}").json()
    assert actors[("STC", "a", "primary")]["id"] in {a["id"] for a in other["actors"]}
    # The provenance keeps the row's own text, and a re-import changes nothing.
    assert event["provenance"]["original"]["side_a"] == "Giants Brigade, STC"
    before = counts_without_audit(engine)
    assert import_ged(engine, [joint, alone]).unchanged == 2
    assert counts_without_audit(engine) == before


def test_a_joint_side_with_one_id_per_group_gives_each_group_its_id(
    client: TestClient, engine: Engine
) -> None:
    rows = ged_rows()
    allies = dict(
        rows[0],
        side_b="Government of Australia, Government of United Kingdom",
        side_b_new_id="9101, 9102",
        side_b_dset_id="9101, 9102",
    )
    # The UK alone, under its own id, and under another name: the id decides.
    alone = dict(
        rows[1], id="990002", side_b="Government of UK", side_b_new_id="9102", side_b_dset_id="9102"
    )
    assert import_ged(engine, [allies, alone], batch_size=1).created == 2
    event = client.get(f"/v1/events/{event_id_of(engine, allies['id'])}").json()
    on_b = {a["name"]: a for a in event["actors"] if a["side"] == "b"}
    assert set(on_b) == {
        "Government of Australia, Government of United Kingdom",
        "Government of Australia",
        "Government of United Kingdom",
    }
    assert (
        on_b["Government of Australia"]["kind"],
        on_b["Government of Australia"]["country"],
    ) == (
        "state_forces",
        "AU",
    )
    assert on_b["Government of United Kingdom"]["country"] == "GB"
    other = client.get(f"/v1/events/{event_id_of(engine, '990002')}").json()
    assert on_b["Government of United Kingdom"]["id"] in {
        a["id"] for a in other["actors"] if a["side"] == "b"
    }


def test_rows_are_pulled_a_batch_at_a_time(client: TestClient, engine: Engine) -> None:
    """The loader writes each batch before it reads the next: memory does not grow with the
    file (what it keeps per row is its id, for duplicates and prune)."""
    rows = ged_rows()[:50]
    pulled = 0
    seen_at_progress: list[tuple[int, int]] = []

    def stream() -> Iterable[EventRecord | RowError]:
        nonlocal pulled
        for record in _records(rows):
            pulled += 1
            yield record

    summary = import_records(
        engine,
        stream(),
        batch_size=10,
        progress=lambda n: seen_at_progress.append((n, pulled)),
    )
    assert summary.created == 50
    # Each batch is committed before a row of the next is read.
    assert seen_at_progress == [(10, 10), (20, 20), (30, 30), (40, 40), (50, 50)]


@pytest.mark.parametrize("batch_size", [1, 7])
def test_batch_size_does_not_change_the_result(
    client: TestClient, engine: Engine, batch_size: int
) -> None:
    rows = ged_rows()[:15]
    summary = import_ged(engine, rows, batch_size=batch_size)
    assert summary.created == 15
    assert figures_from_api(client) == figures_from_csv(rows)
