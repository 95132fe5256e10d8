"""The reconciler's rules on plain records (app/incidents/matching.py, issue 13): names compared
word by word, figures too far apart, types both sides use, actors common around, and pairs
taken one to one only when they stand out from their rivals."""

from __future__ import annotations

from datetime import date

import pytest

from app.incidents import matching
from app.incidents.matching import DEFAULT_THRESHOLD, Record, Settings

SETTINGS = Settings()


def rec(
    id: int,
    *,
    event_type: str = "Battles",
    sub: str | None = "Armed clash",
    day: int = 10,
    lat: float = 35.0,
    lon: float = 38.0,
    actors: tuple[str, ...] = ("Syria Army", "Jabhat al-Ridu"),
    fatalities: int | None = 4,
) -> Record:
    return Record(
        id=id,
        event_type=event_type,
        sub_event_type=sub,
        date_start=date(2020, 3, day),
        date_end=date(2020, 3, day),
        latitude=lat,
        longitude=lon,
        place_id=None,
        place_name=None,
        actors=actors,
        fatalities=fatalities,
    )


def pairs(side_a: list[Record], side_b: list[Record]) -> list[tuple[int, int]]:
    return [(m.a, m.b) for m in matching.pair_up(side_a, side_b, SETTINGS, DEFAULT_THRESHOLD)]


def test_every_word_of_a_name_needs_a_namesake() -> None:
    # Two groups that share the word before their names are two groups.
    assert matching.name_similarity("Jabhat al-Ridu", "Jabhat al-Dadu") < matching.SAME_NAME
    assert matching.matched_actors(["Jabhat al-Ridu"], ["Jabhat al-Dadu"]) == []
    # One group however its article and letters are written.
    for x, y in [
        ("Kataib all-Zuja", "Kataib al-Zuja"),
        ("Liwa el-Tikkha", "Liwa Al Tiha"),
        ("Jabbhat el-Ridou", "Jabhat a-Ridu"),
    ]:
        assert matching.name_similarity(x, y) == 1.0, (x, y)


def test_figures_more_than_three_times_apart_tell_records_apart() -> None:
    near = matching.ranked(rec(1, fatalities=10), [rec(2, fatalities=13)], SETTINGS)[0]
    far = matching.ranked(rec(1, fatalities=10), [rec(2, fatalities=40)], SETTINGS)[0]
    assert far.score < 0.01 < 0.5 < near.score
    assert "fatalities 10 and 40: too far apart" in far.reasons
    # A larger toll agreed on is rarer, so stronger, than none.
    none = matching.ranked(rec(1, fatalities=0), [rec(2, fatalities=0)], SETTINGS)[0]
    assert none.log_odds < near.log_odds


def test_unknown_actors_are_no_evidence_either_way() -> None:
    same, unknown, differ = (
        matching.ranked(rec(1), [rec(2, actors=actors)], SETTINGS)[0]
        for actors in [("Syria Army", "Jabhat al-Ridu"), (), ("Syria Army", "Liwa Buya")]
    )
    assert differ.log_odds < unknown.log_odds < same.log_odds
    assert "actors unknown on one side" in unknown.reasons


def test_types_disagree_only_where_both_sides_use_both() -> None:
    strike = rec(1, event_type="Explosions/Remote violence", sub="Air/drone strike")
    clash = rec(2)
    # A GED-like side codes every strike as a battle: no disagreement.
    assert pairs([strike], [clash]) == [(1, 2)]
    # Both sides use both types (records far away): a strike is no battle.
    elsewhere = dict(lat=10.0, lon=0.0, actors=("Mali Army",))
    side_a = [strike, rec(3, **elsewhere)]  # type: ignore[arg-type]
    side_b = [clash, rec(4, event_type="Explosions/Remote violence", **elsewhere)]  # type: ignore[arg-type]
    assert (1, 2) not in pairs(side_a, side_b)
    # Sub-types likewise: both sides use both sub-types.
    take = rec(5, sub="Government regains territory", lat=20.0, lon=20.0)
    other = rec(6, sub="Armed clash", lat=20.0, lon=20.0)
    assert pairs([take], [other]) == [(5, 6)]
    with_both = [
        rec(7, sub="Armed clash", lat=-30.0, lon=10.0, actors=("X Army",)),
        rec(8, sub="Government regains territory", lat=-30.0, lon=50.0, actors=("Y Army",)),
    ]
    matches = matching.pair_up([take, *with_both], [other, *with_both[::-1]], SETTINGS, 0.0)
    (found,) = [m for m in matches if m.a == 5]
    assert "different sub-types (both sources use both)" in "; ".join(found.reasons)
    alone = matching.pair_up([take], [other], SETTINGS, 0.0)[0]
    assert found.log_odds < alone.log_odds


