"""The typed row shapes the repositories declare (TypedDicts, NamedTuples) against the rows
their functions return, on both databases.

The shapes are cast onto the dicts SQLAlchemy returns, so mypy takes them on trust; here every
one is read from a database holding the demo report, an API key, an idempotency record and a
slice of the UCDP sample, and each row must have exactly the shape's keys (a total=False or
NotRequired key may be absent) with values of its declared types. A shape declared in a
repository module and not checked here fails ``test_every_shape_is_checked``.
"""

from __future__ import annotations

import importlib
import pkgutil
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NotRequired, Required, Union, get_args, get_origin, get_type_hints

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

import app
from app.actors import repository as actors
from app.articles import repository as articles
from app.auth import keys
from app.auth import repository as auth
from app.changes import repository as changes
from app.datasets import repository as datasets
from app.db.session import read_session
from app.events import repository as events
from app.events.schemas import EventFilter
from app.formats.records import UCDP_GED
from app.idempotency import repository as idempotency
from app.models import (
    ActorAffiliation,
    ActorAlias,
    ApiKey,
    Article,
    Event,
    EventProvenance,
    Outlet,
    Place,
    PlaceAncestor,
    Quote,
)
from app.outlets import repository as outlets
from app.places import repository as places
from app.quotes import repository as quotes
from app.reports import repository as reports
from app.stats import repository as stats
from app.stats.schemas import METRICS
from tests.conftest import demo_report
from tests.datasets.test_loader import ged_rows, import_ged

IDEMPOTENCY_KEY = "row-shapes-1"
# Shapes that are only bases of others (checked through those).
BASES: set[type] = {stats.MetricTotals}


@dataclass
class Seeded:
    """Ids of rows the checks read."""

    actor: int
    affiliation: int
    place: int  # a place with a parent
    country_place: int
    article: int
    quote: int
    event: int
    outlet: int
    key: int
    key_sha256: str
    dataset: int
    dataset_external_ids: list[str]


# A read returns the rows to check: a function's one row (in a list), or its rows.
Read = Callable[[Session, Seeded], list[Any]]


def _one(session: Session, stmt: Any) -> Any:
    return session.execute(stmt.limit(1)).scalar_one()


