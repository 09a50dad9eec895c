"""The directory of organisational units, imported in bulk from JSON (the demo ships one).

A directory is `{"units": [{"code", "name", "kind", "place"}, …]}` where `place` is the
code of the administrative unit the body works in. Re-importing updates units by code.
Every unit goes through the same service as one created by hand: scope checks, audit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from dothi.accounts.models import OrgUnit, OrgUnitKind
from dothi.accounts.orgunits import create_org_unit, update_org_unit
from dothi.accounts.permissions import Principal
from dothi.accounts.schemas import Code, Name, OrgUnitCreate, OrgUnitUpdate
from dothi.core.clock import Clock, local_date
from dothi.core.documents import ImportResult, problems, read_json_object
from dothi.errors import InvalidInput
from dothi.places.service import unit_ids_by_code

BUNDLED = {"phu-nhuan": Path(__file__).parent / "datasets" / "phu-nhuan.json"}


class DirectoryEntry(BaseModel):
    """One body of the directory, placed by the code of its administrative unit."""

    model_config = ConfigDict(extra="forbid")

    code: Code
    name: Name
    kind: OrgUnitKind
    place: Code


class Directory(BaseModel):
    """A directory file; `name`, `title` and `note` describe it."""

    model_config = ConfigDict(extra="ignore")

    units: list[DirectoryEntry]


def parse_directory(source: Path | str | Mapping[str, Any]) -> Directory:
    """Read and check a directory file; InvalidInput says what is wrong and where."""
    try:
        directory = Directory.model_validate(read_json_object(source, "a directory"))
    except ValidationError as exc:
        raise InvalidInput(f"directory: {problems(exc, 'directory')}") from exc
    counts = Counter(entry.code for entry in directory.units)
    repeated = sorted(code for code, count in counts.items() if count > 1)
    if repeated:
        raise InvalidInput(f"directory: codes used twice: {', '.join(repeated)}")
    return directory


def import_directory(
    session: Session,
    actor: Principal,
    source: Path | str | Mapping[str, Any],
    clock: Clock,
    zone: str = "Asia/Ho_Chi_Minh",
) -> ImportResult:
    """Create or update the directory's units; all or nothing (the caller's transaction)."""
    directory = parse_directory(source)
    day: date = local_date(clock.now(), zone)
    places = unit_ids_by_code(session, {entry.place for entry in directory.units}, day)
    unknown = sorted({entry.place for entry in directory.units} - set(places))
    if unknown:
        raise InvalidInput(f"directory: no administrative unit with code {', '.join(unknown)}")
    existing = {
        unit.code: unit
        for unit in session.scalars(
            select(OrgUnit).where(OrgUnit.code.in_([entry.code for entry in directory.units]))
        )
    }
    created = updated = 0
    for entry in directory.units:
        fields = {"name": entry.name, "kind": entry.kind, "admin_unit_id": places[entry.place]}
        unit = existing.get(entry.code)
        if unit is None:
            create_org_unit(session, actor, OrgUnitCreate(code=entry.code, **fields), clock)
            created += 1
            continue
        changed = {key: value for key, value in fields.items() if getattr(unit, key) != value}
        if changed:
            update_org_unit(session, actor, unit.id, OrgUnitUpdate(**changed), clock)
            updated += 1
    return ImportResult(created=created, updated=updated)
