"""Error locations name the fields of the client's own JSON: the tags pydantic gives the
members of a union (an event given ``new`` or by ``reference``, an entity by ``id`` or by
``description``) never appear in them."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.core.bodies import validate_json
from app.core.errors import ValidationProblem
from app.reports.schemas import ReportCreate
from tests.helpers import assert_problem, row_counts
from tests.reports.test_reports import small_report

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    """Put ``value`` at a dotted path of the report (``events.0.date_start``)."""

    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def _drop(path: str) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[last]

    return mutate


def _append_event(event: dict[str, Any]) -> Mutation:
    return lambda doc: doc["events"].append(event)


# (what is wrong, where the client reads it is wrong, pydantic's error type)
SITES: list[tuple[str, Mutation, list[Any], str]] = [
    (
        "a new event's bad date",
        _set("events.0.date_start", "16/04/2018"),
        ["body", "events", 0, "date_start"],
        "value_error",
    ),
    (
        "a new event's missing date",
        _drop("events.0.date_start"),
        ["body", "events", 0, "date_start"],
        "missing",
    ),
    (
        "a new event's dates out of order (a rule of the whole event)",
        _set("events.0.date_end", "2018-04-01"),
        ["body", "events", 0],
        "value_error",
    ),
    (
        "a reference to an event by both id and external_id",
        _append_event({"id": 1, "external_id": "x", "quotes": []}),
        ["body", "events", 1],
        "value_error",
    ),
    (
        "a reference's unknown field",
        _append_event({"id": 1, "colour": "red"}),
        ["body", "events", 1, "colour"],
        "extra_forbidden",
    ),
    (
        "an outlet by id, the id not a number",
        _set("article.outlet", {"id": "3"}),
        ["body", "article", "outlet", "id"],
        "int_type",
    ),
    (
        "an outlet described, its name missing",
        _set("article.outlet", {"url": "https://example.org"}),
        ["body", "article", "outlet", "name"],
        "missing",
    ),
    (
        "a place by id inside a new event",
        _set("events.0.place", {"id": 0}),
        ["body", "events", 0, "place", "id"],
        "greater_than_equal",
    ),
    (
        "a described place's parent, by id",
        _set("events.0.place.parent", {"id": -5}),
        ["body", "events", 0, "place", "parent", "id"],
        "greater_than_equal",
    ),
    (
        "a described actor's unknown field, in a new event",
        _set("events.0.actors.0.actor.colour", "red"),
        ["body", "events", 0, "actors", 0, "actor", "colour"],
        "extra_forbidden",
    ),
    (
        "an affiliation's actor by id, three unions deep",
        _set(
            "events.0.actors.0.actor.affiliations",
            [{"actor": {"id": True}, "relation": "member_of"}],
        ),
        ["body", "events", 0, "actors", 0, "actor", "affiliations", 0, "actor", "id"],
        "int_type",
    ),
    (
        "a quote's speaker's actor",
        _set("quotes.0.speaks_for", {"id": 1, "name": "both"}),
        ["body", "quotes", 0, "speaks_for", "name"],
        "extra_forbidden",
    ),
    (
        "a further place, described with a blank name",
        _set("places", [{"name": ""}]),
        ["body", "places", 0, "name"],
        "string_too_short",
    ),
]


def _bad(mutate: Mutation) -> dict[str, Any]:
    doc = copy.deepcopy(small_report())
    mutate(doc)
    return doc


def _problems(doc: dict[str, Any]) -> ValidationProblem:
    with pytest.raises(ValidationProblem) as caught:
        validate_json(ReportCreate, json.dumps(doc).encode())
    return caught.value


@pytest.mark.parametrize(
    "mutate, loc, type_", [pytest.param(m, loc, t, id=label) for label, m, loc, t in SITES]
)
def test_a_union_member_is_located_by_the_clients_fields(
    mutate: Mutation, loc: list[Any], type_: str
) -> None:
    errors = _problems(_bad(mutate)).extra["errors"]
    assert [(e["loc"], e["type"]) for e in errors] == [(loc, type_)]


def _resolves(doc: Any, loc: list[Any], type_: str) -> bool:
    """Every part of ``loc`` is a key or index of the document sent; only a missing field's
    own name (the last part) may be absent."""
    node = doc
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        in_object = isinstance(node, dict) and part in node
        in_array = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (in_object or in_array):
            return last and type_ == "missing" and isinstance(node, dict)
        node = node[part]
    return True


def test_every_location_is_a_path_in_the_document_sent() -> None:
    # Everything wrong at once, each where the client can find it.
    doc = small_report()
    for _, mutate, _, _ in SITES:
        mutate(doc)
    errors = _problems(doc).extra["errors"]
    assert len(errors) >= 10  # some of the changes overwrite others
    for error in errors:
        assert error["loc"][0] == "body"
        assert _resolves({"body": doc}, error["loc"], error["type"]), error


def test_the_problem_a_client_reads(client: TestClient, engine: Engine) -> None:
    doc = small_report()
    doc["events"][0]["date_start"] = "16/04/2018"
    doc["article"]["outlet"] = {"id": "3"}
    before = row_counts(engine)
    body = assert_problem(client.post("/v1/reports", json=doc), 422, type_suffix="validation-error")
    assert body["errors"] == [
        {
            "loc": ["body", "article", "outlet", "id"],
            "msg": "Input should be a valid integer",
            "type": "int_type",
        },
        {
            "loc": ["body", "events", 0, "date_start"],
            "msg": "Value error, dates are written YYYY-MM-DD",
            "type": "value_error",
        },
    ]
    assert body["detail"] == (
        "body.article.outlet.id: Input should be a valid integer; "
        "body.events.0.date_start: Value error, dates are written YYYY-MM-DD"
    )
    assert row_counts(engine) == before