def _cases() -> list[tuple[type, Read]]:
    """Each shape with a read of the function (or functions) returning it."""

    def actor_name(s: Session, ids: Seeded) -> str:
        return str(_one(s, select(ActorAlias.name_norm).where(ActorAlias.actor_id == ids.actor)))

    def place_edit(s: Session, ids: Seeded) -> places.PlaceForEdit:
        row = places.place_for_edit(s, ids.place)
        assert row is not None
        return row

    def inside_country(s: Session, ids: Seeded) -> str:
        return str(
            _one(
                s,
                select(Place.name_norm)
                .join(PlaceAncestor, PlaceAncestor.place_id == Place.id)
                .where(PlaceAncestor.ancestor_id == ids.country_place, PlaceAncestor.depth > 0),
            )
        )

    return [
        # actors
        (actors.ActorForEdit, lambda s, ids: [actors.actor_for_edit(s, ids.actor)]),
        (actors.MergeState, lambda s, ids: [actors.merge_state(s, ids.actor)]),
        (actors.AliasRow, lambda s, ids: actors.alias_rows(s, ids.actor)),
        (actors.AffiliationRow, lambda s, ids: [actors.affiliation_row(s, ids.affiliation)]),
        (actors.ActorReferences, lambda s, ids: [actors.references(s, ids.actor)]),
        (actors.LiveActor, lambda s, ids: [actors.live_actor(s, ids.actor)]),
        (
            actors.ActorCandidate,
            lambda s, ids: actors.actor_candidates(s, actor_name(s, ids), None, None),
        ),
        (
            actors.ActorAliasMatch,
            lambda s, ids: actors.actors_by_alias_norms(s, [actor_name(s, ids)]),
        ),
        # places
        (places.PlaceForEdit, lambda s, ids: [place_edit(s, ids)]),
        (places.MergeState, lambda s, ids: [places.merge_state(s, ids.place)]),
        (
            places.NameHolder,
            lambda s, ids: [
                places.holder_of_name(
                    s,
                    place_edit(s, ids)["name_norm"],
                    parent_id=place_edit(s, ids)["parent_id"],
                    country=None,
                )
            ],
        ),
        (
            places.ChildPlace,
            lambda s, ids: list(
                places.children_by_name(s, ids.country_place, live_only=False).values()
            ),
        ),
        (places.PlaceReferences, lambda s, ids: [places.references(s, ids.place)]),
        (places.LivePlace, lambda s, ids: [places.place_row(s, ids.place)]),
        (
            places.PlaceCandidate,
            lambda s, ids: places.place_candidates(
                s, place_edit(s, ids)["name_norm"], within=None, country=None, kind=None
            ),
        ),
        (
            places.AliasMatch,
            lambda s, ids: places.places_by_alias_norms(
                s, [place_edit(s, ids)["name_norm"], inside_country(s, ids)]
            ),
        ),
        # outlets, articles, quotes, events
        (outlets.OutletForEdit, lambda s, ids: [outlets.outlet_for_edit(s, ids.outlet)]),
        (
            outlets.OutletName,
            lambda s, ids: [
                outlets.outlet_by_norm(
                    s, _one(s, select(Outlet.name_norm).where(Outlet.id == ids.outlet))
                )
            ],
        ),
        (articles.ArticleForEdit, lambda s, ids: [articles.article_for_edit(s, ids.article)]),
        (quotes.QuoteForEdit, lambda s, ids: [quotes.quote_for_edit(s, ids.quote)]),
        (events.EventForEdit, lambda s, ids: [events.event_for_edit(s, ids.event)]),
        # keys and idempotency
        (
            auth.ApiKeyRow,
            lambda s, ids: [
                auth.get_key(s, ids.key),
                auth.key_by_hash(s, ids.key_sha256),
                auth.key_by_prefix(s, _one(s, select(ApiKey.prefix).where(ApiKey.id == ids.key))),
            ],
        ),
        (
            idempotency.IdempotencyRow,
            lambda s, ids: [idempotency.find(s, ids.key, IDEMPOTENCY_KEY)],
        ),
        # reports
        (reports.Vocabulary, lambda s, ids: [reports.vocabulary(s)]),
        (reports.StoredReport, lambda s, ids: [reports.report_for_article(s, ids.article)]),
        # stats (every metric asked for, so every optional key is there)
        (stats.RollupPlace, lambda s, ids: [stats.place_for_rollup(s, ids.country_place)]),
        (
            # The totals of each place on the map (issue 12), its ``at_id`` and the number of
            # events behind them (``EVENTS``, for the mean metrics) aside.
            stats.MetricTotals,
            lambda s, ids: [
                {k: v for k, v in row.items() if k not in ("at_id", stats.EVENTS)}
                for row in stats.place_totals(
                    s, EventFilter(), level="place", metrics=METRICS, limit=100
                )
            ],
        ),
        (
            stats.PlacePoint,
            lambda s, ids: list(stats.place_points(s, [ids.place, ids.country_place]).values()),
        ),
        # the change feed
        (changes.Change, lambda s, ids: changes.changes_after(s, None, 10)),
        # dataset imports
        (datasets.DatasetRow, lambda s, ids: [datasets.dataset(s, UCDP_GED.name)]),
        (
            datasets.Provenance,
            lambda s, ids: list(
                datasets.provenance(s, ids.dataset, ids.dataset_external_ids).values()
            ),
        ),
        (
            datasets.ImportedEvent,
            lambda s, ids: list(datasets.active_imported_events(s, ids.dataset)),
        ),
        (
            datasets.TopLevelPlace,
            lambda s, ids: datasets.top_level_places(
                s, [_one(s, select(Place.country).where(Place.id == ids.country_place))]
            ),
        ),
        (
            datasets.PlaceWithin,
            lambda s, ids: datasets.places_named_within(
                s, [ids.country_place], [inside_country(s, ids)]
            ),
        ),
        (
            datasets.NamedActor,
            lambda s, ids: datasets.actors_named(
                s,
                ids.dataset,
                list(s.scalars(select(ActorAlias.name_norm).limit(50))),
            ),
        ),
        (datasets.Vocabulary, lambda s, ids: [datasets.vocabulary(s)]),
    ]


# -- the shape checks ---------------------------------------------------------------------------


def _fields(shape: type) -> tuple[dict[str, Any], set[str]]:
    """A shape's field types, and which fields are required."""
    hints = get_type_hints(shape, include_extras=True)
    if not typing.is_typeddict(shape):
        return hints, set(hints)  # a NamedTuple: every field
    # __required_keys__ is wrong for NotRequired under `from __future__ import annotations`
    # (Python 3.11), so NotRequired is read from the hints; total=False from the class.
    optional = set(shape.__optional_keys__) | {  # type: ignore[attr-defined]
        key for key, hint in hints.items() if get_origin(hint) is NotRequired
    }
    return hints, set(hints) - optional


