"""Administrative trees shipped with dothi (built by scripts/build_places.py; ODbL 1.0).

- `phu-nhuan`: the demo district as in the seeds, city -> district -> 15 wards.
- `hcm-2025`: the same area after the July 2025 reform, province -> 3 wards.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Final

from sqlalchemy.orm import Session

from dothi.core.documents import ImportResult
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
