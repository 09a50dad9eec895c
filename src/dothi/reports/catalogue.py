"""The catalogue: categories (Open311 services) and workflow states, bundled and admin-defined.

The bundled categories cover the fields of HCMC's 1022 portal and the other problems
the seeds name; the built-in states are the ones every unit knows. Administrators add
categories and states with `reports:manage`; built-in states cannot be redefined.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from dothi.accounts.permissions import Principal
from dothi.core.documents import problems
from dothi.errors import Conflict, InvalidInput, NotFound
from dothi.reports.models import Category, State, StateKind
from dothi.reports.schemas import CategoryIn, CategoryOut, StateIn, StateOut

DATASETS = Path(__file__).parent / "datasets"
D = TypeVar("D", bound=BaseModel)

SUBMITTED = "submitted"
ACCEPTED = "accepted"
IN_PROGRESS = "in_progress"
FIXED = "fixed"
REJECTED = "rejected"
DUPLICATE = "duplicate"
TRANSFERRED = "transferred"

_OPEN, _CLOSED, _FIXED = StateKind.OPEN, StateKind.CLOSED, StateKind.FIXED
BUILTIN_STATES: Mapping[str, StateIn] = MappingProxyType(
    {
        code: StateIn(
            code=code,
            name=name,
            name_en=name_en,
            kind=kind,
            open311_status=status,
            reason_required=reason,
        )
        for code, name, name_en, kind, status, reason in (
            (SUBMITTED, "Chờ tiếp nhận", "Awaiting acceptance", _OPEN, "OPEN", False),
            (ACCEPTED, "Đã tiếp nhận", "Accepted", _OPEN, "ACTION_SCHEDULED", False),
            (IN_PROGRESS, "Đang xử lý", "In progress", _OPEN, "IN_PROGRESS", False),
            (FIXED, "Đã xử lý", "Fixed", _FIXED, "FIXED", False),
            (REJECTED, "Từ chối", "Rejected", _CLOSED, "NO_FURTHER_ACTION", True),
            (DUPLICATE, "Trùng lặp", "Duplicate", _CLOSED, "DUPLICATE", False),
            (
                TRANSFERRED,
                "Chuyển đơn vị khác",
                "Transferred to another unit",
                _OPEN,
                "INTERNAL_REFERRAL",
                True,
            ),
        )
    }
)
"""The states of the workflow that code relies on, in their order."""

SYSTEM_STATES = frozenset({SUBMITTED, TRANSFERRED, DUPLICATE})
"""States reached only through their own action (submit, transfer, mark duplicate)."""


class _Catalogue(BaseModel):
    model_config = ConfigDict(extra="ignore")

    categories: list[CategoryIn]


def read_dataset(name: str) -> dict[str, Any]:
    """A bundled JSON document of `reports/datasets`."""
    document: dict[str, Any] = json.loads((DATASETS / f"{name}.json").read_text("utf-8"))
    return document


def read_document(model: type[D], source: Mapping[str, Any] | None, dataset: str, label: str) -> D:
    """`source` (default: the bundled `dataset`) as `model`; what is wrong names `label`."""
    try:
        return model.model_validate(source or read_dataset(dataset))
    except ValidationError as exc:
        raise InvalidInput(f"{label}: {problems(exc, label)}") from exc


def ensure_states(session: Session) -> None:
    """Store the built-in states that are missing (idempotent)."""
    stored = set(session.scalars(select(State.code)))
    for position, state in enumerate(BUILTIN_STATES.values(), start=1):
        if state.code not in stored:
            session.add(
                State(**state.model_dump(exclude={"position"}), position=position, builtin=True)
            )
    session.flush()


def load_categories(session: Session, source: Mapping[str, Any] | None = None) -> int:
    """Create or update categories by code from a catalogue document (default: bundled)."""
    catalogue = read_document(_Catalogue, source, "categories", "catalogue")
    existing = {c.code: c for c in session.scalars(select(Category))}
    for data in catalogue.categories:
        _store_category(session, existing.get(data.code), data)
    session.flush()
    return len(catalogue.categories)


def define_category(session: Session, actor: Principal, data: CategoryIn) -> CategoryOut:
    """Create or replace a category (`reports:manage`)."""
    actor.require("reports:manage")
    ensure_states(session)  # reports of the category start in a built-in state
    found = session.scalar(select(Category).where(Category.code == data.code))
    category = _store_category(session, found, data)
    session.flush()
    return CategoryOut.model_validate(category)


def _store_category(session: Session, category: Category | None, data: CategoryIn) -> Category:
    fields = data.model_dump(mode="json")
    if category is None:
        category = Category(**fields)
        session.add(category)
    else:
        for key, value in fields.items():
            setattr(category, key, value)
    return category


def define_state(session: Session, actor: Principal, data: StateIn) -> StateOut:
    """Create or change an administrator's state (`reports:manage`); built-in ones stay."""
    actor.require("reports:manage")
    state = session.get(State, data.code)
    if state is not None and state.builtin:
        raise Conflict("Built-in states cannot be redefined.")
    if state is None:
        state = State(**data.model_dump(), builtin=False)
        session.add(state)
    else:
        for key, value in data.model_dump().items():
            setattr(state, key, value)
    session.flush()
    return StateOut.model_validate(state)


def list_categories(session: Session, *, include_inactive: bool = False) -> list[CategoryOut]:
    """Categories in their order (active ones only unless asked)."""
    query = select(Category).order_by(Category.position, Category.code)
    if not include_inactive:
        query = query.where(Category.active)
    return [CategoryOut.model_validate(c) for c in session.scalars(query)]


def category_by_code(session: Session, code: str) -> Category:
    """An active category; NotFound otherwise."""
    category = session.scalar(select(Category).where(Category.code == code, Category.active))
    if category is None:
        raise NotFound(f"No such category: {code}.")
    return category


def list_states(session: Session) -> list[StateOut]:
    """Every state, in workflow order."""
    query = select(State).order_by(State.position, State.code)
    return [StateOut.model_validate(s) for s in session.scalars(query)]


def state_by_code(session: Session, code: str) -> State:
    state = session.get(State, code)
    if state is None:
        raise InvalidInput(f"No such state: {code}.")
    return state
