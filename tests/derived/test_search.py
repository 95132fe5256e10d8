"""Full-text search: one query syntax, the same answers from SQLite FTS5 and PostgreSQL.

The index is written by the writer (app/derived.py); these tests search it directly through
``matching_event_ids``, the construct the events filter uses.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app import writer
from app.core.errors import ValidationProblem
from app.db.session import read_session
from app.derived import search
from app.writer.transaction import write_session
from tests.writer.helpers import etag_of


def found(engine: Engine, q: str) -> set[int]:
    with read_session(engine) as session:
        return set(session.scalars(search.matching_event_ids(q)))


def test_words_fold_case_and_accents_and_split_like_both_indexes() -> None:
    assert search.words("Al-Ruheibah, ÉCOLE  d'été_2018") == [
        "al",
        "ruheibah",
        "ecole",
        "d",
        "ete",
        "2018",
    ]
    # Arabic: the short-vowel marks are dropped, the letters kept.
    assert search.words("قَلَمون") == ["قلمون"]


@pytest.mark.parametrize(
    ("q", "fts5", "tsquery"),
    [
        ("barrel bombs", '("barrel") AND ("bombs")', "(('barrel')) & (('bombs'))"),
        ('"barrel bombs"', '("barrel bombs")', "(('barrel' <-> 'bombs'))"),
        ("al-Abdo", '("al abdo")', "(('al' <-> 'abdo'))"),
        ("bomb* OR missiles", '("bomb"* OR "missiles")', "(('bomb':*) | ('missiles'))"),
        ("qalamoun -russian", '(("qalamoun")) NOT ("russian")', "(('qalamoun')) & !('russian')"),
        ('"unterminated phrase', '("unterminated phrase")', "(('unterminated' <-> 'phrase'))"),
    ],
)
def test_query_translation(q: str, fts5: str, tsquery: str) -> None:
    parsed = search.parse(q)
    assert search.to_fts5(parsed) == fts5
    assert search.to_tsquery(parsed) == tsquery


@pytest.mark.parametrize("q", ["", "   ", "-only -excluded", "!!! ???", "OR"])
def test_a_query_with_nothing_to_find_is_a_422(q: str) -> None:
    with pytest.raises(ValidationProblem):
        search.parse(q)


def test_too_many_terms_is_a_422() -> None:
    with pytest.raises(ValidationProblem):
        search.parse(" ".join(f"w{i}" for i in range(search.MAX_TERMS + 1)))


def test_quotes_titles_and_summaries_are_searched(
    client: TestClient, demo: dict[str, Any], engine: Engine
) -> None:
    events = demo["events"]
    air, ground = events["air-raids-jabal-sharqi"], events["ground-battles-ruheibah"]
    seize, talks = events["rebels-seize-military-points"], events["negotiations-east-qalamoun"]
    everything = {air, ground, seize, talks}
    # A word of one summary only.
    assert found(engine, "helicopters carried") == {air}
    # The article's title: every event cites the article.
    assert found(engine, "surrender amid") == everything
    # A quote's words, not in any summary: "The Russians negotiate, and the regime bombs."
    assert found(engine, '"regime bombs"') == {talks}
    assert found(engine, "RUHEIBAH") == {ground}
    assert found(engine, "ruheib*") == {ground}
    assert found(engine, "ruheibah OR helicopters") == {air, ground}
    assert found(engine, "qalamoun -ruheibah") == everything - {ground}
    assert found(engine, "nothingmatchesthis") == set()


def test_the_index_follows_edits_of_events_articles_and_quotes(
    client: TestClient, demo: dict[str, Any], engine: Engine
) -> None:
    event_id = demo["events"]["ground-battles-ruheibah"]
    url = f"/v1/events/{event_id}"
    response = client.patch(
        url, json={"summary": "Shelling near Zabadani."}, headers={"If-Match": etag_of(client, url)}
    )
    assert response.status_code == 200, response.text
    assert found(engine, "zabadani") == {event_id}
    # The summary's own words went; its quote's words stay.
    assert event_id not in found(engine, "clashed")
    assert event_id in found(engine, "afternoon offensive")

    article_url = f"/v1/articles/{demo['article']['id']}"
    response = client.patch(
        article_url,
        json={"title": "Hostilities in the Qalamoun mountains"},
        headers={"If-Match": etag_of(client, article_url)},
    )
    assert response.status_code == 200, response.text
    assert found(engine, "mountains hostilities") == set(demo["events"].values())
    assert found(engine, "surrender amid") == set()

    talks = demo["events"]["negotiations-east-qalamoun"]
    quote_url = f"/v1/quotes/{demo['quotes']['marwan-russians-bomb']}"
    assert found(engine, '"regime bombs"') == {talks}
    # Quotes are the source's exact words and are not edited; deleting one drops its words.
    response = client.delete(quote_url, headers={"If-Match": etag_of(client, quote_url)})
    assert response.status_code in (200, 204), response.text
    assert found(engine, '"regime bombs"') == set()
    assert talks in found(engine, "negotiations")


def test_an_event_created_in_the_transaction_that_wrote_its_words_is_found_by_them(
    client: TestClient, engine: Engine
) -> None:
    """The writer hands the commit the search text of events it creates from an article and
    quotes written in the same transaction (none of it is read back); a title or quote edited
    in between is read back as stored, not as first written."""
    with write_session(engine) as session:
        (outlet_id,) = writer.create_outlets(session, [writer.NewOutlet(name="Handover Post")])
        article_id = writer.create_article(
            session,
            writer.NewArticle(outlet_id=outlet_id, title="Firstword title", body="Body text."),
        )
        (quote_id,) = writer.create_quotes(
            session, [writer.NewQuote(article_id=article_id, text="quotedword", start=0, end=4)]
        )
        (kept,) = writer.create_events(
            session,
            [
                writer.NewEvent(
                    event_type="Battles",
                    date_start=date(2020, 1, 1),
                    date_end=date(2020, 1, 1),
                    date_precision="day",
                    summary="Summaryword",
                    sources=[writer.NewSource(article_id, [quote_id])],
                )
            ],
        )
        writer.update_article(
            session, article_id, 1, {"title": "Secondword title"}, api_key_id=None
        )
        writer.update_quote(session, quote_id, 1, {"text": "editedquote"}, api_key_id=None)
        (later,) = writer.create_events(
            session,
            [
                writer.NewEvent(
                    event_type="Battles",
                    date_start=date(2020, 1, 2),
                    date_end=date(2020, 1, 2),
                    date_precision="day",
                    sources=[writer.NewSource(article_id, [quote_id])],
                )
            ],
        )
    assert found(engine, "summaryword") == {kept}
    assert found(engine, "secondword") == {kept, later}
    assert found(engine, "editedquote") == {kept, later}
    assert found(engine, "firstword") == found(engine, "quotedword") == set()
