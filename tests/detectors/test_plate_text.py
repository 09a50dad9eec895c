"""Plate text with RapidOCR on synthetic Vietnamese plates drawn in the test, its normalised
and masked forms, and the `plates` detector carrying it only when asked to."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest

from dothi.detectors.base import Box, Frame
from dothi.detectors.configs import PlatesConfig
from dothi.detectors.plate_text import PlateReader, mask_plate, normalise_plate
from dothi.detectors.registry import build


def plate(lines: list[str], width: int) -> Frame:
    """A white plate with a black border and black text, one or two lines."""
    height = 56 if len(lines) == 1 else 110
    image = np.full((height, width, 3), 255, np.uint8)
    cv2.rectangle(image, (2, 2), (width - 3, height - 3), (0, 0, 0), 2)
    for row, line in enumerate(lines):
        (text_width, _h), _base = cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, 1.2, 3)
        origin = ((width - text_width) // 2, 42 + 50 * row)
        cv2.putText(image, line, origin, cv2.FONT_HERSHEY_SIMPLEX, 1.2, (0, 0, 0), 3)
    return image


def scene(image: Frame, x: int = 200, y: int = 150) -> tuple[Frame, Box]:
    """A grey 640×360 frame with `image` at (x, y), and its box."""
    frame = np.full((360, 640, 3), 90, np.uint8)
    height, width = image.shape[:2]
    frame[y : y + height, x : x + width] = image
    return frame, Box(x, y, x + width, y + height)


@pytest.fixture(scope="module")
def reader() -> PlateReader:
    return PlateReader()


@pytest.mark.parametrize(
    ("lines", "width", "expected"),
    [
        (["51F-123.45"], 240, "51F-123.45"),  # a car's long plate
        (["59A1-234.56"], 280, "59A1-234.56"),
        (["59A1", "234.56"], 180, "59A1-234.56"),  # a motorbike's two rows
        (["29-B1", "1234"], 180, "29B1-1234"),
    ],
)
def test_reads_synthetic_plates(
    reader: PlateReader, lines: list[str], width: int, expected: str
) -> None:
    frame, box = scene(plate(lines, width))
    read = reader.read(frame, box)
    assert read is not None
    assert read.text == expected
    assert 0.5 <= read.confidence <= 1.0
    small = reader.read(cv2.resize(frame, (320, 180)), box.scaled(0.5, 0.5))
    assert small is not None and small.text == expected  # a plate ≈ 100 px wide


def test_unreadable_crops_give_none(reader: PlateReader) -> None:
    noise = np.random.default_rng(7).integers(0, 256, (360, 640, 3), dtype=np.uint8)
    blank = np.full((360, 640, 3), 255, np.uint8)
    words, box = scene(plate(["HELLO"], 240))
    assert reader.read(noise, Box(200, 150, 440, 206)) is None
    assert reader.read(blank, Box(200, 150, 440, 206)) is None
    assert reader.read(words, box) is None  # text, but not a plate's
    assert reader.read(blank, Box(10, 10, 14, 12)) is None  # too small to read


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["51F-123.45"], "51F-123.45"),
        (["51F-", "123.45"], "51F-123.45"),
        (["5lF-I23.45"], "51F-123.45"),  # look-alikes put right
        (["51LD12345"], "51LD-123.45"),  # no dash: a series of letters
        (["29A1234"], "29A-1234"),
        (["59-A1", "234.56"], "59A1-234.56"),
        (["59A1 234.56"], None),  # one line, no dash: ambiguous with 59A-123456
        (["HELLO"], None),
        (["51F-123"], None),
        ([], None),
    ],
)
def test_normalise(lines: list[str], expected: str | None) -> None:
    assert normalise_plate(lines) == expected


def test_mask_hides_the_middle_digits() -> None:
    assert mask_plate("51F-123.45") == "51F-1**.*5"
    assert mask_plate("59A1-234.56") == "59A1-2**.*6"
    assert mask_plate("29A-1234") == "29A-1**4"
    assert mask_plate("HELLO") == "*****"


def test_plate_detections_carry_text_only_when_asked() -> None:
    frame, box = scene(plate(["51F-123.45"], 240))
    plain = build(PlatesConfig()).detect(frame)
    read = build(PlatesConfig(read_text=True)).detect(frame)
    assert plain and all(d.text is None for d in plain)
    assert [d.text for d in read] == ["51F-123.45"]
    assert read[0].box.iou(box) > 0.3
    assert "123" not in repr(read[0])  # never in clear where a detection is logged


def test_rapidocr_loads_only_when_text_is_read() -> None:
    code = (
        "import sys; from dothi.detectors.configs import PlatesConfig; "
        "from dothi.detectors.registry import build; build(PlatesConfig()); "
        "assert 'rapidocr_onnxruntime' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
