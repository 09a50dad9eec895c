"""Response templates (mẫu trả lời): ready notes an officer picks when updating a report,
for a category (or any) and the state the update moves to (or any), like FixMyStreet's.

A few are bundled (`datasets/response-templates.json`); administrators (`reports:manage`)
define more. The officer's page offers those of the report's category; a template picked
with an empty note fills the note (and the state, when none was chosen).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dothi.accounts.permissions import Principal
from dothi.errors import InvalidInput, NotFound
from dothi.reports.catalogue import SYSTEM_STATES, category_by_code, read_document, state_by_code
from dothi.reports.models import Category, ResponseTemplate, State
from dothi.reports.schemas import ResponseIn, ResponseOut, StateChange


class _Templates(BaseModel):
    model_config = ConfigDict(extra="ignore")

    templates: list[ResponseIn]


def _store(session: Session, data: ResponseIn) -> None:
    category_id = None
    if data.category is not None:
        try:
            category_id = category_by_code(session, data.category).id
        except NotFound as exc:
            raise InvalidInput(exc.message) from exc
    if data.state is not None:
        state_by_code(session, data.state)
        if data.state in SYSTEM_STATES:
            raise InvalidInput("This state is reached through its own action.")
    template = session.scalar(select(ResponseTemplate).where(ResponseTemplate.code == data.code))
    if template is None:
        template = ResponseTemplate(code=data.code)
        session.add(template)
    template.category_id = category_id
    template.state = data.state
    template.title = data.title
    template.text = data.text
    template.position = data.position
    session.flush()


def load_templates(session: Session, source: Mapping[str, Any] | None = None) -> int:
    """Create or update templates by code from a document (default: the bundled ones)."""
    document = read_document(_Templates, source, "response-templates", "templates")
    for data in document.templates:
        _store(session, data)
    return len(document.templates)


def define_template(session: Session, actor: Principal, data: ResponseIn) -> ResponseOut:
    """Create or replace a response template (`reports:manage`)."""
    actor.require("reports:manage")
    _store(session, data)
    return ResponseOut.model_validate(data.model_dump())


def list_templates(session: Session, category: str | None = None) -> list[ResponseOut]:
    """Templates in order; with `category`, those of that category and those of any."""
    query = (
        select(ResponseTemplate, Category.code)
        .outerjoin(Category, Category.id == ResponseTemplate.category_id)
        .outerjoin(State, State.code == ResponseTemplate.state)
        .order_by(  # templates of any state last, on both backends
            State.position.is_(None),
            State.position,
            ResponseTemplate.position,
            ResponseTemplate.code,
        )
    )
    if category is not None:
        query = query.where(or_(Category.code == category, ResponseTemplate.category_id.is_(None)))
    return [
        ResponseOut(
            code=template.code,
            category=code,
            state=template.state,
            title=template.title,
            text=template.text,
            position=template.position,
        )
        for template, code in session.execute(query)
    ]


def apply_template(session: Session, code: str, change: StateChange) -> StateChange:
    """`change` with the template's text as its note when it has none, and its state when
    none was chosen (how the update form works without JavaScript)."""
    if not code or change.note:
        return change
    template = session.scalar(select(ResponseTemplate).where(ResponseTemplate.code == code))
    if template is None:
        raise InvalidInput("No such response template.")
    return change.model_copy(
        update={"note": template.text, "state": change.state or template.state}
    )
