"""Number plates with OpenCV's Haar cascade `haarcascade_russian_plate_number.xml`.

It finds one-row plates of the Russian proportions (about 4.5 : 1); Vietnamese two-row
plates are found less often. Used for privacy (blurring), where a miss matters more than
a false hit, hence the low `min_neighbors` default. With `read_text` each plate's text is
read (`plate_text`) and carried by its detection.
"""

from __future__ import annotations

from pathlib import Path

import cv2

from dothi.detectors.base import Box, Detection, Frame
from dothi.detectors.configs import PlatesConfig
from dothi.detectors.plate_text import PlateReader

CASCADE = "haarcascade_russian_plate_number.xml"


def cascade_path(name: str) -> Path:
    """A Haar cascade shipped in opencv-python's `cv2/data` folder."""
    return Path(cv2.__file__).parent / "data" / name


class PlateDetector:
    """Plates in a frame."""

    def __init__(self, config: PlatesConfig) -> None:
        self.config = config
        self._cascade = cv2.CascadeClassifier(str(cascade_path(CASCADE)))
        if self._cascade.empty():
            raise RuntimeError(f"OpenCV's {CASCADE} is missing (OpenCV 5 ships no cascades)")
        self._reader = PlateReader() if config.read_text else None

    def detect(self, frame: Frame) -> list[Detection]:
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        found = self._cascade.detectMultiScale(
            grey, scaleFactor=1.1, minNeighbors=self.config.min_neighbors
        )
        boxes = [Box(float(x), float(y), float(x + w), float(y + h)) for x, y, w, h in found]
        return [Detection(box, "plate", 1.0, self._text(frame, box)) for box in boxes]

    def _text(self, frame: Frame, box: Box) -> str | None:
        read = self._reader.read(frame, box) if self._reader is not None else None
        return read.text if read is not None else None
