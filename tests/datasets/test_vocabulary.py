"""The importers' vocabulary is the one the migrations seed: every value they emit can be written."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from app.formats import acled
from app.formats.records import EventRecord

MIGRATION = (
    Path(__file__).resolve().parents[2]
    / "migrations"
    / "versions"
    / "2026_11_27_0001_initial_schema.py"
)


def _migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("initial_schema", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_acled_event_types_and_inter_codes_are_the_seeded_ones() -> None:
    migration = _migration()
    assert {t: set(subs) for t, subs in acled.EVENT_TYPES.items()} == {
        t: set(subs) for t, (_, subs) in migration.EVENT_TYPES.items()
    }
    seeded_inter = {str(code): kind for kind, code, _ in migration.ACTOR_KINDS if code is not None}
    assert seeded_inter == acled.INTER_KINDS


def test_every_value_the_parsers_emit_is_in_the_vocabulary(
    ged_records: dict[str, EventRecord], acled_records: dict[str, EventRecord]
) -> None:
    migration = _migration()
    place_kinds = {name for name, _ in migration.PLACE_KINDS}
    actor_kinds = {name for name, _, _ in migration.ACTOR_KINDS}
    roles = {name for name, _ in migration.EVENT_ROLES}
    precisions = {name for name, _ in migration.DATE_PRECISIONS}
    for record in [*ged_records.values(), *acled_records.values()]:
        assert record.sub_event_type in migration.EVENT_TYPES[record.event_type][1]
        assert record.date_precision in precisions
        assert record.geo_precision in (1, 2, 3)
        assert {p.kind for p in record.places} <= place_kinds
        assert {a.kind for a in record.actors} <= actor_kinds
        assert {a.role for a in record.actors} <= roles
        assert {a.side for a in record.actors} <= {"a", "b"}
        assert all(p.country and len(p.country) == 2 for p in record.places)
