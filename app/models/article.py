"""Outlets, the articles they publish, and the record of each ingested report."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, TimestampMixin, UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.models.quote import Quote


class Outlet(TimestampMixin, Base):
    __tablename__ = "outlet"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    name_norm: Mapped[str] = mapped_column(String(300), nullable=False, unique=True)
    url: Mapped[str | None] = mapped_column(String(2048))
    domain: Mapped[str | None] = mapped_column(String(255), index=True)
    country: Mapped[str | None] = mapped_column(String(2))
    language: Mapped[str | None] = mapped_column(String(35))
    kind: Mapped[str | None] = mapped_column(ForeignKey("outlet_kind.name"))
    version: Mapped[int] = mapped_column(nullable=False, default=1, server_default="1")

    articles: Mapped[list[Article]] = relationship(back_populates="outlet", lazy="raise")


class Article(TimestampMixin, Base):
    __tablename__ = "article"
    __table_args__ = (
        # Without a URL an article is identified by its outlet and the SHA-256 of its body.
        Index(
            "uq_article_outlet_id_content_sha256",
            "outlet_id",
            "content_sha256",
            unique=True,
            sqlite_where=text("url_norm IS NULL AND content_sha256 IS NOT NULL"),
            postgresql_where=text("url_norm IS NULL AND content_sha256 IS NOT NULL"),
        ),
        Index("ix_article_published_date_id", "published_date", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlet.id"), nullable=False, index=True)
    url: Mapped[str | None] = mapped_column(String(2048))
    url_norm: Mapped[str | None] = mapped_column(String(2048), unique=True)
    title: Mapped[str | None] = mapped_column(Text)
    published_date: Mapped[date | None] = mapped_column(Date)
    dateline: Mapped[str | None] = mapped_column(String(200))
    byline: Mapped[str | None] = mapped_column(String(500))
    language: Mapped[str | None] = mapped_column(String(35))
    body: Mapped[str | None] = mapped_column(Text)
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(nullable=False, default=1, server_default="1")

    outlet: Mapped[Outlet] = relationship(back_populates="articles", lazy="raise")
    quotes: Mapped[list[Quote]] = relationship(back_populates="article", lazy="raise")


class Report(Base):
    """One accepted POST /v1/reports: the canonical payload hash and the response sent.

    An identical re-post is answered from here verbatim, so retries never write twice.
    """

    __tablename__ = "report"
    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("article.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    payload_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    response: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
