"""The administrative tree as data: units with codes, boundaries and validity periods."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, validates

from dothi.core.ids import new_id
from dothi.core.text import fold
from dothi.db.base import Base

GeoJSON = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
"""A nullable GeoJSON geometry: Python None is SQL NULL (PostGIS reads it), never JSON `null`."""


def _now() -> datetime:
    return datetime.now(UTC)


class AdminUnit(Base):
    """A city, district, province, ward or commune during one validity period.

    Official codes are reused after mergers, so a unit is keyed on (code, valid_from);
    `valid_to` is exclusive. `path` lists the ids from the root (`/<root>/<child>/`), so a
    subtree is `path LIKE '<unit path>%'`.
    """

    __tablename__ = "admin_units"
    __table_args__ = (
        UniqueConstraint("code", "valid_from"),
        Index("ix_admin_units_path", "path", postgresql_ops={"path": "varchar_pattern_ops"}),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    search_name: Mapped[str] = mapped_column(String(200), index=True)
    level: Mapped[str] = mapped_column(String(30), index=True)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("admin_units.id"), index=True)
    path: Mapped[str] = mapped_column(String(1000))
    boundary: Mapped[dict[str, Any] | None] = mapped_column(GeoJSON)
    population: Mapped[int | None]
    population_estimated: Mapped[bool] = mapped_column(default=False)
    area_km2: Mapped[float | None]
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    changed_at: Mapped[datetime] = mapped_column(default=_now, onupdate=_now)
    """Bumped on every write: the lookup index notices changes by (row count, latest change)."""

    @validates("name")
    def _fold_name(self, _key: str, name: str) -> str:
        self.search_name = fold(name)
        return name

    @property
    def depth(self) -> int:
        """0 for a root, 1 for its children, and so on."""
        return self.path.count("/") - 2

    @property
    def ancestor_ids(self) -> list[uuid.UUID]:
        """The ids on the path, root first, this unit last."""
        return [uuid.UUID(part) for part in self.path.strip("/").split("/")]

    def valid_at(self, day: date) -> bool:
        """Whether the unit exists on `day` (valid_to is exclusive)."""
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)

    def __repr__(self) -> str:
        return f"AdminUnit({self.code!r}, {self.name!r}, {self.level!r}, from={self.valid_from})"
