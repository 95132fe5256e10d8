"""Every place's centroid: the spherical mean of the coordinates of the located live places
inside it (its descendants with a point of their own), kept at commit for the places whose
located subtree a transaction changed. A map then draws an admin unit or a country without
coordinates of its own at the centre of what is known inside it (``app.stats``).

The mean is taken of unit vectors, not of degrees, so places on both sides of the
antimeridian (Fiji, Chukotka) average to a point between them and not to the far side of
the Earth. The sum of those vectors is stored too (``centroid_x/y/z``): a place that gains a
point (new, or given coordinates it lacked: the bulk of an import) adds its vector to each
place containing it, so a batch costs what it adds, not a re-sum of every point already in
its countries (which grew with the database: an import slowed quadratically). A move, a
merge, a changed or removed point sums the places concerned again.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session, aliased

from app.db.bulk import chunks
from app.models import Place, PlaceAncestor

_RADIANS = math.pi / 180
Sum = tuple[float, float, float]


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


def sums(session: Session, place_ids: Iterable[int]) -> dict[int, Sum | None]:
    """The sum of the unit vectors of the located live places inside each place (None when
    there are none), summed in SQL."""
    ids = sorted(set(place_ids))
    out: dict[int, Sum | None] = dict.fromkeys(ids)
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
                out[ancestor_id] = (float(x), float(y), float(z))
    return out


def centroids(session: Session, place_ids: Iterable[int]) -> dict[int, tuple[float, float] | None]:
    """The centroid of each place (None when nothing inside it is located)."""
    return {
        place_id: None if s is None else mean_point(*s)
        for place_id, s in sums(session, place_ids).items()
    }


def mean_point(x: float, y: float, z: float) -> tuple[float, float] | None:
    """The point of a sum of unit vectors (None when they cancel out)."""
    if math.hypot(x, y, z) < 1e-9:
        return None
    return math.degrees(math.atan2(z, math.hypot(x, y))), math.degrees(math.atan2(y, x))


def _vector(latitude: float, longitude: float) -> Sum:
    lat, lon = latitude * _RADIANS, longitude * _RADIANS
    return math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)


def _added(session: Session, located: Iterable[int], skip: set[int]) -> dict[int, Sum]:
    """What the places given a point add to each place containing them (but ``skip``)."""
    delta: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for chunk in chunks(sorted(set(located))):
        for ancestor_id, latitude, longitude in session.execute(
            select(PlaceAncestor.ancestor_id, Place.latitude, Place.longitude)
            .join(Place, Place.id == PlaceAncestor.place_id)
            .where(
                PlaceAncestor.place_id.in_(chunk),
                PlaceAncestor.depth > 0,
                Place.latitude.is_not(None),
                Place.merged_into_id.is_(None),
            )
        ):
            if ancestor_id in skip or latitude is None or longitude is None:
                continue
            d, v = delta[ancestor_id], _vector(latitude, longitude)
            d[0] += v[0]
            d[1] += v[1]
            d[2] += v[2]
    return {k: (d[0], d[1], d[2]) for k, d in delta.items()}


def reconcile(session: Session, place_ids: Iterable[int], located: Iterable[int] = ()) -> None:
    """Bring the centroids up to date: the places ``affected`` by moves, merges and changed
    points (``place_ids``) summed again; those containing places that gained a point
    (``located``, which had none before) given their vectors."""
    again = affected(session, place_ids)
    wanted: dict[int, Sum | None] = dict(sums(session, again)) if again else {}
    added = _added(session, located, set(wanted))
    stored: dict[int, tuple[Sum | None, float | None, float | None]] = {}
    for chunk in chunks(sorted({*wanted, *added})):
        for place_id, x, y, z, lat, lon in session.execute(
            select(
                Place.id,
                Place.centroid_x,
                Place.centroid_y,
                Place.centroid_z,
                Place.centroid_latitude,
                Place.centroid_longitude,
            ).where(Place.id.in_(chunk))
        ):
            known = None if x is None or y is None or z is None else (x, y, z)
            stored[place_id] = (known, lat, lon)
    for place_id, d in added.items():
        if place_id in stored:
            old = stored[place_id][0] or (0.0, 0.0, 0.0)
            wanted[place_id] = (old[0] + d[0], old[1] + d[1], old[2] + d[2])
    rows = []
    for place_id, total in wanted.items():
        if place_id not in stored:
            continue
        point = None if total is None else mean_point(*total)
        if point is None or total is None:  # nothing inside located, or it cancels out
            new: tuple[Sum | None, float | None, float | None] = (None, None, None)
        else:
            new = (total, point[0], point[1])
        if stored[place_id] != new:
            vector: tuple[float | None, ...] = new[0] or (None, None, None)
            rows.append(
                {
                    "b_id": place_id,
                    "b_x": vector[0],
                    "b_y": vector[1],
                    "b_z": vector[2],
                    "b_lat": new[1],
                    "b_lon": new[2],
                }
            )
    if rows:
        table = cast(Table, Place.__table__)
        session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(
                centroid_x=bindparam("b_x"),
                centroid_y=bindparam("b_y"),
                centroid_z=bindparam("b_z"),
                centroid_latitude=bindparam("b_lat"),
                centroid_longitude=bindparam("b_lon"),
            ),
            rows,
        )
