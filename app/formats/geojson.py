"""GeoJSON (RFC 7946): a FeatureCollection of events, one Point feature each.

The geometry is ``[longitude, latitude]`` (a null geometry without coordinates); the
properties are the event as in the JSON list (``fields`` and ``include`` applied). Written as it
streams, for ``GET /v1/events?format=geojson`` and ``conflictdb export`` alike.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Sequence
from typing import Any, Final

import orjson

MEDIA_TYPE: Final = "application/geo+json"
JSON_OPTIONS: Final = orjson.OPT_UTC_Z
# The properties the geometry is read from.
COORDINATES: Final = ("latitude", "longitude")


def feature(row: dict[str, Any], *, drop: Sequence[str] = ()) -> dict[str, Any]:
    """The event row as a Feature, the properties in ``drop`` (coordinates read only for the
    geometry) left out."""
    latitude, longitude = row["latitude"], row["longitude"]
    if drop:
        row = {k: v for k, v in row.items() if k not in drop}
    geometry = (
        {"type": "Point", "coordinates": [longitude, latitude]}
        if latitude is not None and longitude is not None
        else None
    )
    return {"type": "Feature", "id": row["id"], "geometry": geometry, "properties": row}


def collection(
    pages: Iterable[list[dict[str, Any]]],
    *,
    drop: Sequence[str] = (),
    datasets: Sequence[dict[str, Any]] | None = None,
) -> Generator[bytes]:
    """The FeatureCollection of the event rows, a chunk per page. ``datasets`` (issue 12: the
    licence and citation of each dataset whose events it holds) is a foreign member of the
    collection (RFC 7946, 6.1), written before the features when given."""
    if datasets is None:
        yield b'{"type":"FeatureCollection","features":[\n'
    else:
        members = orjson.dumps(list(datasets), option=JSON_OPTIONS)
        yield b'{"type":"FeatureCollection","datasets":' + members + b',"features":[\n'
    separator = b""
    for page in pages:
        features = [orjson.dumps(feature(row, drop=drop), option=JSON_OPTIONS) for row in page]
        if features:
            yield separator + b",\n".join(features)
            separator = b",\n"
    yield b"\n]}\n"
