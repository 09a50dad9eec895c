"""Personal data (Law 91/2025/QH15): marked columns and the one way to mask them.

A column holding personal data is declared with `info=personal("phone")`;
`personal_values` finds every such column of a row and masks it unless the
caller may see it. Whoever reveals values writes the audit entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from sqlalchemy import inspect

MASK = "***"


def mask_name(name: str) -> str:
    """ "Nguyễn Văn An" -> "N*** V*** A***": initials only."""
    return " ".join(word[0] + MASK for word in name.split())


def mask_phone(phone: str) -> str:
    """ "0912345678" -> "091****678": the operator prefix and last three digits."""
    if len(phone) <= 6:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 6) + phone[-3:]


def mask_email(email: str) -> str:
    """ "an.nguyen@example.vn" -> "a***@example.vn": the domain stays readable."""
    local, at, domain = email.rpartition("@")
    if not at or not local:
        return MASK
    return f"{local[0]}{MASK}@{domain}"


MASKS: Mapping[str, Callable[[str], str]] = MappingProxyType(
    {"name": mask_name, "phone": mask_phone, "email": mask_email}
)
"""How each kind of personal value is masked."""


def personal(kind: str) -> dict[str, Any]:
    """The `info` of a personal-data column; `kind` picks its mask."""
    if kind not in MASKS:
        raise ValueError(f"no mask for personal data of kind {kind!r}")
    return {"personal": True, "kind": kind}


def personal_columns(model: type[Any]) -> dict[str, str]:
    """Attribute name -> kind, for every personal-data column of a mapped class."""
    return {
        attr.key: attr.columns[0].info["kind"]
        for attr in inspect(model).column_attrs
        if attr.columns[0].info.get("personal")
    }


def personal_values(row: object, *, reveal: bool) -> dict[str, str | None]:
    """The personal fields of `row`, masked unless `reveal`."""
    values: dict[str, str | None] = {}
    for key, kind in personal_columns(type(row)).items():
        value: str | None = getattr(row, key)
        values[key] = value if reveal or value is None else MASKS[kind](value)
    return values
