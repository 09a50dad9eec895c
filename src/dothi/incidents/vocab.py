"""The words of incidents: statuses, priorities and step states, each with its Vietnamese label.

Codes are stored; labels are shown. One class per vocabulary (NetBox's habit): adding a
value is adding a member and its label.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType
from typing import Final


class IncidentStatus(StrEnum):
    """Where an incident is: mới → đã điều phối → đang xử lý → đã xử lý → đóng."""

    NEW = "new"
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


_STATUS_LABELS: Final = MappingProxyType(
    {
        IncidentStatus.NEW: "Mới",
        IncidentStatus.DISPATCHED: "Đã điều phối",
        IncidentStatus.IN_PROGRESS: "Đang xử lý",
        IncidentStatus.RESOLVED: "Đã xử lý",
        IncidentStatus.CLOSED: "Đóng",
    }
)

OPEN_STATUSES: Final = frozenset(
    {IncidentStatus.NEW, IncidentStatus.DISPATCHED, IncidentStatus.IN_PROGRESS}
)
"""Statuses of incidents that still need someone (a resolved one waits only to be closed)."""


class Priority(StrEnum):
    """How urgent an incident or a directive is."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def label(self) -> str:
        return _PRIORITY_LABELS[self]


_PRIORITY_LABELS: Final = MappingProxyType(
    {
        Priority.LOW: "Thấp",
        Priority.NORMAL: "Bình thường",
        Priority.HIGH: "Cao",
        Priority.CRITICAL: "Khẩn cấp",
    }
)


class StepState(StrEnum):
    """Where a step of an incident's SOP is."""

    PENDING = "pending"
    DISPATCHED = "dispatched"
    ACKNOWLEDGED = "acknowledged"
    DONE = "done"
    SKIPPED = "skipped"

    @property
    def label(self) -> str:
        return _STEP_LABELS[self]


_STEP_LABELS: Final = MappingProxyType(
    {
        StepState.PENDING: "Chờ giao",
        StepState.DISPATCHED: "Đã giao",
        StepState.ACKNOWLEDGED: "Đã nhận",
        StepState.DONE: "Hoàn thành",
        StepState.SKIPPED: "Bỏ qua",
    }
)

FINISHED_STEPS: Final = frozenset({StepState.DONE, StepState.SKIPPED})


class TargetState(StrEnum):
    """Where one unit is with a directive addressed to it."""

    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return _TARGET_LABELS[self]


_TARGET_LABELS: Final = MappingProxyType(
    {
        TargetState.SENT: "Đã gửi",
        TargetState.ACKNOWLEDGED: "Đã nhận",
        TargetState.IN_PROGRESS: "Đang thực hiện",
        TargetState.CLOSED: "Đã hoàn thành",
    }
)


class LinkKind(StrEnum):
    """What caused an incident: an alarm, a citizen report, a camera event, a city message."""

    ALARM = "alarm"
    REPORT = "report"
    CAMERA = "camera"
    MESSAGE = "message"
