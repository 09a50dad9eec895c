"""Synthetic videos for the tests: rectangles ("vehicles") moving over a textured ground."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

WIDTH, HEIGHT, FPS = 640, 360, 10


@dataclass(frozen=True)
class Mover:
    """A rectangle at (x, y) (its centre) at key frames, straight lines in between."""

    keys: tuple[tuple[int, float, float], ...]  # (frame, x, y)
    size: tuple[int, int] = (64, 32)
    colour: tuple[int, int, int] = (40, 40, 200)

    def at(self, frame: int) -> tuple[float, float] | None:
        keys = self.keys
        if frame < keys[0][0] or frame > keys[-1][0]:
            return None
        for (f0, x0, y0), (f1, x1, y1) in itertools.pairwise(keys):
            if f0 <= frame <= f1:
                k = (frame - f0) / max(f1 - f0, 1)
                return x0 + (x1 - x0) * k, y0 + (y1 - y0) * k
        return None


def write_video(path: Path, movers: list[Mover], frames: int) -> Path:
    """An MPEG-4 file of `frames` frames in which the movers move."""
    rng = np.random.default_rng(7)
    noise = rng.integers(90, 140, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    ground = cv2.GaussianBlur(noise, (5, 5), 0)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), FPS, (WIDTH, HEIGHT))
    assert writer.isOpened()
    for index in range(frames):
        image = ground.copy()
        for mover in movers:
            place = mover.at(index)
            if place is None:
                continue
            w, h = mover.size
            x, y = int(place[0] - w / 2), int(place[1] - h / 2)
            cv2.rectangle(image, (x, y), (x + w, y + h), mover.colour, -1)
            cv2.rectangle(image, (x + 8, y + 6), (x + w - 8, y + h - 6), (200, 200, 200), 2)
        writer.write(image)
    writer.release()
    return path
