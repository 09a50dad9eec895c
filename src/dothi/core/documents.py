"""Reading the documents operators import (JSON, GeoJSON) and saying clearly what is wrong."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dothi.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class ImportResult:
    """How many records an import added and how many it updated."""

    created: int
    updated: int


def read_json_object(source: Path | str | Mapping[str, Any], what: str) -> Mapping[str, Any]:
    """The JSON object in a file (or the mapping given); InvalidInput naming the problem."""
    if isinstance(source, Mapping):
        return source
    try:
        loaded = json.loads(Path(source).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"cannot read {source}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{source} is not JSON: {exc}") from exc
    if not isinstance(loaded, Mapping):
        raise InvalidInput(f"{what} must be a JSON object")
    return loaded


def problems(error: ValidationError, whole: str = "record") -> str:
    """Pydantic's complaints as one readable line: `field: message; …`."""
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or whole}: {item['msg']}"
        for item in error.errors()
    )