def test_an_actor_every_candidate_names_tells_less() -> None:
    record = rec(1)
    twin = rec(2, lat=35.1)
    crowd = [rec(i, lat=35.05, actors=("Syria Army", "Liwa Buya")) for i in range(3, 8)]
    ridu = [rec(i, lat=35.05, actors=("Syria Army", "Jabhat al-Ridu")) for i in range(3, 8)]
    rare = next(m for m in matching.ranked(record, [twin, *crowd], SETTINGS) if m.b == 2)
    common = next(m for m in matching.ranked(record, [twin, *ridu], SETTINGS) if m.b == 2)
    assert common.log_odds < rare.log_odds
    assert any("Jabhat al-Ridu (1 of 6 candidates)" in r for r in rare.reasons)


def test_a_pair_is_proposed_only_when_it_stands_out_from_its_rivals() -> None:
    # Two equally good candidates for one record: which is it? Neither is proposed.
    record = rec(1)
    assert pairs([record], [rec(2, lat=35.1), rec(3, lat=34.9)]) == []
    # One clearly better (the same day, nearer): it is, and only it.
    assert pairs([record], [rec(2, lat=35.01), rec(3, lat=35.3, day=14)]) == [(1, 2)]
    # Each record in at most one pair, whatever the threshold.
    low = matching.pair_up([record, rec(4, lat=35.02)], [rec(2, lat=35.01)], SETTINGS, 0.0)
    assert len(low) == 1


# Wanted for real sources, not adopted: the subset rule (each side's extra actors neutral, the
# penalty only when both name an actor the other lacks) took precision below 0.89 at 100,000
# records of the fixed generator (bench/README.md, "Subset-aware actors"). Strict: the day a
# rule passes them, drop the marks.
SUBSET_GAP = pytest.mark.xfail(
    strict=True, reason="subset-aware actors not adopted: bench/README.md, 'Subset-aware actors'"
)


@SUBSET_GAP
def test_naming_fewer_actors_is_no_disagreement() -> None:
    # An outlet names only the army; ACLED names the army and the rebels it fought.
    outlet = rec(1, actors=("Syrian Army",))
    acled = rec(2, actors=("Syrian Arab Army", "Jabhat al-Ridu"))
    army = rec(2, actors=("Syrian Army", "Jabhat al-Ridu"))
    (match,) = matching.ranked(outlet, [army], SETTINGS)
    assert match.score > 0.9
    assert any(
        "event 2 names more actors: Jabhat al-Ridu (naming fewer is no disagreement)" in r
        for r in match.reasons
    ), match.reasons
    # Either way round, and between two sides: the one candidate is proposed.
    (back,) = matching.ranked(army, [outlet], SETTINGS)
    assert back.log_odds == match.log_odds
    assert pairs([outlet], [army]) == [(1, 2)]
    # A name that is no namesake ("Syrian Arab Army" has a word "Syrian Army" lacks) is none.
    (other,) = matching.ranked(outlet, [acled], SETTINGS)
    assert other.score < 0.01


@SUBSET_GAP
def test_each_side_naming_an_actor_the_other_lacks_disagrees() -> None:
    record = rec(1, actors=("Syria Army", "Jabhat al-Ridu"))
    (disjoint,) = matching.ranked(record, [rec(2, actors=("Mali Army", "Liwa Buya"))], SETTINGS)
    (one_each,) = matching.ranked(record, [rec(2, actors=("Syria Army", "Liwa Buya"))], SETTINGS)
    (fewer,) = matching.ranked(record, [rec(2, actors=("Jabhat al-Ridu",))], SETTINGS)
    assert disjoint.score < 0.01 and one_each.score < 0.01
    assert "no actor in common" in disjoint.reasons
    assert pairs([record], [rec(2, actors=("Mali Army", "Liwa Buya"))]) == []
    # The penalty is the fitted one: a real conflict costs what it did before.
    model = SETTINGS.model
    assert one_each.log_odds == pytest.approx(
        fewer.log_odds + model.actors_differ - model.all_actors
    )
