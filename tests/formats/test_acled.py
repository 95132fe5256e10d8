"""ACLED parsing over the synthetic codebook sample, and the ACLED CSV writer's round trip."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import date

import pytest

from app.formats import acled
from app.formats.csvfile import LayoutError
from app.formats.records import ActorSpec, EventRecord, PlaceSpec, RowError, SourceSpec
from tests.samples import ACLED_SAMPLE, GED_SAMPLE


def _parse_text(text: str) -> list[EventRecord | RowError]:
    return list(acled.parse_rows(io.StringIO(text, newline="")))


def _write(records: list[EventRecord]) -> str:
    out = io.StringIO(newline="")
    assert acled.write_acled_csv(records, out) == len(records)
    return out.getvalue()


def _without_line(record: EventRecord | RowError) -> EventRecord:
    assert isinstance(record, EventRecord), record
    return dataclasses.replace(record, line=0)


def test_the_sample_parses_and_bad_rows_are_rejected_at_their_lines(
    acled_results: list[EventRecord | RowError],
) -> None:
    errors = [r for r in acled_results if isinstance(r, RowError)]
    assert errors == [
        RowError(12, "event_date '2023-13-45' is not a date (YYYY-MM-DD)", "SYR90901"),
        RowError(13, "unknown event_type 'Skirmishes'", "SYR90902"),
        RowError(14, "event_id_cnty is empty", None),
        RowError(26, "unknown country 'Atlantis' (iso '999')", "NIG90901"),
        RowError(
            27,
            "sub_event_type 'Peaceful protest' is not a kind of 'Violence against civilians'",
            "NIG90902",
        ),
        RowError(28, "fatalities is negative (-3)", "NIG90903"),
        RowError(
            29,
            "inter1 '9' is not an ACLED actor category (1-8) for "
            "'Military Forces of Mexico (2018-2024)'",
            "MEX90901",
        ),
    ]
    records = [r for r in acled_results if isinstance(r, EventRecord)]
    assert len(records) == 26
    assert len({r.places[0].country for r in records}) == 15
    # The note of the row at line 21 spans two lines: the rows after it are counted right.
    assert [r.line for r in records if r.external_id in ("PSE90001", "MMR90001")] == [21, 23]


def test_a_full_record(acled_records: dict[str, EventRecord]) -> None:
    record = acled_records["SYR90001"]
    assert record.dataset == "acled" and record.event_key == "acled:SYR90001"
    assert (record.event_type, record.sub_event_type) == (
        "Explosions/Remote violence",
        "Shelling/artillery/missile attack",
    )
    assert (record.date_start, record.date_end, record.date_precision) == (
        date(2023, 3, 3),
        date(2023, 3, 3),
        "day",
    )
    assert record.places == (
        PlaceSpec(name="Syria", kind="country", country="SY"),
        PlaceSpec(name="Idlib", kind="admin1", country="SY"),
        PlaceSpec(name="Maarrat An Nu'man", kind="admin2", country="SY"),
        PlaceSpec(name="Kafr Nabl", kind="admin3", country="SY"),
        PlaceSpec(
            name="Kafr Nabl",
            kind="populated_place",
            country="SY",
            latitude=35.6137,
            longitude=36.5594,
        ),
    )
    # Countries the names state (issue 12: one actor across sources).
    assert record.actors == (
        ActorSpec(
            name="Military Forces of Syria (2000-)", kind="state_forces", side="a", country="SY"
        ),
        ActorSpec(name="Civilians (Syria)", kind="civilians", side="b", country="SY"),
    )
    # Every coded column as a dimension (issue 12).
    assert record.dimensions == (
        ("acled.inter1", "1", None),
        ("acled.inter2", "7", None),
        ("acled.interaction", "17", None),
        ("acled.disorder_type", "Political violence", None),
        ("acled.civilian_targeting", "Civilian targeting", None),
        ("acled.admin1", "Idlib", None),
        ("acled.admin2", "Maarrat An Nu'man", None),
        ("acled.admin3", "Kafr Nabl", None),
        ("acled.iso", "760", None),
        ("acled.region", "Middle East", None),
        ("acled.source_scale", "National-Regional", None),
    )
    assert record.sources == (
        SourceSpec(outlet="Syrian Observatory for Human Rights"),
        SourceSpec(outlet="Step News Agency"),
    )
    assert record.summary == (
        'On 3 March 2023, regime forces shelled Kafr Nabl, "killing 2 civilians", '
        "a local source said."
    )
    assert (record.fatalities_low, record.fatalities_best, record.fatalities_high) == (
        None,
        2,
        None,
    )
    assert record.geo_precision == 1
    assert record.original == {
        "year": "2023",
        "disorder_type": "Political violence",
        "inter1": "1",
        "inter2": "7",
        "interaction": "17",
        "civilian_targeting": "Civilian targeting",
        "iso": "760",
        "region": "Middle East",
        "country": "Syria",
        "source_scale": "National-Regional",
        "timestamp": "1678300000",
    }


def test_time_precisions(acled_records: dict[str, EventRecord]) -> None:
    assert {r.date_precision for r in acled_records.values()} == {"day", "week", "month"}
    assert acled_records["SYR90002"].date_precision == "week"
    assert acled_records["SYR90003"].date_precision == "month"
    # Older exports write the date in words.
    assert acled_records["SUD90002"].date_start == date(2023, 4, 15)


def test_associated_actors_and_sources_are_split(acled_records: dict[str, EventRecord]) -> None:
    protest = acled_records["NIG90001"]
    assert protest.actors == (
        ActorSpec(name="Protesters (Nigeria)", kind="protesters", side="a", country="NG"),
        ActorSpec(
            name="Labor Group (Nigeria)",
            kind="protesters",
            side="a",
            role="associated",
            country="NG",
        ),
        ActorSpec(
            name="Students (Nigeria)", kind="protesters", side="a", role="associated", country="NG"
        ),
        ActorSpec(
            name="Women (Nigeria)", kind="protesters", side="a", role="associated", country="NG"
        ),
    )
    assert [s.outlet for s in protest.sources] == [
        "Premium Times",
        "Punch (Nigeria)",
        "Vanguard (Nigeria)",
    ]
    battle = acled_records["SYR90002"]
    assert [(a.name, a.side, a.role) for a in battle.actors] == [
        ("HTS: Hayat Tahrir al-Sham", "a", "primary"),
        ("Military Forces of Syria (2000-)", "b", "primary"),
        ("NDF: National Defense Forces", "b", "associated"),
        ("Liwa al-Quds", "b", "associated"),
    ]


def test_inter_codes_and_labels_map_to_actor_kinds(acled_records: dict[str, EventRecord]) -> None:
    kinds = {a.kind for r in acled_records.values() for a in r.actors}
    assert kinds == set(acled.INTER_KINDS.values())
    # Newer exports write the category's name.
    assert [a.kind for a in acled_records["SUD90002"].actors] == ["state_forces", "rebel_group"]
    assert acled_records["SUD90002"].original["inter1"] == "State forces"


def test_fatalities_zero_and_not(acled_records: dict[str, EventRecord]) -> None:
    assert acled_records["SUD90001"].fatalities_best == 56
    assert acled_records["NIG90001"].fatalities_best == 0


def test_country_from_iso_code_or_name(acled_records: dict[str, EventRecord]) -> None:
    # Kosovo has no ISO numeric code (ACLED writes 0): the name decides.
    assert acled_records["XKX90001"].places[0] == PlaceSpec(
        name="Kosovo", kind="country", country="XK"
    )
    assert acled_records["PSE90001"].places[0].country == "PS"
    assert acled_records["AFG90001"].places[0].country == "AF"  # iso "4"
    congo = acled_records["DRC90001"].places[0]
    assert (congo.country, congo.name, congo.aliases) == ("CD", "Democratic Republic of Congo", ())


def test_notes_keep_quotes_commas_and_line_breaks(acled_records: dict[str, EventRecord]) -> None:
    assert acled_records["PSE90001"].summary == (
        "On 2 August 2023, Israeli forces used tear gas to disperse a protest in Beita.\n"
        "Several protesters were treated for inhalation."
    )


def test_one_sided_and_same_actor_rows(acled_records: dict[str, EventRecord]) -> None:
    lone = acled_records["YEM90001"]
    assert [a.side for a in lone.actors] == ["a"]
    same = acled_records["SYR90004"]
    assert "same_actor_both_sides" in same.flags


def test_a_file_in_another_layout_is_refused_at_once() -> None:
    with GED_SAMPLE.open(newline="", encoding="utf-8") as f, pytest.raises(LayoutError):
        next(acled.parse_rows(f))


def test_assoc_actor_without_actor_is_rejected() -> None:
    text = ACLED_SAMPLE.read_text(encoding="utf-8").splitlines()
    rows = list(csv.DictReader(text))
    row = {**rows[0], "actor2": "", "assoc_actor_2": "Farmers (Syria)"}
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(row))
    writer.writeheader()
    writer.writerow(row)
    (error,) = _parse_text(out.getvalue())
    assert error == RowError(2, "assoc_actor_2 is given without actor2", "SYR90001")


# -- writing -----------------------------------------------------------------------------------


def test_write_then_parse_reproduces_the_records_exactly(
    acled_results: list[EventRecord | RowError],
) -> None:
    records = [r for r in acled_results if isinstance(r, EventRecord)]
    text = _write(records)
    assert text.splitlines()[0] == ",".join(acled.ACLED_COLUMNS)
    again = _parse_text(text)
    assert [_without_line(r) for r in again] == [_without_line(r) for r in records]
    assert [r.content_sha256 for r in again if isinstance(r, EventRecord)] == [
        r.content_sha256 for r in records
    ]
    # And the file itself is a fixed point.
    assert _write([r for r in again if isinstance(r, EventRecord)]) == text


def test_written_rows_match_the_sample_cell_for_cell(
    acled_results: list[EventRecord | RowError],
) -> None:
    with ACLED_SAMPLE.open(newline="", encoding="utf-8") as f:
        given = {row["event_id_cnty"]: row for row in csv.DictReader(f)}
    for record in acled_results:
        if not isinstance(record, EventRecord):
            continue
        row = acled.acled_row(record)
        source = given[record.external_id]
        for column, value in row.items():
            if column == "event_date" and record.external_id == "SUD90002":
                assert value == "2023-04-15"  # written as ISO
            elif column in ("latitude", "longitude"):
                assert float(value) == float(source[column])
            else:
                assert value == source[column], (record.external_id, column)


def test_ged_records_can_be_written_as_acled(
    ged_records: dict[str, EventRecord],
) -> None:
    records = list(ged_records.values())
    again = _parse_text(_write(records))
    assert not [r for r in again if isinstance(r, RowError)]
    for before, after in zip(records, again, strict=True):
        assert isinstance(after, EventRecord)
        assert after.external_id == before.external_id
        assert (after.event_type, after.sub_event_type) == (
            before.event_type,
            before.sub_event_type,
        )
        assert after.date_start == before.date_start
        assert after.fatalities_best == before.fatalities_best
        assert after.places[0].country == before.places[0].country
        assert after.geo_precision == before.geo_precision
        assert [(a.name, a.side) for a in after.actors] == [(a.name, a.side) for a in before.actors]
        for a, b in zip(before.actors, after.actors, strict=True):
            # Kinds ACLED has a code for survive; a coalition comes back as a rebel group.
            assert b.kind == (a.kind if a.kind in acled.INTER_KINDS.values() else "rebel_group")


def test_writer_derives_inter_codes_and_interaction_for_other_datasets(
    ged_records: dict[str, EventRecord],
) -> None:
    row = acled.acled_row(ged_records["300380"])
    assert (row["inter1"], row["inter2"], row["interaction"]) == ("1", "2", "12")
    assert row["iso"] == "760"
    assert row["country"] == "Syria"
    assert (row["admin1"], row["admin2"], row["location"]) == ("Idlib", "Ariha", "Rami")
    assert row["source"] == "Support Kurds in Syria; VDC"
    one_sided = next(r for r in ged_records.values() if r.original["type_of_violence"] == "3")
    row = acled.acled_row(one_sided)
    assert row["inter2"] == "7" and row["interaction"][1] == "7"


def test_writer_streams_from_the_parser() -> None:
    with ACLED_SAMPLE.open(newline="", encoding="utf-8") as f:
        records = (r for r in acled.parse_rows(f) if isinstance(r, EventRecord))
        out = io.StringIO(newline="")
        assert acled.write_acled_csv(records, out) == 26
