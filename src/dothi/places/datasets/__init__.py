"""Administrative trees shipped with dothi (built by scripts/build_places.py; ODbL 1.0).

- `phu-nhuan`: the demo district as in the seeds, city -> district -> 15 wards.
- `hcm-2025`: the same area after the July 2025 reform, province -> 3 wards.
- `streets.json`: the names of the demo district's main roads with a point on each,
  for search (built by scripts/build_streets.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Final

from sqlalchemy.orm import Session

from dothi.core.documents import ImportResult
from dothi.core.text import fold
from dothi.errors import NotFound
from dothi.places.importer import Progress, import_geojson

BUNDLED: Final = ("phu-nhuan", "hcm-2025")


def dataset_path(name: str) -> Path:
    """The GeoJSON file of a bundled dataset."""
    if name not in BUNDLED:
        raise NotFound(f"no bundled places dataset {name!r}; there are {', '.join(BUNDLED)}")
    return Path(str(files(__name__).joinpath(f"{name}.geojson")))


def load_bundled(session: Session, name: str, *, progress: Progress | None = None) -> ImportResult:
    """Import a bundled dataset (again: its units are updated, not duplicated)."""
    return import_geojson(session, dataset_path(name), progress=progress)


@dataclass(frozen=True, slots=True)
class Street:
    """A named main road of the demo district: a point on it and the ward codes it crosses."""

    name: str
    folded: str
    lon: float
    lat: float
    wards: tuple[str, ...]


@cache
def streets() -> tuple[Street, ...]:
    """The bundled street index (`streets.json`, OpenStreetMap, ODbL 1.0), read once."""
    document = json.loads(files(__name__).joinpath("streets.json").read_text(encoding="utf-8"))
    return tuple(
        Street(s["name"], fold(s["name"]), s["lon"], s["lat"], tuple(s["wards"]))
        for s in document["streets"]
    )
