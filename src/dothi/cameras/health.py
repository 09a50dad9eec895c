"""Camera health: a cheap probe of each camera (RTSP DESCRIBE, or an HTTP snapshot request:
never a decode), its state from the probes, the changes kept, availability read from them.

Two failed probes in a row make a camera offline (one may be a lost packet); an answer
that is slow or refuses the credentials makes it degraded; a good answer online.
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from dothi.cameras.models import Camera, Health, HealthChange

TIMEOUT = 3.0
"""Seconds a probe waits for an answer."""
SLOW = 1.5
"""Seconds after which an answer counts as degraded."""
FAILURES_OFFLINE = 2
"""Failed probes in a row that make a camera offline."""


@dataclass(frozen=True, slots=True)
class Source:
    """What a probe needs of a camera, read out of its session."""

    id: uuid.UUID
    code: str
    stream_url: str | None
    snapshot_url: str | None
    username: str | None
    password: str | None


@dataclass(frozen=True, slots=True)
class Probe:
    """One probe's outcome: answered well, answered badly (degraded), or not at all."""

    answered: bool
    good: bool
    seconds: float
    error: str | None = None


def status_message(code: str, health: str, lon: float, lat: float) -> tuple[str, bytes]:
    """The NGSI-LD entity of a camera and the attributes that tell its health (and place)."""
    document = {"status": health, "location": {"type": "Point", "coordinates": [lon, lat]}}
    return f"urn:ngsi-ld:Camera:{code}", json.dumps(document).encode()


def source_of(camera: Camera) -> Source:
    return Source(
        camera.id,
        camera.code,
        camera.stream_url,
        camera.snapshot_url,
        camera.username,
        camera.password,
    )


def probe(source: Source, timeout: float = TIMEOUT) -> Probe:
    """Ask the camera once: DESCRIBE its RTSP stream, else GET its HTTP snapshot."""
    started = time.perf_counter()
    try:
        if source.stream_url and source.stream_url.startswith("rtsp"):
            status = _describe(source, timeout)
        elif source.snapshot_url or source.stream_url:
            status = _get(source, timeout)
        else:
            return Probe(False, False, 0.0, "no stream or snapshot URL")
    except (OSError, httpx.HTTPError, ValueError) as error:
        return Probe(False, False, time.perf_counter() - started, _short(error))
    seconds = time.perf_counter() - started
    if status != 200:
        return Probe(True, False, seconds, f"answered {status}")
    if seconds > SLOW:
        return Probe(True, False, seconds, f"answered in {seconds:.1f} s")
    return Probe(True, True, seconds)


def _describe(source: Source, timeout: float) -> int:
    """The status of an RTSP DESCRIBE of the stream (Basic credentials when it has some)."""
    assert source.stream_url is not None
    parts = urlsplit(source.stream_url)
    secure = parts.scheme == "rtsps"
    host, port = parts.hostname or "", parts.port or (322 if secure else 554)
    clean = parts._replace(netloc=f"{host}:{port}").geturl()  # no credentials on the wire URL
    lines = [f"DESCRIBE {clean} RTSP/1.0", "CSeq: 1", "Accept: application/sdp"]
    user = source.username or parts.username
    if user:
        secret = source.password or parts.password or ""
        token = base64.b64encode(f"{user}:{secret}".encode()).decode()
        lines.append(f"Authorization: Basic {token}")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    with socket.create_connection((host, port), timeout=timeout) as raw:
        connection = (
            ssl.create_default_context().wrap_socket(raw, server_hostname=host) if secure else raw
        )
        connection.sendall(request)
        first = connection.recv(256).split(b"\r\n", 1)[0].decode("latin-1")
    protocol, _, rest = first.partition(" ")
    if not protocol.startswith("RTSP/") or not rest[:3].isdigit():
        raise ValueError(f"not an RTSP answer: {first[:40]!r}")
    return int(rest[:3])


def _tls(raw: socket.socket, host: str) -> socket.socket:
    return ssl.create_default_context().wrap_socket(raw, server_hostname=host)


def _get(source: Source, timeout: float) -> int:
    url = source.snapshot_url or source.stream_url
    assert url is not None
    auth = (source.username, source.password or "") if source.username else None
    with (
        httpx.Client(timeout=timeout, follow_redirects=False) as client,
        client.stream("GET", url, auth=auth) as answer,
    ):
        return answer.status_code


def _short(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:300]


def judge(camera: Camera, outcome: Probe, now: datetime) -> str | None:
    """Apply a probe to the camera; its new health when that changed (recorded), else None."""
    camera.last_probe_at = now
    camera.last_error = outcome.error
    camera.failures = 0 if outcome.answered else camera.failures + 1
    if outcome.answered:
        health = Health.ONLINE if outcome.good else Health.DEGRADED
    elif camera.failures >= FAILURES_OFFLINE:
        health = Health.OFFLINE
    else:
        return None  # one miss: wait for the next probe
    return set_health(camera, health, now)


def set_health(camera: Camera, health: str, now: datetime) -> str | None:
    """Record a camera's health; the new value when it changed, else None."""
    if camera.health == health:
        return None
    camera.health, camera.health_since = health, now
    session = Session.object_session(camera)
    assert session is not None
    session.add(HealthChange(camera_id=camera.id, at=now, health=health))
    return health


@dataclass(frozen=True, slots=True)
class Availability:
    """Minutes online and minutes expected over a period."""

    online_minutes: float
    expected_minutes: float

    @property
    def ratio(self) -> float | None:
        return self.online_minutes / self.expected_minutes if self.expected_minutes else None


def availability(
    session: Session, camera_ids: Iterable[uuid.UUID], start: datetime, end: datetime
) -> Mapping[uuid.UUID, Availability]:
    """Each camera's online minutes in [start, end), from its health changes (before a
    camera's first change its health is unknown: not online)."""
    ids = list(camera_ids)
    expected = (end - start).total_seconds() / 60
    changes: dict[uuid.UUID, list[tuple[datetime, str]]] = {camera: [] for camera in ids}
    for camera_id, at, health in session.execute(
        select(HealthChange.camera_id, HealthChange.at, HealthChange.health)
        .where(HealthChange.camera_id.in_(ids), HealthChange.at < end)
        .order_by(HealthChange.camera_id, HealthChange.at)
    ):
        changes[camera_id].append((at, health))
    return {
        camera: Availability(_online_minutes(changes[camera], start, end), expected)
        for camera in ids
    }


def _online_minutes(changes: list[tuple[datetime, str]], start: datetime, end: datetime) -> float:
    online = 0.0
    for (at, health), (following, _) in pairwise([*changes, (end, "")]):
        if health != Health.ONLINE:
            continue
        begin, finish = max(at, start), min(following, end)
        online += max((finish - begin).total_seconds(), 0.0)
    return online / 60
