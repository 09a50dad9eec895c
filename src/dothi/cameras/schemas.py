"""Cameras and recorders as written (validated at the edge) and as answered (no credentials)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AnyUrl,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    UrlConstraints,
)

from dothi.accounts.schemas import Text

Purpose = Literal["traffic", "security", "ai"]
"""Giao thông, an ninh trật tự, AI analytics."""

Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")]
Name = Annotated[Text, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
StreamUrl = Annotated[
    AnyUrl, UrlConstraints(max_length=500, allowed_schemes=["rtsp", "rtsps", "http", "https"])
]
SnapshotUrl = Annotated[AnyUrl, UrlConstraints(max_length=500, allowed_schemes=["http", "https"])]


def _distinct(values: list[Purpose]) -> list[Purpose]:
    return list(dict.fromkeys(values))


class CameraIn(BaseModel):
    """A camera as its manager writes it; the ward is found from the point."""

    model_config = ConfigDict(extra="forbid")

    code: Code
    name: Name
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    heading: float = Field(0, ge=0, lt=360, description="Degrees clockwise from north")
    field_of_view: float = Field(60, gt=0, le=360, description="Degrees")
    range_m: float = Field(50, gt=0, le=1000, description="How far it sees usefully, metres")
    purposes: Annotated[list[Purpose], AfterValidator(_distinct)] = Field(
        default=["security"], min_length=1
    )
    recorder: Code | None = None
    stream_url: StreamUrl | None = None
    snapshot_url: SnapshotUrl | None = None
    username: Annotated[Text, StringConstraints(max_length=100)] | None = None
    password: Annotated[SecretStr, StringConstraints(max_length=200)] | None = None
    analytics: dict[str, Any] = Field(default_factory=dict)
    active: bool = True


class CameraOut(BaseModel):
    """A camera as answered: never its credentials nor its source URLs."""

    code: str
    name: str
    ward: str | None
    ward_name: str | None
    lon: float
    lat: float
    heading: float
    field_of_view: float
    range_m: float
    purposes: list[str]
    recorder: str | None
    has_stream: bool
    has_snapshot: bool
    analysed: bool
    active: bool
    health: str
    health_since: datetime | None
    last_probe_at: datetime | None
    last_error: str | None


class RecorderIn(BaseModel):
    """A ward's network video recorder."""

    model_config = ConfigDict(extra="forbid")

    code: Code
    name: Name
    ward: Code | None = None
    address: Annotated[Text, StringConstraints(max_length=200)] | None = None


class RecorderOut(BaseModel):
    """A recorder and how many of its cameras are online."""

    code: str
    name: str
    ward: str | None
    cameras: int
    online: int
