"""POST /v1/drafts and `conflictdb draft`: a news text drafted into a report, on SQLite and
PostgreSQL. The seed article's draft is checked by hand; every text of the corpus (the
articles in tests/data/drafts and the 200 labelled GED headlines) posts unedited."""

from __future__ import annotations

import csv
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.config import Settings
from app.drafts import gazetteer
from app.main import create_app
from tests.conftest import make_key
from tests.helpers import DATA, assert_problem, row_counts, run_cli

CORPUS = sorted((DATA / "drafts").glob("*.txt"))
SEED = DATA / "drafts" / "syria-direct-2018-04-18-east-qalamoun.txt"
HEADLINES = DATA / "ged-headlines-labelled.csv"


def draft(client: TestClient, text: str, **extra: Any) -> dict[str, Any]:
    body = {"text": text, "published_date": "2018-04-18", "outlet": "Syria Direct", **extra}
    response = client.post("/v1/drafts", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def post(client: TestClient, drafted: dict[str, Any]) -> dict[str, Any]:
    report = {k: v for k, v in drafted.items() if k != "annotations"}
    response = client.post("/v1/reports", json=report)
    assert response.status_code == 201, response.text
    return response.json()


def quote_of(drafted: dict[str, Any], key: str) -> dict[str, Any]:
    return next(q for q in drafted["quotes"] if q["key"] == key)


def test_seed_article_as_checked_by_hand(client: TestClient, demo: dict[str, Any]) -> None:
    text = SEED.read_text(encoding="utf-8")
    drafted = draft(client, text)
    article = drafted["article"]
    assert article["body"] == text
    assert article["title"] == (
        "Air raids and clashes in East Qalamoun amid negotiations for rebel surrender"
    )
    assert article["dateline"] == "Amman"
    # The three speakers, each quote at its offsets, the nested quote's paragraph included.
    speakers = {q["speaker"]["name"] for q in drafted["quotes"] if q["key"].startswith("q")}
    assert speakers == {"Omar al-Qalamouni", "Suleiman al-Qalamouni", "Marwan al-Qadi"}
    for q in drafted["quotes"]:
        assert text[q["start"] : q["end"]] == q["text"]
    hit_and_run = next(q for q in drafted["quotes"] if q["text"] == "hit and run")
    assert hit_and_run["speaker"] == {
        "name": "Suleiman al-Qalamouni",
        "role": "military commander with Ahmad al-Abdo",
    }
    assert quote_of(drafted, "q1")["speaker"] == {
        "name": "Omar al-Qalamouni",
        "role": "media activist",
    }
    events = {e["sub_event_type"]: e for e in drafted["events"]}
    # The demo's places, by id: al-Ruheibah (5) and Jabal Sharqi (4) inside East Qalamoun (3).
    places = {p["name"]: p["id"] for p in demo["places"]}
    assert events["Armed clash"]["place"] == {"id": places["al-Ruheibah"]}
    air = events["Air/drone strike"]
    assert air["place"] == {"id": places["Jabal Sharqi"]}
    assert air["date_start"] == "2018-04-17" and air["date_end"] == "2018-04-18"
    assert {"kind": "barrel bombs", "value": 75, "qualifier": "over"}.items() <= next(
        m for m in air["measures"] if m["value"] == 75
    ).items()
    missiles = next(m for m in air["measures"] if m["kind"] == "missiles")
    assert missiles["value"] == 150 and "qualifier" not in missiles
    assert quote_of(drafted, missiles["quote"])["text"].startswith("A military source")
    # Sunday, resolved against Wednesday 18 April 2018.
    seizure = events["Non-state actor overtakes territory"]
    assert (seizure["date_start"], seizure["date_precision"]) == ("2018-04-15", "day")
    assert seizure["measures"] == [{"kind": "military points", "value": 4, "quote": "s14"}]
    assert events["Agreement"]["event_type"] == "Strategic developments"
    # Every event cites at least one quote.
    assert all(e["quotes"] for e in drafted["events"])
    # Each annotation's evidence is the text at its offsets.
    for item in drafted["annotations"]["items"]:
        if item["start"] is not None:
            assert text[item["start"] : item["end"]] == item["text"], item
    sunday = [
        a
        for a in drafted["annotations"]["items"]
        if a["kind"] == "date" and a["text"] == "on Sunday"
    ]
    assert sunday and "last one on or before" in sunday[0]["why"]
    created = post(client, drafted)
    assert len(created["events"]) == len(drafted["events"])


def test_seed_article_on_an_empty_database_proposes_new_places_inside_their_parents(
    client: TestClient,
) -> None:
    drafted = draft(client, SEED.read_text(encoding="utf-8"))
    clash = next(e for e in drafted["events"] if e["sub_event_type"] == "Armed clash")
    place = clash["place"]
    assert (place["name"], place["kind"]) == ("al-Ruheibah", "populated_place")
    assert (place["parent"]["name"], place["parent"]["kind"]) == ("Jabal Sharqi", "natural_feature")
    assert place["parent"]["parent"]["name"] == "East Qalamoun"
    assert place["parent"]["parent"]["parent"]["name"] == "Syria"
    created = post(client, drafted)
    statuses = {p["name"]: p["status"] for p in created["places"]}
    assert statuses["al-Ruheibah"] == "created"


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_every_corpus_article_posts_unedited(client: TestClient, path: Path) -> None:
    drafted = draft(
        client, path.read_text(encoding="utf-8"), url=f"https://example.org/{path.stem}"
    )
    post(client, drafted)
    # Posting it again is recognised: the draft is a stable document.
    report = {k: v for k, v in drafted.items() if k != "annotations"}
    assert client.post("/v1/reports", json=report).status_code == 200


def test_every_labelled_headline_posts_unedited(client: TestClient) -> None:
    with HEADLINES.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    with_events = 0
    for row in rows:
        text = "\n".join(p.strip() for p in row["headline"].split(";") if p.strip())
        drafted = draft(client, text, url=f"https://example.org/ged/{row['id']}")
        with_events += bool(drafted["events"])
        post(client, drafted)
    assert with_events > 100


def test_a_draft_writes_nothing(client: TestClient, engine: Engine) -> None:
    before = row_counts(engine)
    draft(client, SEED.read_text(encoding="utf-8"))
    draft(client, "Gunmen kill 12 villagers in central Nigeria", outlet={"name": "New Outlet"})
    assert row_counts(engine) == before


def test_nothing_found_is_an_empty_draft_that_says_so(client: TestClient) -> None:
    drafted = draft(client, "The committee approved the minutes of the previous meeting.")
    assert drafted["events"] == [] and drafted["quotes"] == []
    notes = " ".join(drafted["annotations"]["notes"])
    assert "No event found" in notes and "Nothing found" in notes
    post(client, drafted)


def test_text_that_is_not_english_is_said_to_be_out_of_scope(client: TestClient) -> None:
    drafted = draft(client, (DATA / "drafts" / "french-ituri.txt").read_text(encoding="utf-8"))
    annotations = drafted["annotations"]
    assert annotations["language"] == "fr" and annotations["english"] is False
    assert any("out of scope" in n for n in annotations["notes"])
    assert drafted["article"]["language"] == "fr"


def test_figures_dates_and_speakers_of_a_short_article(client: TestClient) -> None:
    drafted = draft(
        client,
        (DATA / "drafts" / "nigeria-kogi-attack.txt").read_text(encoding="utf-8"),
        published_date="2021-03-10",
        outlet="Example Wire",
    )
    attack = drafted["events"][0]
    assert (attack["event_type"], attack["sub_event_type"]) == (
        "Violence against civilians",
        "Attack",
    )
    assert attack["fatalities"]["best"] == 12
    assert attack["date_start"] == "2021-03-09"  # "on Tuesday", the article a Wednesday
    assert {"kind": "wounded", "value": 7} in [
        {k: m[k] for k in ("kind", "value")} for m in attack["measures"]
    ]
    assert quote_of(drafted, "q1")["speaker"]["name"] == "Musa Adamu"
    assert quote_of(drafted, "q2")["speaker"]["name"] == "Musa Adamu"  # same paragraph
    place = attack["place"]  # "the village of Agojeju in Kogi state": new, inside Kogi
    assert (place["name"], place["kind"], place["country"]) == ("Agojeju", "populated_place", "NG")
    assert (place["parent"]["name"], place["parent"]["kind"]) == ("Kogi", "admin1")
    assert place["parent"]["parent"]["name"] == "Nigeria"
    dozens = drafted["events"][1]["fatalities"]
    assert dozens == {"low": 24, "high": 99}  # "dozens killed": a range


def test_nested_and_straight_quotes(client: TestClient) -> None:
    text = (DATA / "drafts" / "ukraine-shelling.txt").read_text(encoding="utf-8")
    drafted = draft(client, text, outlet="Example Wire")
    speech = quote_of(drafted, "q1")
    assert speech["text"].startswith("We heard the first explosion")
    assert "'run, run to the basement'" in speech["text"]  # the nested quote stays inside
    assert speech["speaker"] == {"name": "Olena Kovalenko", "role": "trader"}
    shelling = drafted["events"][0]
    assert shelling["sub_event_type"] == "Shelling/artillery/missile attack"
    assert shelling["fatalities"] == {"best": 3}
    assert shelling["place"]["name"] == "Donetsk"


@pytest.mark.parametrize(
    ("body", "status", "where"),
    [
        ({"text": ""}, 422, "text"),
        ({"text": "   \n\t "}, 422, "text"),
        ({"published_date": "2018-02-30"}, 422, "published_date"),
        ({"published_date": "yesterday"}, 422, "published_date"),
        ({"outlet": ""}, 422, "outlet"),
        ({"outlet": "!!!"}, 422, "outlet"),
        ({"outlet": {"id": 999}}, 422, "outlet"),
        ({"outlet": None}, 422, "outlet"),
        ({"text": 7}, 422, "text"),
        ({"colour": "red"}, 422, "colour"),
    ],
)
def test_bad_input_is_a_problem(
    client: TestClient, engine: Engine, body: dict[str, Any], status: int, where: str
) -> None:
    request = {
        "text": "Shelling hit al-Bab.",
        "published_date": "2018-04-18",
        "outlet": "X",
        **body,
    }
    before = row_counts(engine)
    problem = assert_problem(client.post("/v1/drafts", json=request), status)
    assert any(where in map(str, e["loc"]) for e in problem["errors"]), problem
    assert row_counts(engine) == before


def test_a_text_over_the_body_limit_is_a_413(client: TestClient) -> None:
    limit = client.app.state.settings.max_body_bytes  # type: ignore[attr-defined]
    body = json.dumps({"text": "x" * (limit + 1), "published_date": "2018-04-18", "outlet": "X"})
    response = client.post("/v1/drafts", content=body, headers={"content-type": "application/json"})
    assert_problem(response, 413)


def test_drafts_need_the_ingest_scope(
    client: TestClient, anon_client: TestClient, database_url: str
) -> None:
    body = {"text": "Shelling hit al-Bab.", "published_date": "2018-04-18", "outlet": "X"}
    assert_problem(anon_client.post("/v1/drafts", json=body), 401)
    reader = make_key(database_url, ["read"], name="reader")
    response = anon_client.post(
        "/v1/drafts", json=body, headers={"Authorization": f"Bearer {reader}"}
    )
    assert_problem(response, 403)
    ingest = make_key(database_url, ["ingest"], name="ingest")
    response = anon_client.post(
        "/v1/drafts", json=body, headers={"Authorization": f"Bearer {ingest}"}
    )
    assert response.status_code == 200, response.text


def test_the_command_line_prints_the_same_draft(
    client: TestClient, database_url: str, tmp_path: Path
) -> None:
    text = (DATA / "drafts" / "kenya-protest.txt").read_text(encoding="utf-8")
    path = tmp_path / "article.txt"
    path.write_text(text, encoding="utf-8")
    result = run_cli(
        database_url, "draft", str(path), "--date", "2018-04-18", "--outlet", "Syria Direct"
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed == draft(client, text)
    refused = run_cli(database_url, "draft", str(path), "--date", "2018-13-01", "--outlet", "X")
    assert refused.exit_code == 2
    assert "published_date" in refused.stderr


def test_the_command_line_reads_stdin_and_names_a_file_it_cannot_read(
    database_url: str, tmp_path: Path
) -> None:
    text = (DATA / "drafts" / "kenya-protest.txt").read_text(encoding="utf-8")
    args = ("--date", "2018-04-18", "--outlet", "Syria Direct")
    result = run_cli(database_url, "draft", "-", *args, input=text)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["article"]["body"] == text
    missing = run_cli(database_url, "draft", str(tmp_path / "nowhere.txt"), *args)
    assert missing.exit_code == 2 and "nowhere.txt" in missing.stderr
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Les forces armées".encode("latin-1"))
    refused = run_cli(database_url, "draft", str(latin1), *args)
    assert refused.exit_code == 2 and "not UTF-8" in refused.stderr


@pytest.mark.parametrize("preload", [False, True])
def test_the_gazetteer_is_built_at_start_up_when_asked(
    database_url: str, monkeypatch: pytest.MonkeyPatch, preload: bool
) -> None:
    built = threading.Event()
    monkeypatch.setattr(gazetteer, "get", built.set)
    settings = Settings(
        database_url=database_url,
        environment="test",
        demo=False,
        migrate_on_start=False,
        drafts_preload=preload,
    )
    with TestClient(create_app(settings)):
        assert built.wait(5 if preload else 0.5) is preload
