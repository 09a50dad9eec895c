"""Commits that changed some tables, counted in this process: what in-memory copies of
those tables compare to know they are current.

Every ORM session of the process is watched. A flush of a watched object, or an
ORM-enabled bulk INSERT, UPDATE or DELETE of a watched class, marks its session; the
commit of a marked session adds one to the count. Not seen: statements on a bare Table
or raw SQL, and other processes; copies also expire for those.
"""

from __future__ import annotations

import threading
from itertools import chain
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction

_CHANGED = "dothi_changed_watched"  # session.info: a watched table changed, not yet committed
_SEEN = "dothi_seen_generation"  # session.info: the count when the session's transaction began


class ChangeWatch:
    """The number of commits (in this process) that changed one of `classes`' tables."""

    def __init__(self, *classes: type[Any]) -> None:
        self._classes = classes
        self._lock = threading.Lock()
        self.generation = 0
        event.listen(Session, "before_flush", self._on_flush)
        event.listen(Session, "do_orm_execute", self._on_execute)
        event.listen(Session, "after_begin", self._on_begin)
        event.listen(Session, "after_commit", self._on_commit)
        event.listen(Session, "after_transaction_end", self._on_end)

    def seen(self, session: Session) -> int:
        """The count as of what `session` sees: taken when its transaction began.

        A copy built in the session and stamped with this is found stale at the next
        look if a watched change was committed meanwhile, whichever snapshot it read.
        """
        seen: int = session.info.get(_SEEN, self.generation)
        return seen

    def pending(self, session: Session) -> bool:
        """Whether `session` holds changes of watched tables that are not committed yet."""
        return bool(session.info.get(_CHANGED)) or self._touches(session)

    def _touches(self, session: Session) -> bool:
        """Whether the session's unflushed changes include a watched object."""
        objects = chain(session.new, session.dirty, session.deleted)
        return any(isinstance(item, self._classes) for item in objects)

    def _on_flush(self, session: Session, _flush: UOWTransaction, _instances: object) -> None:
        if self._touches(session):
            session.info[_CHANGED] = True

    def _on_execute(self, state: ORMExecuteState) -> None:
        if state.is_select:
            return
        mapper = state.bind_mapper
        if mapper is not None and issubclass(mapper.class_, self._classes):
            state.session.info[_CHANGED] = True

    def _on_begin(self, session: Session, _transaction: SessionTransaction, _conn: Any) -> None:
        session.info.setdefault(_SEEN, self.generation)

    def _on_commit(self, session: Session) -> None:
        if session.info.pop(_CHANGED, False):
            with self._lock:
                self.generation += 1

    def _on_end(self, session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:  # the outermost one: committed or rolled back
            session.info.pop(_SEEN, None)
            session.info.pop(_CHANGED, None)
