"""A transition of an alarm as notifications tell it, and the Vietnamese words they use."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dothi.alarms.models import AlarmFeedEntry
from dothi.alarms.recipients import as_severity
from dothi.alarms.schemas import Severity
from dothi.core.clock import as_utc

KIND_VI: Mapping[str, str] = {
    "raised": "Cảnh báo mới",
    "reopened": "Cảnh báo lặp lại",
    "worse": "Cảnh báo tăng mức",
    "better": "Cảnh báo giảm mức",
    "acknowledged": "Đã tiếp nhận",
    "escalated": "Chuyển lãnh đạo trực ban",
    "reminded": "Nhắc lại: chưa ai tiếp nhận",
    "cleared": "Hết cảnh báo",
}
SEVERITY_VI: Mapping[str, str] = {
    "info": "Thông tin",
    "warning": "Cảnh báo",
    "critical": "Nghiêm trọng",
}
STATE_VI: Mapping[str, str] = {
    "active": "chưa ai tiếp nhận",
    "acknowledged": "đã tiếp nhận",
    "cleared": "đã kết thúc",
}
NO_WARD = "Chưa xác định phường"


@dataclass(frozen=True, slots=True)
class Ward:
    """The administrative unit an alarm is in, as notifications name it."""

    id: uuid.UUID
    code: str
    name: str
    path: str


@dataclass(frozen=True, slots=True)
class Notice:
    """One transition of an alarm, as every channel tells it."""

    feed_id: int
    kind: str
    at: datetime
    severity: Severity
    document: Mapping[str, Any]  # the feed's snapshot of the alarm after the transition
    ward: Ward | None

    @classmethod
    def of(cls, entry: AlarmFeedEntry, ward: Ward | None) -> Notice:
        severity = as_severity(entry.severity)
        return cls(entry.id, entry.kind, as_utc(entry.at), severity, entry.document, ward)

    @property
    def place(self) -> str:
        return self.ward.name if self.ward else NO_WARD

    @property
    def headline(self) -> str:
        """What happened to which alarm: "Cảnh báo mới: Ngập nước trên đường"."""
        return f"{KIND_VI.get(self.kind, self.kind)}: {self.document.get('rule_name', '')}"


def idempotency_key(feed_id: int, channel: str, recipient: uuid.UUID) -> str:
    """The key of one notification: the same at every attempt, unique across them all."""
    return f"alarm-feed-{feed_id}:{channel}:{recipient}"


def local_time(moment: datetime, zone: str) -> str:
    """A moment as people in the deployment read it: 08:31 15/01/2026."""
    return as_utc(moment).astimezone(ZoneInfo(zone)).strftime("%H:%M %d/%m/%Y")
