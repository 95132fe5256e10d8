"""`conflictdb export` takes the events list's filters (EventFilter), with the same meaning
and the same refusals, and any of its sorts; on both databases."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.cli.test_import_cli import db, run
from tests.events.world import World, world

__all__ = ["db", "world"]  # fixtures, used below by name


def exported(database_url: str, world: World, *options: str) -> list[str]:
    result = run(database_url, "export", "-f", "ndjson", *options)
    assert result.exit_code == 0, result.output
    return world.keys([json.loads(line) for line in result.stdout.splitlines()])


def test_export_filters_are_the_lists(database_url: str, world: World) -> None:
    actor: Any = world.actors
    assert exported(
        database_url, world, "--near", "34.9266,36.7325,1", "--sort", "-date_start"
    ) == [
        "e2",
        "e1",
    ]
    assert exported(
        database_url, world, "--actor", str(actor["FSA"]), "--include-affiliates", "--side", "a"
    ) == ["e1", "e6", "e12"]
    assert exported(database_url, world, "--bbox", "178,-20,-179,-15") == ["e7", "e8"]
    assert exported(
        database_url,
        world,
        "--sub-event-type",
        "Air/drone strike",
        "--sub-event-type",
        "Shelling/artillery/missile attack",
    ) == ["e3", "e8"]
    assert exported(database_url, world, "--outlet", str(world.outlets["Outlet Two"])) == [
        "e2",
        "e3",
        "e6",
    ]
    assert exported(
        database_url,
        world,
        "--fatalities-min",
        "1",
        "--fatalities-max",
        "5",
        "--geo-precision",
        "2",
    ) == ["e6", "e12"]
    assert exported(database_url, world, "--q", "heavy") == ["e1"]
    assert exported(database_url, world, "--country", "fj", "--sort", "-id") == ["e8", "e7"]
    assert world.before_edit is not None
    assert exported(database_url, world, "--updated-since", world.before_edit.isoformat()) == ["e4"]
    assert exported(database_url, world, "--sort", "-fatalities_best", "--country", "IQ") == ["e5"]


@pytest.mark.parametrize(
    "options, message",
    [
        (["--side", "a"], "--side: Value error, side applies only with actor or actor_kind"),
        (["--bbox", "36,35,37,34"], "--bbox: Value error, bbox: minlat 35.0 is above maxlat"),
        (["--near", "33,36,0"], "--near: Value error, near: the distance must be more than 0"),
        (
            ["--updated-since", "2018-04-18T00:00:00"],
            "--updated-since: Value error, updated_since needs",
        ),
        (["--geo-precision", "4"], "--geo-precision: Input should be less than or equal to 3"),
        (
            ["--country", "Syria"],
            "--country: country is an ISO 3166-1 alpha-2 code: two letters, such as SY",
        ),
        (["--q", "-heavy"], "q has no word to search for"),
        (["--sort", "summary"], "--sort 'summary': one of date_start, -date_start"),
    ],
)
def test_bad_export_filters_exit_2_naming_the_option(
    database_url: str, db: Engine, options: list[str], message: str
) -> None:
    result = run(database_url, "export", *options)
    assert result.exit_code == 2, result.output
    assert message in result.stderr, result.stderr
    assert result.stdout == ""
