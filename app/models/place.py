"""The gazetteer: places in a hierarchy, their aliases, and a closure table of ancestors."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import PATTERN_OPS, Base, TimestampMixin


class Place(TimestampMixin, Base):
    __tablename__ = "place"
    __table_args__ = (
        CheckConstraint(
            "latitude IS NULL OR (latitude >= -90 AND latitude <= 90)", name="latitude"
        ),
        CheckConstraint(
            "longitude IS NULL OR (longitude >= -180 AND longitude <= 180)", name="longitude"
        ),
        CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="lat_lon_together"),
        CheckConstraint("depth >= 0", name="depth_non_negative"),
        # The bounding box of bbox= and near= filters is an index range.
        Index("ix_place_latitude_longitude", "latitude", "longitude"),
        # A live name is unique among its siblings; top-level names are unique within their
        # country. A merged place keeps its row (its id redirects) but frees its name.
        Index(
            "uq_place_parent_id_name_norm",
            "parent_id",
            "name_norm",
            unique=True,
            sqlite_where=text("parent_id IS NOT NULL AND merged_into_id IS NULL"),
            postgresql_where=text("parent_id IS NOT NULL AND merged_into_id IS NULL"),
        ),
        Index(
            "uq_place_country_name_norm",
            "country",
            "name_norm",
            unique=True,
            sqlite_where=text("parent_id IS NULL AND merged_into_id IS NULL"),
            postgresql_where=text("parent_id IS NULL AND merged_into_id IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    name_norm: Mapped[str] = mapped_column(String(300), nullable=False)
    kind: Mapped[str] = mapped_column(ForeignKey("place_kind.name"), nullable=False)
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("place.id"), index=True)
    depth: Mapped[int] = mapped_column(nullable=False, default=0)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    geonames_id: Mapped[int | None] = mapped_column(unique=True)
    # Derived (app.derived.points): the spherical mean of the coordinates of the located
    # places inside this one, so an admin unit or country without a point of its own can be
    # drawn; null when nothing inside it is located.
    centroid_latitude: Mapped[float | None] = mapped_column(Float)
    centroid_longitude: Mapped[float | None] = mapped_column(Float)
    # The sum of those places' unit vectors (x, y, z), which a new point inside adds to.
    centroid_x: Mapped[float | None] = mapped_column(Float)
    centroid_y: Mapped[float | None] = mapped_column(Float)
    centroid_z: Mapped[float | None] = mapped_column(Float)
    version: Mapped[int] = mapped_column(nullable=False, default=1, server_default="1")
    # Set when merged into another place: the old id keeps resolving to the survivor.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("place.id"), index=True)


class PlaceAlias(Base):
    """Every name a place is known by, its primary name included, in normalised form too."""

    __tablename__ = "place_alias"
    __table_args__ = (
        UniqueConstraint("place_id", "name_norm"),
        # Equality (name resolution) and prefix ranges (name_prefix=), as actor_alias's.
        Index("ix_place_alias_name_norm", "name_norm", postgresql_ops=PATTERN_OPS),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    place_id: Mapped[int] = mapped_column(
        ForeignKey("place.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    name_norm: Mapped[str] = mapped_column(String(300), nullable=False)


class PlaceAncestor(Base):
    """Closure table: one row per (ancestor, descendant) pair, the place itself at depth 0.

    "Everything inside place X" is then one indexed lookup on (ancestor_id) on both databases.
    """

    __tablename__ = "place_ancestor"
    ancestor_id: Mapped[int] = mapped_column(
        ForeignKey("place.id", ondelete="CASCADE"), primary_key=True
    )
    place_id: Mapped[int] = mapped_column(
        ForeignKey("place.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    depth: Mapped[int] = mapped_column(nullable=False)
