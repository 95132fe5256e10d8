"""Fixtures for the events tests: the known world of tests/events/world.py, on both databases."""

from __future__ import annotations

from tests.events.world import world

__all__ = ["world"]  # the seeded fixture, used by name
