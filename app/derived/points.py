"""Every place's centroid: the spherical mean of the coordinates of the located live places
inside it (its descendants with a point of their own), kept at commit for the places whose
located subtree a transaction changed. A map then draws an admin unit or a country without
coordinates of its own at the centre of what is known inside it (``app.stats``).

The mean is taken of unit vectors, not of degrees, so places on both sides of the
antimeridian (Fiji, Chukotka) average to a point between them and not to the far side of
the Earth.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session, aliased

from app.db.bulk import chunks
from app.models import Place, PlaceAncestor

_RADIANS = math.pi / 180


def affected(session: Session, place_ids: Iterable[int], located: Iterable[int] = ()) -> list[int]:
    """The places whose centroid may have changed: these (moved, merged) and every place
    containing them, and every place containing ``located`` (new points)."""
    out: set[int] = set()
    for ids, lowest in ((place_ids, 0), (located, 1)):
        for chunk in chunks(sorted(set(ids))):
            out.update(
                session.scalars(
                    select(PlaceAncestor.ancestor_id).where(
                        PlaceAncestor.place_id.in_(chunk), PlaceAncestor.depth >= lowest
                    )
                )
            )
    return sorted(out)


def centroids(session: Session, place_ids: Iterable[int]) -> dict[int, tuple[float, float] | None]:
    """The centroid of each place (None when nothing inside it is located), summed in SQL."""
    ids = sorted(set(place_ids))
    out: dict[int, tuple[float, float] | None] = dict.fromkeys(ids)
    inside = aliased(Place)
    lat = inside.latitude * _RADIANS
    lon = inside.longitude * _RADIANS
    for chunk in chunks(ids):
        for ancestor_id, x, y, z in session.execute(
            select(
                PlaceAncestor.ancestor_id,
                func.sum(func.cos(lat) * func.cos(lon)),
                func.sum(func.cos(lat) * func.sin(lon)),
                func.sum(func.sin(lat)),
            )
            .join(inside, inside.id == PlaceAncestor.place_id)
            .where(
                PlaceAncestor.ancestor_id.in_(chunk),
                PlaceAncestor.depth > 0,
                # No condition an index of `place` could serve (``+ 0``; places without
                # coordinates add NULLs, which sum() skips): SQLite would otherwise walk
                # that index and probe the closure for every place and ancestor (9 s for
                # 1,000 ancestors of 6,000 places, against milliseconds this way round).
                (inside.merged_into_id + 0).is_(None),
            )
            .group_by(PlaceAncestor.ancestor_id)
        ):
            if x is not None:
                out[ancestor_id] = mean_point(float(x), float(y), float(z))
    return out


def mean_point(x: float, y: float, z: float) -> tuple[float, float] | None:
    """The point of a sum of unit vectors (None when they cancel out)."""
    if math.hypot(x, y, z) < 1e-9:
        return None
    return math.degrees(math.atan2(z, math.hypot(x, y))), math.degrees(math.atan2(y, x))


def reconcile(session: Session, place_ids: Iterable[int], located: Iterable[int] = ()) -> None:
    """Bring the centroids of the places ``affected`` up to date."""
    ids = affected(session, place_ids, located)
    if not ids:
        return
    wanted = centroids(session, ids)
    stored: dict[int, tuple[float | None, float | None]] = {}
    for chunk in chunks(ids):
        for place_id, lat, lon in session.execute(
            select(Place.id, Place.centroid_latitude, Place.centroid_longitude).where(
                Place.id.in_(chunk)
            )
        ):
            stored[place_id] = (lat, lon)
    rows = []
    for place_id, point in wanted.items():
        value = point if point is not None else (None, None)
        if place_id in stored and stored[place_id] != value:
            rows.append({"b_id": place_id, "b_lat": value[0], "b_lon": value[1]})
    if rows:
        table = cast(Table, Place.__table__)
        session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(centroid_latitude=bindparam("b_lat"), centroid_longitude=bindparam("b_lon")),
            rows,
        )