def _conforms(value: Any, hint: Any) -> bool:
    origin, args = get_origin(hint), get_args(hint)
    if hint is Any:
        return True
    if hint is None or hint is type(None):
        return value is None
    if origin in (NotRequired, Required):
        return _conforms(value, args[0])
    if origin in (Union, types.UnionType):
        return any(_conforms(value, arg) for arg in args)
    if origin in (list, set, frozenset):
        return isinstance(value, origin) and all(_conforms(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(
            _conforms(k, args[0]) and _conforms(v, args[1]) for k, v in value.items()
        )
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is date:
        return isinstance(value, date) and not isinstance(value, datetime)
    return isinstance(value, hint)


def shape_problems(value: Any, shape: type) -> list[str]:
    """How ``value`` differs from ``shape`` (nothing when it has exactly its keys and types)."""
    hints, required = _fields(shape)
    if typing.is_typeddict(shape):
        if not isinstance(value, dict):
            return [f"a {type(value).__name__}, not a dict"]
        present = dict(value)
    else:
        if not isinstance(value, shape):
            return [f"a {type(value).__name__}, not a {shape.__name__}"]
        present = value._asdict()  # type: ignore[attr-defined]
    problems = []
    if missing := required - set(present):
        problems.append(f"missing keys {sorted(missing)}")
    if extra := set(present) - set(hints):
        problems.append(f"undeclared keys {sorted(extra)}")
    problems += [
        f"{key}={present[key]!r} is not {hints[key]}"
        for key in sorted(set(present) & set(hints))
        if not _conforms(present[key], hints[key])
    ]
    return problems


# -- the database ------------------------------------------------------------------------------


def _seed(client: TestClient, engine: Engine, write_key: str) -> Seeded:
    response = client.post("/v1/reports", json=demo_report())
    assert response.status_code == 201, response.text
    response = client.post(
        "/v1/outlets",
        json={"name": "Row Shapes Outlet", "kind": "national"},
        headers={"Idempotency-Key": IDEMPOTENCY_KEY},
    )
    assert response.status_code == 201, response.text
    rows = ged_rows()[:40]
    summary = import_ged(engine, rows)
    assert summary.created == len(rows), summary
    with read_session(engine) as s:
        key_sha256 = keys.hash_key(write_key)
        tie = s.execute(select(ActorAffiliation.id, ActorAffiliation.actor_id).limit(1)).one()
        country_place = _one(
            s,
            select(Place.id)
            .where(Place.kind == "country", Place.parent_id.is_(None))
            .order_by(Place.id),
        )
        return Seeded(
            actor=tie.actor_id,
            affiliation=tie.id,
            place=_one(
                s,
                select(Place.id).where(Place.parent_id == country_place).order_by(Place.id),
            ),
            country_place=country_place,
            article=_one(s, select(Article.id).order_by(Article.id)),
            quote=_one(s, select(Quote.id).order_by(Quote.id)),
            event=_one(s, select(Event.id).order_by(Event.id)),
            outlet=_one(s, select(Outlet.id).order_by(Outlet.id)),
            key=_one(s, select(ApiKey.id).where(ApiKey.key_sha256 == key_sha256)),
            key_sha256=key_sha256,
            dataset=_one(s, select(EventProvenance.dataset_id)),
            dataset_external_ids=list(s.scalars(select(EventProvenance.external_id).limit(10))),
        )


def test_repository_rows_have_their_declared_shapes(
    client: TestClient, engine: Engine, write_key: str
) -> None:
    ids = _seed(client, engine, write_key)
    problems: list[str] = []
    with read_session(engine) as session:
        for shape, read in _cases():
            rows = read(session, ids)
            where = f"{shape.__module__}.{shape.__qualname__}"
            if not rows or any(row is None for row in rows):
                problems.append(f"{where}: the read found nothing to check")
                continue
            problems += [f"{where}: {p}" for row in rows for p in shape_problems(row, shape)]
    assert not problems, "\n".join(dict.fromkeys(problems))


# -- coverage ------------------------------------------------------------------------------------


def _declared_shapes() -> set[type]:
    """Every TypedDict and NamedTuple defined in a domain's repository (or rows) module."""
    found: set[type] = set()
    for package in pkgutil.iter_modules(app.__path__):
        for name in ("repository", "rows"):
            try:
                module = importlib.import_module(f"app.{package.name}.{name}")
            except ModuleNotFoundError:
                continue
            for obj in vars(module).values():
                if not isinstance(obj, type) or obj.__module__ != module.__name__:
                    continue
                if typing.is_typeddict(obj) or (issubclass(obj, tuple) and hasattr(obj, "_fields")):
                    found.add(obj)
    return found


def test_every_shape_is_checked() -> None:
    checked = {shape for shape, _ in _cases()}
    assert _declared_shapes() - BASES == checked - BASES  # a base may be checked too


def test_the_shape_check_catches_a_mismatch() -> None:
    """The check itself: a key too many, a key missing, a value of another type."""
    row = {"id": 1, "merged_into_id": None}
    assert shape_problems(row, actors.MergeState) == []
    assert shape_problems({**row, "name": "x"}, actors.MergeState) == ["undeclared keys ['name']"]
    assert shape_problems({"id": 1}, actors.MergeState) == ["missing keys ['merged_into_id']"]
    assert shape_problems({"id": "1", "merged_into_id": None}, actors.MergeState) == [
        "id='1' is not <class 'int'>"
    ]
    assert shape_problems(actors.LiveActor(1, "x"), actors.LiveActor) == []
    assert shape_problems((1, "x"), actors.LiveActor) == ["a tuple, not a LiveActor"]
    totals = {"count": 0}  # a metric not asked for is absent
    assert shape_problems(totals, stats.MetricTotals) == []
    assert shape_problems({"places": 0}, stats.MetricTotals) == ["undeclared keys ['places']"]
