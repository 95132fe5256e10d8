"""The event's fields are written once (the ``event`` table's columns, ``RECORDED_FIELDS``):
every other shape that carries them is derived from it or, where a shape is declared for its
own reasons (examples, defaults, input records), held to it here."""

from __future__ import annotations

import dataclasses

from app.events.schemas import EVENT_FIELDS, EventDetail, EventRead, EventUpdate
from app.formats.records import ExportEvent
from app.models import Event
from app.models.event import DERIVED_AT_COMMIT, DERIVED_FIELDS, RECORDED_FIELDS
from app.writer.events import GIVEN_FIELDS, NewEvent
from app.writer.revisions import REVISED_FIELDS


def test_the_recorded_fields_are_the_event_tables_data_columns() -> None:
    assert RECORDED_FIELDS == (
        "external_id",
        "event_type",
        "sub_event_type",
        "date_start",
        "date_end",
        "date_precision",
        "place_id",
        "geo_precision",
        "summary",
        "fatalities_low",
        "fatalities_best",
        "fatalities_high",
        "deaths_a",
        "deaths_b",
        "deaths_civilians",
        "deaths_unknown",
        "status",
        "retraction_reason",
    )
    assert REVISED_FIELDS is RECORDED_FIELDS


def test_the_derived_fields_are_the_rest_and_shown_everywhere() -> None:
    columns = {c.name for c in Event.__table__.columns}
    bookkeeping = {"id", "version", "created_at", "updated_at", "retracted_at"}
    assert (
        columns == set(RECORDED_FIELDS) | set(DERIVED_FIELDS) | set(DERIVED_AT_COMMIT) | bookkeeping
    )
    assert set(DERIVED_FIELDS) - {"incident_id"} <= set(EventDetail.model_fields)
    assert set(DERIVED_FIELDS) <= set(EVENT_FIELDS)
    assert set(DERIVED_FIELDS) <= {f.name for f in dataclasses.fields(ExportEvent)}
    # A client never gives them: neither a new event nor a PATCH.
    assert not set(DERIVED_FIELDS) & {f.name for f in dataclasses.fields(NewEvent)}
    assert not set(DERIVED_FIELDS) & set(EventUpdate.model_fields)


def test_every_shape_carries_the_recorded_fields() -> None:
    new_event = {f.name for f in dataclasses.fields(NewEvent)}
    assert set(GIVEN_FIELDS) <= new_event
    assert set(RECORDED_FIELDS) - set(GIVEN_FIELDS) == {"status", "retraction_reason"}
    # The detail carries the place with its ancestry.
    assert set(RECORDED_FIELDS) - {"place_id"} | {"place"} <= set(EventDetail.model_fields)
    # A list row shows the status; why it was retracted is the detail's.
    assert set(RECORDED_FIELDS) - {"retraction_reason"} <= set(EventRead.model_fields)
    assert set(RECORDED_FIELDS) - {"retraction_reason"} <= set(EVENT_FIELDS)
    # An export carries the place as its chain of places.
    exported = {f.name for f in dataclasses.fields(ExportEvent)}
    assert set(RECORDED_FIELDS) - {"place_id"} <= exported
    # What a PATCH may change is recorded (status changes by retraction only).
    assert set(EventUpdate.model_fields) <= set(RECORDED_FIELDS) - {"status", "retraction_reason"}
