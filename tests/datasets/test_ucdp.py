"""UCDP GED parsing over the real 1,000-row sample: every row, every country, every source field."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from datetime import date
from typing import IO, cast

import pytest

from app.datasets import ucdp
from app.formats import countries
from app.formats.csvfile import LayoutError
from app.formats.records import EventRecord, PlaceSpec, RowError, SourceSpec
from tests.samples import ACLED_SAMPLE, GED_SAMPLE

# The sample's rows whose low is above best (UCDP's own data, kept as given).
LOW_ABOVE_BEST = {"236880", "304491", "464847", "252478", "162326", "386422", "192827", "212386"}
HIGH_BELOW_BEST = {"299515", "406097", "225681", "193150", "381442"}


def _csv_text(rows: list[dict[str, str]]) -> str:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _parse(rows: list[dict[str, str]]) -> list[EventRecord | RowError]:
    return list(ucdp.parse_rows(io.StringIO(_csv_text(rows), newline=""), "23.1"))


def _one(row: dict[str, str]) -> EventRecord:
    (result,) = _parse([row])
    assert isinstance(result, EventRecord), result
    return result


def _row(ged_rows: list[dict[str, str]], event_id: str) -> dict[str, str]:
    return dict(next(r for r in ged_rows if r["id"] == event_id))


# -- every row ---------------------------------------------------------------------------------


def test_every_row_of_the_real_sample_maps(
    ged_results: list[EventRecord | RowError], ged_rows: list[dict[str, str]]
) -> None:
    errors = [r for r in ged_results if isinstance(r, RowError)]
    assert errors == []
    assert [r.external_id for r in ged_results if isinstance(r, EventRecord)] == [
        row["id"] for row in ged_rows
    ]


def test_line_numbers_point_at_the_row_start(
    ged_records: dict[str, EventRecord],
) -> None:
    # The sample has quoted fields spanning several lines, so rows and lines differ.
    lines = GED_SAMPLE.read_text(encoding="utf-8").splitlines()
    assert len(lines) > 1001
    for record in ged_records.values():
        assert lines[record.line - 1].startswith(
            f"{record.external_id},{record.original['relid']},"
        )


def test_provenance_and_type_mapping(ged_records: dict[str, EventRecord]) -> None:
    expected = {
        "1": ("Battles", "Armed clash"),
        "2": ("Battles", "Armed clash"),
        "3": ("Violence against civilians", "Attack"),
    }
    for record in ged_records.values():
        assert record.dataset == "ucdp-ged"
        assert record.dataset_version == "23.1"
        assert record.event_key == f"ucdp-ged:{record.external_id}"
        assert (record.event_type, record.sub_event_type) == expected[
            record.original["type_of_violence"]
        ]


def test_original_values_are_kept(
    ged_records: dict[str, EventRecord], ged_rows: list[dict[str, str]]
) -> None:
    kept = [
        "relid",
        "type_of_violence",
        "dyad_name",
        "conflict_name",
        "number_of_sources",
        "event_clarity",
        "where_prec",
        "date_prec",
        "country",
        "deaths_a",
        "deaths_b",
        "deaths_civilians",
        "deaths_unknown",
        "side_a_new_id",
        "side_b_dset_id",
        "priogrid_gid",
    ]
    for row in ged_rows:
        original = ged_records[row["id"]].original
        for column in kept:
            assert original[column] == row[column]
        # Empty cells are missing values: not stored.
        assert all(value for value in original.values())
        assert ("gwnob" in original) == bool(row["gwnob"])


# -- countries ---------------------------------------------------------------------------------


def test_every_country_maps(
    ged_records: dict[str, EventRecord], ged_rows: list[dict[str, str]]
) -> None:
    names = {row["country"] for row in ged_rows}
    assert len(names) == 59
    for row in ged_rows:
        country = ged_records[row["id"]].places[0]
        assert country.kind == "country"
        assert country.country == countries.alpha2_from_name(row["country"])
        assert all(place.country == country.country for place in ged_records[row["id"]].places)


def test_historical_country_names_keep_the_given_name_as_an_alias(
    ged_records: dict[str, EventRecord],
) -> None:
    # 1994, Russia (Soviet Union); 1997, DR Congo (Zaire).
    russia = next(
        r for r in ged_records.values() if r.original["country"] == "Russia (Soviet Union)"
    )
    assert russia.places[0] == PlaceSpec(
        name="Russia", kind="country", country="RU", aliases=("Russia (Soviet Union)",)
    )
    congo = next(r for r in ged_records.values() if r.original["country"] == "DR Congo (Zaire)")
    assert congo.places[0].name == "Democratic Republic of Congo"
    assert congo.places[0].aliases == ("DR Congo (Zaire)",)


# -- fatalities --------------------------------------------------------------------------------


def test_low_above_best_is_flagged_and_kept(
    ged_records: dict[str, EventRecord], ged_rows: list[dict[str, str]]
) -> None:
    flagged = {k for k, r in ged_records.items() if "low_above_best" in r.flags}
    assert flagged == LOW_ABOVE_BEST
    assert {k for k, r in ged_records.items() if "high_below_best" in r.flags} == HIGH_BELOW_BEST
    for row in ged_rows:
        record = ged_records[row["id"]]
        assert (record.fatalities_low, record.fatalities_best, record.fatalities_high) == (
            int(row["low"]),
            int(row["best"]),
            int(row["high"]),
        )
    assert ged_records["464847"].fatalities_low == 334
    assert ged_records["464847"].fatalities_best == 333


def test_fatality_sums_per_country_year_and_type_equal_the_csv(
    ged_records: dict[str, EventRecord], ged_rows: list[dict[str, str]]
) -> None:
    # Expected straight from the CSV cells, grouped by the names UCDP gives.
    expected: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for row in ged_rows:
        sums = expected[(row["country"], row["year"], row["type_of_violence"])]
        sums[0] += 1
        sums[1] += int(row["best"])
        sums[2] += int(row["low"])
        sums[3] += int(row["high"])
    actual: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for record in ged_records.values():
        key = (
            record.original["country"],
            str(record.date_start.year),
            record.original["type_of_violence"],
        )
        sums = actual[key]
        sums[0] += 1
        sums[1] += record.fatalities_best or 0
        sums[2] += record.fatalities_low or 0
        sums[3] += record.fatalities_high or 0
    assert actual == expected
    # And by what the API groups on: ISO code, year, our event type.
    by_type = {"1": "Battles", "2": "Battles", "3": "Violence against civilians"}
    expected_iso: Counter[tuple[str | None, str, str]] = Counter()
    for (country, year, violence), sums in expected.items():
        expected_iso[(countries.alpha2_from_name(country), year, by_type[violence])] += sums[1]
    actual_iso: Counter[tuple[str | None, str, str]] = Counter()
    for record in ged_records.values():
        iso_key = (record.places[0].country, str(record.date_start.year), record.event_type)
        actual_iso[iso_key] += record.fatalities_best or 0
    assert +actual_iso == +expected_iso
    assert sum(actual_iso.values()) == sum(int(row["best"]) for row in ged_rows)


# -- dates and places --------------------------------------------------------------------------


def test_date_precision_mapping(
    ged_records: dict[str, EventRecord], ged_rows: list[dict[str, str]]
) -> None:
    mapping = {"1": "day", "2": "week", "3": "week", "4": "month", "5": "year"}
    for row in ged_rows:
        record = ged_records[row["id"]]
        assert record.date_precision == mapping[row["date_prec"]]
        assert record.date_start == date.fromisoformat(row["date_start"])
        assert record.date_end == date.fromisoformat(row["date_end"])
    counts = Counter(r.date_precision for r in ged_records.values())
    assert counts == {"day": 849, "week": 114, "month": 23, "year": 14}


def test_geo_precision_mapping(
    ged_records: dict[str, EventRecord], ged_rows: list[dict[str, str]]
) -> None:
    mapping = {"1": 1, "2": 2, "3": 2, "4": 3, "5": 3, "6": 3, "7": 3}
    for row in ged_rows:
        assert ged_records[row["id"]].geo_precision == mapping[row["where_prec"]]
    assert Counter(r.geo_precision for r in ged_records.values()) == {1: 475, 2: 372, 3: 153}


def test_coordinates_sit_on_the_most_precise_place_only(
    ged_records: dict[str, EventRecord], ged_rows: list[dict[str, str]]
) -> None:
    for row in ged_rows:
        places = ged_records[row["id"]].places
        assert (places[-1].latitude, places[-1].longitude) == (
            float(row["latitude"]),
            float(row["longitude"]),
        )
        assert all(p.latitude is None and p.longitude is None for p in places[:-1])
        kinds = [p.kind for p in places]
        assert kinds[0] == "country" and "country" not in kinds[1:]


def test_place_hierarchy_drops_gazetteer_type_words_and_keeps_them_as_aliases(
    ged_records: dict[str, EventRecord],
) -> None:
    assert ged_records["300380"].places == (
        PlaceSpec(name="Syria", kind="country", country="SY"),
        PlaceSpec(name="Idlib", kind="admin1", country="SY", aliases=("Idlib governorate",)),
        PlaceSpec(name="Ariha", kind="admin2", country="SY", aliases=("Ariha district",)),
        PlaceSpec(
            name="Rami",
            kind="populated_place",
            country="SY",
            latitude=35.763369,
            longitude=36.558974,
            aliases=("Rami village",),
        ),
    )


def test_a_location_naming_an_admin_unit_or_the_country_adds_no_place(
    ged_records: dict[str, EventRecord],
) -> None:
    # where_prec 4: "Lunda Sul province" is the adm_1; the coordinates are its centroid.
    assert ged_records["21300"].places == (
        PlaceSpec(name="Angola", kind="country", country="AO"),
        PlaceSpec(
            name="Lunda Sul",
            kind="admin1",
            country="AO",
            latitude=-9.65,
            longitude=20.4,
            aliases=("Lunda Sul province",),
        ),
    )
    # where_prec 6: only the country is known.
    (syria,) = ged_records["322134"].places
    assert syria.kind == "country" and syria.latitude is not None


def test_location_kinds(ged_records: dict[str, EventRecord]) -> None:
    def last(event_id: str) -> tuple[str, str]:
        place = ged_records[event_id].places[-1]
        return place.name, place.kind

    kinds = Counter(r.places[-1].kind for r in ged_records.values())
    assert set(kinds) == {
        "country",
        "admin1",
        "admin2",
        "populated_place",
        "region",
        "site",
        "natural_feature",
    }
    named = {last(k) for k in ged_records}
    assert ("Bagram airbase", "site") in named
    assert ("Jolo island", "natural_feature") in named
    # An ill-defined area (where_prec 5) keeps its name whole.
    assert ("DPR controlled territory", "region") in named
    assert ("Pakistan-Iran border", "region") in named


# -- actors ------------------------------------------------------------------------------------


def test_actor_sides_ids_and_kinds(
    ged_records: dict[str, EventRecord], ged_rows: list[dict[str, str]]
) -> None:
    for row in ged_rows:
        a, b = ged_records[row["id"]].actors
        assert (a.side, b.side) == ("a", "b")
        assert a.name == row["side_a"] and a.external_id == row["side_a_new_id"]
        if row["side_b"] == "Civilians":
            assert b.kind == "civilians" and b.external_id is None
            assert b.role == "target"
            assert b.country == ged_records[row["id"]].places[0].country
        else:
            assert b.name == row["side_b"] and b.external_id == row["side_b_new_id"]
        for side in (a, b):
            if side.name.startswith("Government of "):
                assert side.kind == "state_forces" and side.country is not None


def test_actor_kind_guesses(ged_records: dict[str, EventRecord]) -> None:
    actors = {(a.name, a.kind) for r in ged_records.values() for a in r.actors}
    assert ("Government of Russia (Soviet Union)", "state_forces") in actors
    assert ("Civilians (Syria)", "civilians") in actors
    assert ("Supporters of ANC", "political_militia") in actors
    assert ("Abgal clan (Hawiye)", "identity_militia") in actors
    assert ("Christians (Nigeria)", "identity_militia") in actors
    assert ("Taleban", "rebel_group") in actors
    coalition = next(
        a for r in ged_records.values() for a in r.actors if a.name == "Giants Brigade, STC"
    )
    assert coalition.kind == "coalition" and coalition.members == ("Giants Brigade", "STC")


def test_a_joint_side_s_groups_are_actors_of_their_own(
    ged_records: dict[str, EventRecord], ged_rows: list[dict[str, str]]
) -> None:
    record = ged_records["447228"]
    assert [(a.name, a.kind, a.side, a.external_id) for a in record.member_actors] == [
        ("Giants Brigade", "rebel_group", "a", None),
        ("STC", "rebel_group", "a", None),
    ]
    # Every joint side of the sample, and only those.
    joint = {r["id"] for r in ged_rows if "," in r["side_a"] + r["side_b"]}
    assert {r.external_id for r in ged_records.values() if r.member_actors} == joint
    # A side id listing one id per group gives each group its own; kinds as for a lone side.
    row = {
        **_row(ged_rows, "300380"),
        "side_b": "Government of Australia, Government of United Kingdom",
        "side_b_new_id": "9101, 9102",
    }
    members = _one(row).member_actors
    assert [(a.name, a.kind, a.country, a.external_id, a.side) for a in members] == [
        ("Government of Australia", "state_forces", "AU", "9101", "b"),
        ("Government of United Kingdom", "state_forces", "GB", "9102", "b"),
    ]
    assert _one(row).actors[1].external_id == "9101, 9102"


def test_two_ucdp_actors_with_one_name_keep_their_own_ids(
    ged_records: dict[str, EventRecord],
) -> None:
    ids = {a.external_id for r in ged_records.values() for a in r.actors if a.name == "DPR"}
    assert ids == {"5840", "6711"}


def test_government_countries(ged_records: dict[str, EventRecord]) -> None:
    countries_of = {
        a.name: a.country
        for r in ged_records.values()
        for a in r.actors
        if a.name.startswith("Government of ")
    }
    assert countries_of["Government of Russia (Soviet Union)"] == "RU"
    assert countries_of["Government of North Macedonia"] == "MK"
    assert countries_of["Government of United States of America"] == "US"
    assert None not in countries_of.values()


# -- sources -----------------------------------------------------------------------------------


def test_number_of_sources_per_row(
    ged_records: dict[str, EventRecord], ged_rows: list[dict[str, str]]
) -> None:
    for row in ged_rows:
        record = ged_records[row["id"]]
        declared = int(row["number_of_sources"])
        if not row["source_office"]:
            # Older rows: no outlet, the source text kept whole and unattributed.
            assert declared == -1
            assert record.sources == (SourceSpec(raw=row["source_article"]),)
        elif "duplicate_sources" in record.flags:
            assert len(record.sources) < declared
            assert len(set(record.sources)) == len(record.sources)
        else:
            assert len(record.sources) == declared
            assert [s.outlet for s in record.sources] == [
                o.strip() for o in row["source_office"].split(";")
            ]
    attributed = [r for r in ged_records.values() if r.sources and r.sources[0].outlet]
    assert len(attributed) == 674
    assert sum(len(r.sources) for r in ged_records.values()) == 1346
    assert not any("sources_unpaired" in r.flags for r in ged_records.values())


def test_headlines_with_semicolons_stay_whole(ged_records: dict[str, EventRecord]) -> None:
    assert ged_records["304491"].sources == (
        SourceSpec(
            outlet="Agence France Presse",
            published_date=date(2012, 6, 28),
            headline="Turkey reinforces border as Syria violence rages",
        ),
        SourceSpec(
            outlet="Associated Press Newswires",
            published_date=date(2012, 6, 29),
            headline="Syrian troops besiege rebellious suburb; dozens reported killed",
        ),
    )
    first = ged_records["113828"].sources[0]
    assert first.outlet == "The Globe and Mail (Breaking News)"
    assert first.headline is not None and first.headline.endswith("armed mobs and militia groups")
    assert len(ged_records["113828"].sources) == 7


def test_headlines_with_quotes_and_commas(ged_records: dict[str, EventRecord]) -> None:
    assert ged_records["197078"].sources[0].headline == (
        '"Some 25 Iraqi police officers, militias killed" in clashes with Islamic State'
    )
    # An entry whose headline ends in a quote, right before the closing quote.
    assert ged_records["244193"].sources[3].headline == (
        'Marwa al-Salim "al-Sabta" Mouhammad al-Salim "al-Sabta" Soltan Mohammadal-Sabti '
        'Sultan al-Salim "al-Sabta"'
    )
    # A headline with an opening quote and no closing one.
    assert ged_records["285677"].sources[0].headline == '"Martyrs in Homs and Idlib'
    # Commas inside outlet names; whitespace around outlets stripped.
    outlets = {s.outlet for r in ged_records.values() for s in r.sources}
    assert "Ministry of Higher Education, Scientific Research and Culture" in outlets
    assert "United Nations High Commissioner for Human Rights" in outlets
    assert not any(o and o != o.strip() for o in outlets)


def test_duplicate_entries_are_kept_once(ged_records: dict[str, EventRecord]) -> None:
    record = ged_records["289536"]
    assert "duplicate_sources" in record.flags
    assert len(record.sources) == 1 and record.sources[0].outlet == "SOHR"


def _misaligned(row: dict[str, str]) -> dict[str, str]:
    return {**row, "source_headline": row["source_headline"].split(";")[0]}


def test_fields_that_do_not_line_up_keep_the_raw_text(ged_rows: list[dict[str, str]]) -> None:
    # No row of the real sample is misaligned; these are real rows with one field changed.
    row = _row(ged_rows, "304491")
    cases = [
        _misaligned(row),  # one headline fewer
        {**row, "source_office": "Agence France Presse"},  # one outlet fewer
        {**row, "source_date": "2012-06-28;2012-06-30"},  # a date that is not the entry's
        {**row, "source_article": row["source_article"].replace(",2012-06-29,", " 2012-06-29 ")},
    ]
    for case in cases:
        record = _one(case)
        assert record.sources == (SourceSpec(raw=case["source_article"]),)
        assert "sources_unpaired" in record.flags
        for column in ("source_office", "source_date", "source_headline"):
            assert record.original[column] == case[column]


def test_a_headline_containing_the_entry_separator_is_not_paired_wrongly(
    ged_rows: list[dict[str, str]],
) -> None:
    row = _row(ged_rows, "401115")  # one source: Bakhtar News
    headline = 'Talks end";"no deal'
    case = {
        **row,
        "source_article": f'"Bakhtar News,2021-05-29,{headline}"',
        "source_headline": headline,
    }
    record = _one(case)
    assert record.sources == (SourceSpec(raw=case["source_article"]),)


def test_csv_style_doubled_quotes_are_read(ged_rows: list[dict[str, str]]) -> None:
    row = _row(ged_rows, "197078")
    case = {
        **row,
        "source_article": (
            '"BBC Monitoring Middle East,2015-05-18,""Some 25"" killed";'
            '"BBC Monitoring Middle East,2015-05-18,Airstrikes in Ramadi"'
        ),
        "source_headline": '"Some 25" killed;Airstrikes in Ramadi',
    }
    record = _one(case)
    assert [s.headline for s in record.sources] == ['"Some 25" killed', "Airstrikes in Ramadi"]


def test_unattributed_sources(ged_records: dict[str, EventRecord]) -> None:
    assert ged_records["21300"].sources == (
        SourceSpec(
            raw='Reuters 1989-05-17 "ANGOLAN UNITA REBELS BLOW UP POWER LINES DURING PEACE SUMMIT'
        ),
    )


# -- rejected rows -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": ""}, "id is empty"),
        ({"date_start": "2013-02-30"}, "date_start '2013-02-30' is not a date"),
        ({"date_end": "03/01/2013"}, "date_end '03/01/2013' is not a date"),
        ({"date_end": "2013-01-01"}, "date_end 2013-01-01 is before date_start 2013-01-03"),
        ({"country": "Atlantis"}, "unknown country 'Atlantis'"),
        ({"deaths_civilians": "-1"}, "deaths_civilians is negative (-1)"),
        ({"best": "-2"}, "best is negative (-2)"),
        ({"best": ""}, "best is empty"),
        ({"low": "two"}, "low 'two' is not a whole number"),
        ({"type_of_violence": "4"}, "type_of_violence '4' is not 1, 2 or 3"),
        ({"date_prec": "0"}, "date_prec '0' is not 1-5"),
        ({"where_prec": "9"}, "where_prec '9' is not 1-7"),
        ({"latitude": "95.2"}, "latitude 95.2 is outside -90..90"),
        ({"longitude": ""}, "latitude and longitude must be given together"),
        ({"side_b": ""}, "side_b is empty"),
    ],
)
def test_bad_rows_are_rejected_with_their_line_and_the_stream_goes_on(
    ged_rows: list[dict[str, str]], change: dict[str, str], reason: str
) -> None:
    good = _row(ged_rows, "300380")
    bad = {**good, **change, "id": change.get("id", "999001")}
    results = _parse([good, bad, {**good, "id": "999002"}])
    assert isinstance(results[0], EventRecord) and isinstance(results[2], EventRecord)
    error = results[1]
    assert isinstance(error, RowError)
    assert error.line == 3
    assert error.reason.startswith(reason), error.reason
    assert error.external_id == (bad["id"] or None)


def test_a_row_with_the_wrong_number_of_fields_is_rejected() -> None:
    text = GED_SAMPLE.read_text(encoding="utf-8").split("\n")
    header, first = text[0], text[1]
    broken = io.StringIO(f"{header}\n1,2,3\n{first}\n", newline="")
    results = list(ucdp.parse_rows(broken, "23.1"))
    assert results[0] == RowError(2, "expected 49 fields, found 3")
    assert isinstance(results[1], EventRecord) and results[1].line == 3


def test_a_file_in_another_layout_is_refused_at_once() -> None:
    with ACLED_SAMPLE.open(newline="", encoding="utf-8") as f, pytest.raises(LayoutError) as info:
        next(ucdp.parse_rows(f, "23.1"))
    assert "not a UCDP GED file" in str(info.value) and "type_of_violence" in str(info.value)


# -- streaming, dict input, hashing ------------------------------------------------------------


class _CountingReader:
    """A text file that counts the lines taken from it."""

    def __init__(self, text: str) -> None:
        self._stream = io.StringIO(text, newline="")
        self.lines_read = 0

    def read(self, size: int = -1) -> str:
        raise AssertionError("the parser must iterate over lines, not read the whole file")

    def __iter__(self) -> _CountingReader:
        return self

    def __next__(self) -> str:
        self.lines_read += 1
        return next(self._stream)


def test_rows_are_streamed_not_loaded() -> None:
    stream = _CountingReader(GED_SAMPLE.read_text(encoding="utf-8"))
    results = ucdp.parse_rows(cast(IO[str], stream), "23.1")
    first = next(results)
    assert isinstance(first, EventRecord) and first.external_id == "300380"
    assert stream.lines_read == 2  # the header and the first row, nothing more
    assert sum(1 for _ in results) == 999
    assert stream.lines_read > 1001


def test_rows_given_as_dicts(
    ged_rows: list[dict[str, str]], ged_records: dict[str, EventRecord]
) -> None:
    results = list(ucdp.parse_rows(ged_rows[:5], "23.1"))
    assert [r.line for r in results] == [2, 3, 4, 5, 6]
    for result in results:
        assert isinstance(result, EventRecord)
        assert result.content_sha256 == ged_records[result.external_id].content_sha256


def test_content_hash_follows_the_mapped_content_only(
    ged_rows: list[dict[str, str]], ged_records: dict[str, EventRecord]
) -> None:
    row = _row(ged_rows, "300380")
    before = ged_records["300380"].content_sha256
    # Another line, another column order, another release: the same content.
    reordered = dict(reversed(list(row.items())))
    results = list(ucdp.parse_rows([ged_rows[1], reordered], "24.1"))
    moved = results[1]
    assert isinstance(moved, EventRecord) and moved.line == 3
    assert moved.content_sha256 == before
    # A changed value is a change.
    assert _one({**row, "best": "3", "high": "3"}).content_sha256 != before
    assert _one({**row, "dyad_name": "X"}).content_sha256 != before


def test_version_from_file_name() -> None:
    assert ucdp.version_from_filename("GEDEvent_v23_1.csv") == "23.1"
    assert ucdp.version_from_filename("/data/ged241.csv") == "24.1"
    assert ucdp.version_from_filename("events.csv") is None
    assert ucdp.version_from_filename("GEDEvent_v24_0_3.csv") == "24.0.3"
    assert ucdp.version_from_filename("ged231-csv.csv") == "23.1"
    # Not a release: a row count, a year, a word that merely contains "ged".
    assert ucdp.version_from_filename("ged100k.csv") is None
    assert ucdp.version_from_filename("ged2020.csv") is None
    assert ucdp.version_from_filename("merged231.csv") is None
