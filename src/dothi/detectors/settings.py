"""A camera's analytics settings (the `analytics` JSON of its row): rate, detector, lines,
zones and the rules on them. Coordinates are shares of the frame's width and height (0–1),
so they survive a change of resolution.
"""

from __future__ import annotations

from datetime import time
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dothi.detectors.configs import DetectorConfig, MotionConfig

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Position = tuple[Share, Share]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Line(_Model):
    """A counting line from `a` to `b`. `forward` is the direction a→b turned a quarter
    counter-clockwise on screen: for a line drawn downwards, crossing it left to right."""

    name: str = Field(min_length=1, max_length=60)
    a: Position
    b: Position
    labels: list[str] = ["person", "vehicle"]


class Zone(_Model):
    """A watched area, a polygon of at least three corners."""

    name: str = Field(min_length=1, max_length=60)
    points: list[Position] = Field(min_length=3)


class _ZoneRule(_Model):
    zone: str  # a Zone's name


class CrowdingRule(_ZoneRule):
    """More than `limit` objects at once in the zone; fires again after it has eased."""

    type: Literal["crowding"] = "crowding"
    limit: int = Field(ge=0)
    labels: list[str] = ["person"]


class LoiteringRule(_ZoneRule):
    """One object in the zone for `seconds` or longer; once per stay."""

    type: Literal["loitering"] = "loitering"
    seconds: float = Field(gt=0)
    labels: list[str] = ["person"]


class NoParkingRule(_ZoneRule):
    """A vehicle still in the zone for more than `seconds`; once per stay. Still: its centre
    stays within `tolerance` (share of the frame's diagonal) of where it stopped."""

    type: Literal["no_parking"] = "no_parking"
    seconds: float = Field(gt=0)
    tolerance: float = Field(0.02, gt=0, lt=1)
    labels: list[str] = ["vehicle"]


class RestrictedRule(_ZoneRule):
    """Entry into the zone between `night_start` and `night_end`, local time."""

    type: Literal["restricted"] = "restricted"
    night_start: time = time(22, 0)
    night_end: time = time(5, 0)
    timezone: str = "Asia/Ho_Chi_Minh"
    labels: list[str] = ["person", "vehicle"]


Rule = Annotated[
    CrowdingRule | LoiteringRule | NoParkingRule | RestrictedRule, Field(discriminator="type")
]


class AnalyticsSettings(_Model):
    """What the camera worker does with one camera's stream."""

    enabled: bool = False
    fps: float = Field(2.0, gt=0, le=25, description="Frames analysed a second")
    width: int = Field(640, ge=64, le=3840)
    height: int = Field(360, ge=64, le=2160)
    motion: MotionConfig = MotionConfig()
    detector: DetectorConfig = Field(MotionConfig(label="person"), description="Runs on motion")
    track_distance: float = Field(
        0.2,
        gt=0,
        le=1,
        description="Farthest a tracked object moves between analysed frames, "
        "share of the frame's diagonal",
    )
    report_seconds: float = Field(60.0, ge=1, description="Counts are reported this often")
    lines: list[Line] = []
    zones: list[Zone] = []
    rules: list[Rule] = []

    @model_validator(mode="after")
    def _zones_exist(self) -> Self:
        names = {zone.name for zone in self.zones}
        unknown = sorted({rule.zone for rule in self.rules} - names)
        if unknown:
            raise ValueError(f"rules name zones that are not defined: {', '.join(unknown)}")
        return self
