"""Fixtures for the events tests: the known world of tests/events/world.py, on both databases."""

from __future__ import annotations

from sqlalchemy import Engine

from tests.conftest import seed
from tests.events import world as world_module
from tests.events.world import World


@seed
def world(engine: Engine) -> World:
    return world_module.build(engine)
