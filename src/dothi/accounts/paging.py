"""One way to answer a list query: the total number of matches and one page of them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from dothi.accounts.schemas import Page, PageQuery

R = TypeVar("R")
T = TypeVar("T")


def paginate(
    session: Session,
    stmt: Select[R],
    query: PageQuery,
    shown: Callable[[Sequence[R]], list[T]],
) -> Page[T]:
    """Count what `stmt` selects, then fetch the page `query` asks for, as `shown` renders it.

    `stmt` carries its ordering: a page is only well defined in a fixed order.
    """
    counted: Select[Any] = select(func.count()).select_from(stmt.order_by(None).subquery())
    total = session.scalar(counted) or 0
    rows = session.scalars(stmt.limit(query.limit).offset(query.offset)).all()
    return Page(items=shown(rows), total=total, limit=query.limit, offset=query.offset)
