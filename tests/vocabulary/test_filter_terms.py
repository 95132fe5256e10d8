"""A filter value outside its vocabulary is a 422 naming the nearest known terms (or all of
them), on every list that filters by one, in every format, and in `conflictdb export`; the
vocabularies are the database's (GET /v1/vocabulary), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import Engine, insert

from app.config import Settings
from app.core.fields import Term
from app.main import create_app
from app.models import EventType
from app.vocabulary import service
from app.vocabulary.dependencies import KnownTerms
from tests.cli.test_import_cli import db, run
from tests.helpers import assert_problem

__all__ = ["db"]  # the fixture, used below by name

EVENT_TYPES = (
    "Battles, Explosions/Remote violence, Protests, Riots, Strategic developments, "
    "Violence against civilians"
)


@pytest.mark.parametrize(
    "path, params, loc, msg, type_",
    [
        (
            "/v1/events",
            {"event_type": "Battle"},
            ["query", "event_type", 0],
            "unknown event type 'Battle'; did you mean 'Battles'?",
            "unknown_event_type",
        ),
        (
            "/v1/events",
            {"event_type": ["Riots", "protests"]},
            ["query", "event_type", 1],
            "unknown event type 'protests'; did you mean 'Protests'?",
            "unknown_event_type",
        ),
        (
            "/v1/events",
            {"event_type": "Picnic"},
            ["query", "event_type", 0],
            f"unknown event type 'Picnic'; one of {EVENT_TYPES}",
            "unknown_event_type",
        ),
        (
            "/v1/events",
            {"sub_event_type": "Armed clashes", "format": "csv"},
            ["query", "sub_event_type", 0],
            "unknown sub-event type 'Armed clashes'; did you mean 'Armed clash'?",
            "unknown_sub_event_type",
        ),
        (
            "/v1/events",
            {"sub_event_type": "shelling", "format": "geojson"},
            ["query", "sub_event_type", 0],
            "unknown sub-event type 'shelling'; did you mean 'Shelling/artillery/missile attack'?",
            "unknown_sub_event_type",
        ),
        (
            "/v1/stats/events",
            {"event_type": "Riot", "group_by": "country"},
            ["query", "event_type", 0],
            "unknown event type 'Riot'; did you mean 'Riots'?",
            "unknown_event_type",
        ),
        (
            "/v1/stats/places",
            {"sub_event_type": "Air strike"},
            ["query", "sub_event_type", 0],
            "unknown sub-event type 'Air strike'; did you mean 'Air/drone strike'?",
            "unknown_sub_event_type",
        ),
        (
            "/v1/changes",
            {"event_type": "Riot"},
            ["query", "event_type", 0],
            "unknown event type 'Riot'; did you mean 'Riots'?",
            "unknown_event_type",
        ),
        (
            "/v1/actors",
            {"kind": "rebels"},
            ["query", "kind"],
            "unknown actor kind 'rebels'; did you mean 'rebel_group'?",
            "unknown_kind",
        ),
        (
            "/v1/actors",
            {"kind": "army"},
            ["query", "kind"],
            "unknown actor kind 'army'; one of civilians, coalition, external_forces, "
            "identity_militia, person, political_militia, protesters, rebel_group, rioters, "
            "state_forces",
            "unknown_kind",
        ),
        (
            "/v1/places",
            {"kind": "town"},
            ["query", "kind"],
            "unknown place kind 'town'; one of admin1, admin2, admin3, country, "
            "natural_feature, populated_place, region, site",
            "unknown_kind",
        ),
        (
            "/v1/places",
            {"kind": "populated place"},
            ["query", "kind"],
            "unknown place kind 'populated place'; did you mean 'populated_place'?",
            "unknown_kind",
        ),
        (
            "/v1/outlets",
            {"kind": "nationa"},
            ["query", "kind"],
            "unknown outlet kind 'nationa'; did you mean 'national' or 'international'?",
            "unknown_kind",
        ),
    ],
)
def test_an_unknown_term_is_422_naming_the_nearest(
    client: TestClient, path: str, params: dict[str, Any], loc: list[Any], msg: str, type_: str
) -> None:
    body = assert_problem(client.get(path, params=params), 422, type_suffix="validation-error")
    assert body["errors"] == [{"loc": loc, "msg": msg, "type": type_}]
    assert body["detail"] == f"{'.'.join(map(str, loc))}: {msg}"


def test_known_terms_filter_as_before(client: TestClient, demo: dict[str, Any]) -> None:
    events = client.get(
        "/v1/events", params={"event_type": "Battles", "sub_event_type": "Armed clash"}
    )
    assert events.status_code == 200 and len(events.json()["data"]) == 1
    for path, kind in [
        ("/v1/actors", "rebel_group"),
        ("/v1/places", "country"),
        ("/v1/outlets", "national"),
    ]:
        assert client.get(path, params={"kind": kind}).status_code == 200, path


def test_export_refuses_an_unknown_term_with_the_same_words(database_url: str, db: Engine) -> None:
    result = run(database_url, "export", "--event-type", "Battle")
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        "conflictdb: error: --event-type: unknown event type 'Battle'; did you mean 'Battles'?\n"
    )
    assert result.stdout == ""


def test_the_vocabularies_are_read_once_and_again_only_for_a_term_they_lack(
    client: TestClient, engine: Engine
) -> None:
    assert client.get("/v1/events", params={"event_type": "Battles"}).status_code == 200
    first = service.cached_terms(engine)
    assert first is not None and "Riots" in first["event_type"]
    assert client.get("/v1/events", params={"event_type": "Riots"}).status_code == 200
    assert service.cached_terms(engine) is first  # known terms: nothing read
    # A term a migration adds (inserted here as one would) is known without a restart.
    with engine.begin() as connection:
        connection.execute(
            insert(EventType).values(name="Cyber operations", description="A test's own type.")
        )
    assert client.get("/v1/events", params={"event_type": "Cyber operations"}).json() == {
        "data": [],
        "next_cursor": None,
    }
    assert service.cached_terms(engine) is not first


def test_every_list_filtering_by_a_term_checks_it() -> None:
    """Each route whose query model has a term field takes it through ``known_terms``."""
    app = create_app(Settings(database_url="sqlite://", demo=False, migrate_on_start=False))
    checked = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        calls = [d.call for d in _dependants(route.dependant)]
        params = [p for d in _dependants(route.dependant) for p in d.query_params]
        models = [p.field_info.annotation for p in params]
        with_terms = [
            m
            for m in models
            if isinstance(m, type)
            and issubclass(m, BaseModel)
            and any(isinstance(x, Term) for f in m.model_fields.values() for x in f.metadata)
        ]
        if with_terms:
            assert any(isinstance(c, KnownTerms) for c in calls), route.path
            checked.add(route.path)
    assert checked == {
        "/v1/events",
        "/v1/stats/events",
        "/v1/stats/places",
        "/v1/changes",  # issue 12: the feed takes the list's filters
        "/v1/events/diff",  # issue 12: a diff takes the list's filters
        "/v1/actors",
        "/v1/places",
        "/v1/outlets",
    }


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)
