"""The extra questions of a category (Open311 attributes): checking the answers given."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from pydantic import ValidationError

from dothi.errors import InvalidInput
from dothi.reports.schemas import AttributeDef

Answer = str | list[str]


class Questioned(Protocol):
    """A category as far as its questions go: a stored one or its copy in memory."""

    @property
    def code(self) -> str: ...

    @property
    def attributes(self) -> Sequence[Mapping[str, Any]]: ...


def definitions(category: Questioned) -> list[AttributeDef]:
    """The attribute definitions of a category, in their order."""
    try:
        found = [AttributeDef.model_validate(item) for item in category.attributes]
    except ValidationError as exc:  # stored by hand, bypassing the catalogue
        raise InvalidInput(f"The category {category.code} is misconfigured.") from exc
    return sorted(found, key=lambda item: item.order)


def _check(definition: AttributeDef, answer: Answer) -> Answer:
    values = [answer] if isinstance(answer, str) else answer
    if definition.datatype != "multivaluelist" and len(values) != 1:
        raise InvalidInput(f"{definition.code}: one value expected.")
    if definition.datatype in ("singlevaluelist", "multivaluelist"):
        keys = {value.key for value in definition.values}
        if unknown := [value for value in values if value not in keys]:
            raise InvalidInput(f"{definition.code}: not one of the choices: {unknown[0]}")
        return values if definition.datatype == "multivaluelist" else values[0]
    try:
        if definition.datatype == "number":
            float(values[0])
        elif definition.datatype == "datetime":
            datetime.fromisoformat(values[0])
    except ValueError as exc:
        raise InvalidInput(f"{definition.code}: not a {definition.datatype}.") from exc
    return values[0]


def check_attributes(category: Questioned, answers: Mapping[str, Answer]) -> dict[str, Answer]:
    """The answers, checked: known codes, required ones present, values of the right type."""
    known = {definition.code: definition for definition in definitions(category)}
    if unknown := sorted(answers.keys() - known.keys()):
        raise InvalidInput(f"Unknown attribute for this category: {unknown[0]}")
    checked: dict[str, Answer] = {}
    for code, definition in known.items():
        answer = answers.get(code)
        if answer is None or answer == "" or answer == []:
            if definition.required:
                raise InvalidInput(f"{code}: this answer is required.")
            continue
        checked[code] = _check(definition, answer)
    return checked
