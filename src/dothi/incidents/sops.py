"""SOP templates (quy trình xử lý), shipped as YAML: one per incident type, ordered steps,
each with who does it and a target time in minutes from the start of the procedure."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from dothi.accounts.models import OrgUnitKind
from dothi.errors import InvalidInput

SOURCE = Path(__file__).with_name("sops.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StepTemplate(_Strict):
    """One step: what to do, by whom (a kind of unit, or the IOC in a role), how fast."""

    text: Annotated[str, Field(min_length=1)]
    unit_kind: OrgUnitKind | None = None
    role: Literal["operator", "leader"] | None = None
    minutes: Annotated[int, Field(gt=0, le=7 * 24 * 60)]

    @model_validator(mode="after")
    def _one_responsible(self) -> StepTemplate:
        if (self.unit_kind is None) == (self.role is None):
            raise ValueError("a step names either a unit_kind or a role")
        return self


class Sop(_Strict):
    """The procedure of one incident type, and the alarms and reports of the same kind."""

    code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
    name: str
    alarm_rules: tuple[str, ...] = ()
    report_categories: tuple[str, ...] = ()
    steps: Annotated[tuple[StepTemplate, ...], Field(min_length=1)]


class _Catalogue(_Strict):
    sops: tuple[Sop, ...]


@cache
def catalogue() -> dict[str, Sop]:
    """The shipped SOPs by incident type, in the order of the file."""
    data = _Catalogue.model_validate(yaml.safe_load(SOURCE.read_text(encoding="utf-8")))
    return {sop.code: sop for sop in data.sops}


def sop(code: str) -> Sop:
    """The SOP of an incident type; InvalidInput naming the known ones otherwise."""
    found = catalogue().get(code)
    if found is None:
        known = ", ".join(catalogue())
        raise InvalidInput(f"No incident type or SOP {code!r}; known: {known}.")
    return found


def type_of_alarm(rule_code: str) -> str | None:
    """The incident type whose alarms come from this rule, if any."""
    return next((s.code for s in catalogue().values() if rule_code in s.alarm_rules), None)


def type_of_report(category: str) -> str | None:
    """The incident type of reports of this category, if any."""
    return next((s.code for s in catalogue().values() if category in s.report_categories), None)
