"""The text of number plates: RapidOCR (PaddleOCR's PP-OCRv4 text detector and recogniser as
ONNX, shipped in PyPI `rapidocr-onnxruntime`) on a plate's crop, normalised to the Vietnamese
format (`51F-123.45`, `59A1-234.56`, `29A-1234`).

Plate numbers are personal data (Law 91/2025/QH15, Decree 356/2025): the text is kept in
memory on the plate's `Detection` only; views and logs get `mask_plate`'s form.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2

from dothi.detectors.base import Box, Frame

MARGIN = 0.15  # share of the plate box added on each side: the Haar box may cut the text
WIDTH = 256  # crops are scaled to this width: a plate's characters ≈ 30–40 px high
MIN_SCORE = 0.5  # lowest recogniser confidence of a line that is kept
SERIES = "ABCDEFGHKLMNPSTUVXYZ"  # the letters of Vietnamese series: no I, J, O, Q, R, W
HEAD = re.compile(rf"\d{{2}}[{SERIES}]{{1,2}}\d?")  # province code and series: 51F, 59A1, 51LD
NUMBER = re.compile(r"\d{4,5}")
# Look-alikes the recogniser confuses, put right where a digit or a letter must stand.
_DIGITS = str.maketrans("OQDIJLZSBG", "0001112586")
_LETTERS = str.maketrans("08524", "DBSZA")


@dataclass(frozen=True, slots=True)
class PlateText:
    """A plate's normalised text and the recogniser's confidence in it (lowest of its lines)."""

    text: str
    confidence: float

    def __repr__(self) -> str:
        return f"PlateText({mask_plate(self.text)!r}, {self.confidence:.2f})"


def mask_plate(text: str) -> str:
    """`text` for views and logs: the number's digits hidden but its first and last
    (`51F-123.45` → `51F-1**.*5`); a text not of the plate format is hidden whole."""
    head, dash, number = text.rpartition("-")
    digits = [i for i, c in enumerate(number) if c.isdigit()]
    if not dash or not digits:
        return "*" * len(text)
    keep = {digits[0], digits[-1]}
    hidden = "".join("*" if c.isdigit() and i not in keep else c for i, c in enumerate(number))
    return f"{head}-{hidden}"


def normalise_plate(lines: Sequence[str]) -> str | None:
    """The plate number read as `lines` (top to bottom) in the Vietnamese format, or None.

    Two lines: province and series above, the number below (motorbikes, square car plates).
    One line: split at its dash, else the series is taken to be letters only.
    """
    rows = [re.sub(r"[^A-Z0-9-]", "", line.upper()) for line in lines]
    rows = [row for row in rows if row.strip("-")]
    if len(rows) == 2:
        head, number = rows
    elif len(rows) == 1 and "-" in rows[0].strip("-"):
        head, _dash, number = rows[0].strip("-").partition("-")
    elif len(rows) == 1:
        whole = rows[0].replace("-", "")
        cut = 4 if whole[3:4] and whole[3:4] in SERIES else 3
        head, number = whole[:cut], whole[cut:]
    else:
        return None
    head = head.replace("-", "")
    head = head[:2].translate(_DIGITS) + head[2:3].translate(_LETTERS) + head[3:]
    number = number.replace("-", "").translate(_DIGITS)
    if not HEAD.fullmatch(head) or not NUMBER.fullmatch(number):
        return None
    return f"{head}-{number[:3]}.{number[3:]}" if len(number) == 5 else f"{head}-{number}"


def _lines(found: Sequence[tuple[Any, str, float]]) -> list[tuple[str, float]]:
    """RapidOCR's boxes of text joined into lines, top to bottom, each with its lowest score."""
    pieces = sorted(
        (
            (min(y for _x, y in points) + max(y for _x, y in points)) / 2,
            max(y for _x, y in points) - min(y for _x, y in points),
            min(x for x, _y in points),
            text,
            score,
        )
        for points, text, score in found
    )
    rows: list[list[tuple[float, str, float]]] = []
    row_center = row_height = 0.0
    for center, height, left, text, score in pieces:
        if not rows or center - row_center > max(row_height, height) / 2:
            rows.append([])
            row_center, row_height = center, height
        rows[-1].append((left, text, score))
    return [
        ("".join(text for _left, text, _score in sorted(row)), min(s for *_, s in row))
        for row in rows
    ]


class PlateReader:
    """Reads plates with RapidOCR on one thread (one camera per core); its models load here."""

    def __init__(self) -> None:
        from rapidocr_onnxruntime import RapidOCR

        self._ocr = RapidOCR(
            intra_op_num_threads=1,
            inter_op_num_threads=1,
            use_cls=False,  # plates are upright: the 180° classifier only costs time
            text_score=MIN_SCORE,
            det_limit_side_len=WIDTH + 64,
            det_limit_type="max",
        )

    def read(self, frame: Frame, box: Box) -> PlateText | None:
        """The text of the plate in `box` of `frame`, or None if it cannot be read as one."""
        height, width = frame.shape[:2]
        grown = box.grown(MARGIN, width, height)
        x1, y1, x2, y2 = int(grown.x1), int(grown.y1), int(grown.x2 + 0.5), int(grown.y2 + 0.5)
        if x2 - x1 < 8 or y2 - y1 < 4:
            return None
        crop = frame[y1:y2, x1:x2]
        scale = WIDTH / (x2 - x1)
        crop = cv2.resize(
            crop,
            (WIDTH, max(1, round((y2 - y1) * scale))),
            interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA,
        )
        found, _elapsed = self._ocr(crop)
        if not found:
            return None
        lines = _lines(found)
        text = normalise_plate([line for line, _score in lines])
        if text is None:
            return None
        return PlateText(text, min(score for _line, score in lines))
