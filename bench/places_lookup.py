"""Point -> ward lookups per second: the STRtree index against a loop over prepared polygons.

Both run in the same process on the same random points, and their answers must agree:
first over the demo district (16 boundaries, loaded into a temporary SQLite database),
then over a synthetic province made of 6 x 5 shifted copies of it (480 boundaries).
"""

from __future__ import annotations

import os
import platform
import random
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import shapely
from shapely.affinity import translate
from shapely.geometry import Point, mapping, shape
from sqlalchemy import select

from dothi.db.engine import Database
from dothi.db.migrate import upgrade
from dothi.places.datasets import load_bundled
from dothi.places.lookup import PlaceIndex
from dothi.places.models import AdminUnit

DISTRICT_POINTS = 100_000
PROVINCE_POINTS = 20_000
DAY = date(2026, 1, 1)
Lookup = Callable[[tuple[float, float]], uuid.UUID | None]
Box = tuple[float, float, float, float]


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _load() -> list[AdminUnit]:
    """The demo district's units with a boundary, read back from a temporary SQLite file."""
    with tempfile.TemporaryDirectory() as folder:
        database = Database(f"sqlite:///{folder}/bench.sqlite3")
        upgrade(database.engine)
        with database.write() as session:
            load_bundled(session, "phu-nhuan")
        with database.read() as session:
            units = list(session.scalars(select(AdminUnit).where(AdminUnit.boundary.is_not(None))))
            session.expunge_all()
        database.dispose()
    return units


def _tiled(units: list[AdminUnit], box: Box, columns: int, rows: int) -> list[AdminUnit]:
    """Copies of the units shifted side by side, each copy a tree of its own."""
    west, south, east, north = box
    copies = []
    for column in range(columns):
        for row in range(rows):
            root = f"/{uuid.uuid4()}"
            for unit in units:
                moved = translate(
                    shape(unit.boundary), (east - west) * column, (north - south) * row
                )
                copies.append(
                    AdminUnit(
                        id=uuid.uuid4(),
                        level=unit.level,
                        path=f"{root}{unit.path}",
                        boundary=mapping(moved),
                        valid_from=unit.valid_from,
                        valid_to=unit.valid_to,
                    )
                )
    return copies


def _brute_force(units: list[AdminUnit]) -> Lookup:
    """The deepest valid unit whose prepared polygon covers the point, trying every one."""
    candidates = sorted(
        ((unit.depth, shape(unit.boundary), unit.id) for unit in units if unit.valid_at(DAY)),
        key=lambda candidate: -candidate[0],
    )
    shapely.prepare([geometry for _, geometry, _ in candidates])

    def lookup(point: tuple[float, float]) -> uuid.UUID | None:
        where = Point(point)
        return next((key for _, geometry, key in candidates if geometry.covers(where)), None)

    return lookup


def _strtree(units: list[AdminUnit]) -> Lookup:
    index = PlaceIndex(units)

    def lookup(point: tuple[float, float]) -> uuid.UUID | None:
        found = index.locate(point, DAY)
        return None if found is None else found.id

    return lookup


def _rate(
    lookup: Lookup, points: list[tuple[float, float]]
) -> tuple[float, list[uuid.UUID | None]]:
    started = time.perf_counter()
    answers = [lookup(point) for point in points]
    return len(points) / (time.perf_counter() - started), answers


def _compare(title: str, units: list[AdminUnit], box: Box, count: int) -> None:
    rng = random.Random(768)
    west, south, east, north = box
    points = [(rng.uniform(west, east), rng.uniform(south, north)) for _ in range(count)]
    tree_rate, tree_answers = _rate(_strtree(units), points)
    brute_rate, brute_answers = _rate(_brute_force(units), points)
    if tree_answers != brute_answers:
        raise SystemExit(f"{title}: the two lookups disagree")
    inside = sum(answer is not None for answer in tree_answers)
    print(f"\n{title}: {len(units)} boundaries, {count:,} random points ({inside:,} inside)")
    print(f"  STRtree index:                  {tree_rate:>10,.0f} lookups/s")
    print(f"  brute force (prepared, covers): {brute_rate:>10,.0f} lookups/s")
    print(f"  ratio STRtree / brute force:    {tree_rate / brute_rate:>10.2f}")


def main() -> None:
    print(f"machine: {os.cpu_count()} CPUs (nproc), {_cpu_model()}")
    print(f"python {platform.python_version()}, shapely {shapely.__version__}")
    units = _load()
    district = next(unit for unit in units if unit.level == "district")
    box: Box = shape(district.boundary).bounds
    _compare("demo district (Phú Nhuận)", units, box, DISTRICT_POINTS)
    west, south, east, north = box
    province_box = (west, south, west + 6 * (east - west), south + 5 * (north - south))
    _compare(
        "synthetic province (6 x 5 districts)",
        _tiled(units, box, 6, 5),
        province_box,
        PROVINCE_POINTS,
    )


if __name__ == "__main__":
    main()
