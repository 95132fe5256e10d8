"""Quotes: exact spans of an article's body (or of its title), with who said them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, TimestampMixin

if TYPE_CHECKING:
    from app.models.article import Article


class Quote(TimestampMixin, Base):
    __tablename__ = "quote"
    __table_args__ = (
        CheckConstraint("start_offset >= 0", name="start_offset_non_negative"),
        CheckConstraint("end_offset > start_offset", name="end_after_start"),
        UniqueConstraint("article_id", "in_title", "start_offset", "end_offset"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("article.id", ondelete="CASCADE"), nullable=False
    )
    text: Mapped[str] = mapped_column(Text, nullable=False)
    # Offsets count Unicode code points into article.body (article.title when ``in_title``),
    # end exclusive (Python slicing).
    in_title: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    start_offset: Mapped[int] = mapped_column(nullable=False)
    end_offset: Mapped[int] = mapped_column(nullable=False)
    speaker_name: Mapped[str | None] = mapped_column(String(300))
    speaker_role: Mapped[str | None] = mapped_column(String(300))
    # A curator protects the speaker: only keys with the curate scope see the name.
    speaker_protected: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    speaks_for_actor_id: Mapped[int | None] = mapped_column(ForeignKey("actor.id"), index=True)
    version: Mapped[int] = mapped_column(nullable=False, default=1, server_default="1")

    article: Mapped[Article] = relationship(back_populates="quotes", lazy="raise")
