"""Fixtures for the events tests: the known world of tests/events/world.py, on both databases."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.events import world as world_module
from tests.events.world import World


@pytest.fixture
def world(client: TestClient, engine: Engine) -> World:
    return world_module.build(engine)
