"""name_prefix= on /v1/actors, /v1/places and /v1/outlets: the explorer's autocomplete.

A prefix of any name, aliases included, after the names' normalisation; a range on the name
keys' index on both databases (checked on the query plans).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text

from app.core.normalize import normalize_prefix
from app.db import dialect
from app.models import ActorAlias, PlaceAlias
from tests.helpers import assert_problem


def names(client: TestClient, collection: str, prefix: str, **params: Any) -> list[str]:
    response = client.get(f"/v1/{collection}", params={"name_prefix": prefix, **params})
    assert response.status_code == 200, response.text
    return [row["name"] for row in response.json()["data"]]


@pytest.mark.parametrize(
    "prefix, expected",
    [
        ("Jaish", ["Jaish Tahrir a-Sham"]),
        ("jaish tahrir al-", ["Jaish Tahrir a-Sham"]),  # the article typed, the word not yet
        ("FS", ["Free Syrian Army"]),  # an alias
        ("ahmad al-ab", ["Forces of Martyr Ahmad al-Abdo"]),  # an alias, the article folded
        ("syrian ", ["Military Forces of Syria"]),  # "Syrian army": a word ends at the space
        ("Military Forces of ", ["Military Forces of Syria", "Military Forces of Russia"]),
        ("Unified Command in East Qalamoun", ["Unified Command in East Qalamoun"]),
        ("Unified Command in East Qalamounx", []),
        ("zzz", []),
    ],
)
def test_actor_prefix_matches_any_name_start(
    client: TestClient, demo: dict[str, Any], prefix: str, expected: list[str]
) -> None:
    assert sorted(names(client, "actors", prefix)) == sorted(expected)


def test_actor_prefix_lists_each_actor_once_and_combines_with_the_other_filters(
    client: TestClient, demo: dict[str, Any]
) -> None:
    # "Ahmad al-Abdo brigade" and "Ahmad al-Abdo" both start with "ahmad": one actor.
    assert names(client, "actors", "Ahmad") == ["Forces of Martyr Ahmad al-Abdo"]
    assert names(client, "actors", "Military", kind="external_forces") == [
        "Military Forces of Russia"
    ]
    page = client.get("/v1/actors", params={"name_prefix": "Military", "total": "true"}).json()
    assert page["total"] == 2


@pytest.mark.parametrize(
    "prefix, expected",
    [
        ("al-Ruh", ["al-Ruheibah"]),
        ("ruh", ["al-Ruheibah"]),  # "Ruhaybah", an alias, and the name without its article
        ("al-Rhai", ["al-Ruheibah"]),
        ("Rural", ["Rif Dimashq"]),
        ("Syr", ["Syria"]),
        ("East", ["East Qalamoun"]),  # and its alias "Eastern Qalamoun": listed once
        ("jabal ", ["Jabal Sharqi"]),
        ("Dimashq", ["Damascus"]),  # an alias; "Rif Dimashq" does not start so
    ],
)
def test_place_prefix_matches_any_name_start(
    client: TestClient, demo: dict[str, Any], prefix: str, expected: list[str]
) -> None:
    assert sorted(names(client, "places", prefix)) == sorted(expected)


def test_place_prefix_combines_with_within(client: TestClient, demo: dict[str, Any]) -> None:
    syria = client.get("/v1/places", params={"name": "Syria"}).json()["data"][0]["id"]
    qalamoun = client.get("/v1/places", params={"name": "East Qalamoun"}).json()["data"][0]["id"]
    assert names(client, "places", "d", within=syria) == ["Damascus"]
    assert names(client, "places", "d", within=qalamoun) == []


@pytest.mark.parametrize("prefix", ["Syria D", "syria", "syriadir", "SYRIADIRECT.ORG"])
def test_outlet_prefix_matches_the_name_or_the_domain(
    client: TestClient, demo: dict[str, Any], prefix: str
) -> None:
    assert names(client, "outlets", prefix) == ["Syria Direct"]
    assert names(client, "outlets", prefix + "x") == []


@pytest.mark.parametrize("collection", ["actors", "places", "outlets"])
@pytest.mark.parametrize("prefix", ["", "-", "'", "   "])
def test_a_prefix_without_letters_or_digits_is_refused(
    client: TestClient, collection: str, prefix: str
) -> None:
    body = assert_problem(client.get(f"/v1/{collection}", params={"name_prefix": prefix}), 422)
    assert body["errors"][0]["loc"] == ["query", "name_prefix"]


def test_a_prefix_of_nothing_but_an_article_matches_every_name(
    client: TestClient, demo: dict[str, Any]
) -> None:
    everyone = client.get("/v1/actors", params={"limit": 100}).json()["data"]
    assert len(names(client, "actors", "al-", limit=100)) == len(everyone)


@pytest.mark.parametrize(
    "typed, key",
    [
        ("Jaish Tahrir a-", "jaish tahrir "),
        ("Jaish Tahrir a", "jaish tahrir a"),
        ("al-Ruh", "ruh"),
        ("El Mi", "mi"),
        ("Al ", ""),
        ("Jabal-Sh", "jabal sh"),
        ("Jabal ", "jabal "),
        ("Ḥomṣ", "homs"),
    ],
)
def test_normalize_prefix(typed: str, key: str) -> None:
    assert normalize_prefix(typed) == key


def test_starts_with_is_exact_at_the_edges_of_the_range(engine: Engine, demo: Any) -> None:
    # The upper bound is the prefix with its last code point incremented: a name one past
    # it is out, a name that is the prefix itself is in. Non-ASCII code points order by
    # code point on both databases (bytes on SQLite, the pattern operators on PostgreSQL).
    with engine.connect() as conn:
        for prefix, inside, outside in (
            ("ab", ["ab", "ab z", "abz\U0010ffff"], ["ac", "aa", "a"]),
            ("é", ["é", "éa"], ["f", "ê", "e"]),
            ("\U0010ffff", ["\U0010ffff", "\U0010ffffa"], ["\uffff"]),
        ):
            for value, expected in [(v, True) for v in inside] + [(v, False) for v in outside]:
                got = conn.execute(
                    select(dialect.starts_with(text(":v").bindparams(v=value), prefix))  # type: ignore[arg-type]
                ).scalar_one()
                assert bool(got) is expected, (prefix, value)


def test_the_prefix_is_a_range_on_the_name_index(engine: Engine, demo: Any) -> None:
    for model, index in (
        (ActorAlias, "ix_actor_alias_name_norm"),
        (PlaceAlias, "ix_place_alias_name_norm"),
    ):
        stmt = select(model.id).where(dialect.starts_with(model.name_norm, "ruh"))
        with engine.connect() as conn:
            sql = str(stmt.compile(engine, compile_kwargs={"literal_binds": True}))
            if engine.dialect.name == "sqlite":
                plan = " ".join(
                    str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
                )
                assert f"INDEX {index} (name_norm>? AND name_norm<?)" in plan, plan
            else:
                # Tiny tables are cheaper to scan: ask whether the index can serve it at all.
                conn.exec_driver_sql("SET enable_seqscan = off")
                plan = "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {sql}"))
                assert index in plan and "~>=~" in plan, plan
