"""Cameras in CSV, as installers and recorders' exports give them: one camera a row, a header
naming the columns (any order; only `code`, `name`, `lon` and `lat` are required).

Reading is all or nothing: every bad row is named with its line and field, and none is kept.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Any

from pydantic import ValidationError

from dothi.cameras.schemas import CameraIn
from dothi.core.documents import problems
from dothi.errors import InvalidInput

COLUMNS = (
    "code",
    "name",
    "lon",
    "lat",
    "heading",
    "field_of_view",
    "range_m",
    "purposes",
    "recorder",
    "stream_url",
    "snapshot_url",
    "username",
    "password",
    "active",
)
REQUIRED = ("code", "name", "lon", "lat")
MAX_ROWS = 5000
MAX_ERRORS = 20
_TRUE, _FALSE = {"1", "true", "yes", "có"}, {"0", "false", "no", "không"}


def read_cameras_csv(text: str) -> list[CameraIn]:
    """The cameras of a CSV document; InvalidInput listing the bad rows (up to 20)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in reader.fieldnames or []]
    if missing := [name for name in REQUIRED if name not in header]:
        raise InvalidInput(f"The CSV header lacks the columns {', '.join(missing)}.")
    if unknown := [name for name in header if name not in COLUMNS]:
        raise InvalidInput(
            f"Unknown CSV columns {', '.join(unknown)}; the columns are {', '.join(COLUMNS)}."
        )
    reader.fieldnames = header
    cameras, errors = [], []
    for row in reader:
        if reader.line_num > MAX_ROWS + 1:
            raise InvalidInput(f"A CSV import holds at most {MAX_ROWS} cameras.")
        try:
            cameras.append(CameraIn.model_validate(_fields(row)))
        except (ValidationError, ValueError) as error:
            detail = problems(error) if isinstance(error, ValidationError) else str(error)
            errors.append(f"line {reader.line_num}: {detail}")
    if errors:
        more = f" (and {len(errors) - MAX_ERRORS} more)" if len(errors) > MAX_ERRORS else ""
        raise InvalidInput("; ".join(errors[:MAX_ERRORS]) + more)
    if codes := _repeated([camera.code for camera in cameras]):
        raise InvalidInput(f"Codes given twice: {', '.join(codes)}.")
    return cameras


def _fields(row: dict[str | Any, str | Any]) -> dict[str, Any]:
    if None in row:
        raise ValueError("more cells than columns")
    fields: dict[str, Any] = {k: v.strip() for k, v in row.items() if v is not None and v.strip()}
    if "purposes" in fields:
        fields["purposes"] = [p.strip() for p in fields["purposes"].replace("|", ";").split(";")]
    if "active" in fields:
        fields["active"] = _boolean(fields["active"])
    return fields


def _boolean(text: str) -> bool:
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise ValueError(f"active: {text!r} is not true or false")


def _repeated(codes: list[str]) -> list[str]:
    return sorted(code for code, times in Counter(codes).items() if times > 1)
