"""Pydantic shapes of places: a unit to create or import, and the GeoJSON answers."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dothi.places.boundaries import check_boundary
from dothi.places.models import AdminUnit


class UnitIn(BaseModel):
    """An administrative unit as given by a person or a GeoJSON feature."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, coerce_numbers_to_str=True)

    code: str = Field(min_length=1, max_length=20, description="Official (GSO) code.")
    name: str = Field(min_length=1, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    level: str = Field(min_length=1, max_length=30, description="city, district, ward, …")
    parent: str | None = Field(
        None, max_length=20, description="Code of the parent unit valid on `valid_from`."
    )
    valid_from: date
    valid_to: date | None = Field(None, description="First day the unit no longer exists.")
    boundary: dict[str, Any] | None = Field(None, description="GeoJSON (Multi)Polygon, WGS 84.")
    population: int | None = Field(None, ge=0)
    population_estimated: bool = False
    area_km2: float | None = Field(None, ge=0)
    attributes: dict[str, Any] = Field(default_factory=dict)

    @field_validator("boundary")
    @classmethod
    def _valid_boundary(cls, boundary: dict[str, Any] | None) -> dict[str, Any] | None:
        if boundary is not None:
            check_boundary(boundary)
        return boundary

    @model_validator(mode="after")
    def _period(self) -> Self:
        if self.valid_to is not None and self.valid_to <= self.valid_from:
            raise ValueError("valid_to must be after valid_from (it is the first day without)")
        return self


class PlaceProperties(BaseModel):
    """What a place feature says besides its id and geometry."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    name_en: str | None
    level: str
    parent_id: uuid.UUID | None
    population: int | None
    population_estimated: bool
    area_km2: float | None
    valid_from: date
    valid_to: date | None
    attributes: dict[str, Any]


class PlaceFeature(BaseModel):
    """One administrative unit as a GeoJSON Feature; its id is the unit's id."""

    type: Literal["Feature"] = "Feature"
    id: uuid.UUID
    geometry: dict[str, Any] | None
    properties: PlaceProperties

    @classmethod
    def of(cls, unit: AdminUnit, *, geometry: bool = True) -> PlaceFeature:
        properties = PlaceProperties.model_validate(unit)
        return cls(id=unit.id, geometry=unit.boundary if geometry else None, properties=properties)


class PlaceCollection(BaseModel):
    """Administrative units as a GeoJSON FeatureCollection."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[PlaceFeature]

    @classmethod
    def of(cls, units: list[AdminUnit], *, geometry: bool = True) -> PlaceCollection:
        return cls(features=[PlaceFeature.of(unit, geometry=geometry) for unit in units])
