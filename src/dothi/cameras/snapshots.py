"""Snapshots from cameras: fetched with the camera's credentials (which stay here), and
kept a few seconds so that a wall of viewers asks each camera once.

What is kept is what may be shown: the caller redacts a picture before it is cached
(faces and plates, `detectors.privacy`); an original is never cached.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from dothi.cameras.health import Source
from dothi.errors import DothiError, NotFound

TIMEOUT = 5.0
MAX_BYTES = 8 << 20
KEEP_SECONDS = 10.0


class CameraUnreachable(DothiError):
    """The camera did not give a picture: a gateway error, not the caller's."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=502)


def fetch(source: Source, timeout: float = TIMEOUT) -> bytes:
    """The camera's current picture (JPEG) from its snapshot URL."""
    if not source.snapshot_url:
        raise NotFound(f"Camera {source.code} has no snapshot URL.")
    auth = (source.username, source.password or "") if source.username else None
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            answer = client.get(source.snapshot_url, auth=auth)
    except httpx.HTTPError as error:
        raise CameraUnreachable(f"Camera {source.code} did not answer: {error}.") from error
    if answer.status_code != 200:
        raise CameraUnreachable(f"Camera {source.code} answered {answer.status_code}.")
    if not answer.headers.get("content-type", "").startswith("image/"):
        raise CameraUnreachable(f"Camera {source.code} did not send a picture.")
    if len(answer.content) > MAX_BYTES:
        raise CameraUnreachable(f"Camera {source.code} sent a picture over 8 MiB.")
    return answer.content


@dataclass(frozen=True, slots=True)
class _Kept:
    picture: bytes
    until: float


class SnapshotCache:
    """Shown pictures by camera code for `keep` seconds; one fetch at a time per camera."""

    def __init__(self, keep: float = KEEP_SECONDS) -> None:
        self.keep = keep
        self._kept: dict[str, _Kept] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, code: str, make: Callable[[], bytes]) -> bytes:
        """The kept picture of `code`, or `make()`'s, kept from now."""
        with self._guard:
            lock = self._locks.setdefault(code, threading.Lock())
        with lock:  # viewers of one camera wait for one fetch, not one each
            kept = self._kept.get(code)
            if kept is not None and kept.until > time.monotonic():
                return kept.picture
            picture = make()
            self._kept[code] = _Kept(picture, time.monotonic() + self.keep)
            return picture
