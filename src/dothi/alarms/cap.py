"""Alarms sent outward as CAP 1.2 (OASIS Common Alerting Protocol) messages.

One `alert` per transition: its `identifier` is the notification's idempotency key, an
update or the end of an alarm `references` the previous message about the same alarm to
the same receiver. Alarms are operational (a sensor's reading, not a public warning), so
the scope is `Restricted`. See docs/notifications.md for the mapping.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from dothi.alarms.notices import Notice
from dothi.core.clock import as_utc

NS = "urn:oasis:names:tc:emergency:cap:1.2"
CAP_TYPE = "application/cap+xml"
RESTRICTION = "Dành cho cơ quan điều hành đô thị; không phát cho công chúng."
LANGUAGE = "vi-VN"
RADIUS_KM = 0.1

MSG_TYPES = {"raised": "Alert", "cleared": "Cancel"}
"""CAP msgType of each kind; every other transition is an `Update`."""
CATEGORIES = {
    "FloodMonitoring": "Met",
    "WeatherObserved": "Met",
    "AirQualityObserved": "Env",
    "WaterQualityObserved": "Env",
    "NoiseLevelObserved": "Env",
    "TrafficFlowObserved": "Transport",
}
"""CAP category by entity type; every other type is `Infra`."""
GRAVITY = {
    "critical": ("Immediate", "Severe"),
    "warning": ("Expected", "Moderate"),
    "info": ("Future", "Minor"),
}
"""CAP urgency and severity of each of our severities."""
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class Reference:
    """An earlier message to the same receiver about the same alarm."""

    identifier: str
    sent: datetime


def cap_time(moment: datetime, zone: str) -> str:
    """CAP's DateTime: seconds, a numeric zone, and UTC written -00:00 (never Z)."""
    text = as_utc(moment).astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")
    return text.removesuffix("+00:00") + "-00:00" if text.endswith("+00:00") else text


def alert(
    notice: Notice,
    identifier: str,
    sender: str,
    zone: str,
    previous: Reference | None = None,
    *,
    status: str = "Actual",
) -> str:
    """The CAP 1.2 document (UTF-8 XML text) of a transition."""
    root = ET.Element(f"{{{NS}}}alert")
    _add(root, "identifier", identifier)
    _add(root, "sender", sender)
    _add(root, "sent", cap_time(notice.at, zone))
    _add(root, "status", status)
    _add(root, "msgType", MSG_TYPES.get(notice.kind, "Update"))
    _add(root, "scope", "Restricted")
    _add(root, "restriction", RESTRICTION)
    if previous is not None:
        _add(root, "references", f"{sender},{previous.identifier},{cap_time(previous.sent, zone)}")
    _info(root, notice)
    document = ET.tostring(root, encoding="unicode", default_namespace=NS)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{document}'


def _info(root: ET.Element, notice: Notice) -> None:
    alarm = notice.document
    info = _add(root, "info")
    _add(info, "language", LANGUAGE)
    _add(info, "category", CATEGORIES.get(str(alarm.get("entity_type")), "Infra"))
    _add(info, "event", str(alarm.get("rule_name", "")))
    urgency, severity = GRAVITY[notice.severity]
    if notice.kind == "cleared":
        _add(info, "responseType", "AllClear")
        urgency = "Past"
    _add(info, "urgency", urgency)
    _add(info, "severity", severity)
    _add(info, "certainty", "Observed")
    _add(info, "senderName", "dothi")
    _add(info, "headline", notice.headline[:160])
    _add(info, "description", str(alarm.get("reason", "")))
    for name, value in (
        ("dothi:kind", notice.kind),
        ("dothi:alarm", alarm.get("alarm")),
        ("dothi:entity", alarm.get("entity")),
        ("dothi:value", alarm.get("value")),
    ):
        if value is not None:
            parameter = _add(info, "parameter")
            _add(parameter, "valueName", name)
            _add(parameter, "value", str(value))
    _area(info, notice)


def _area(info: ET.Element, notice: Notice) -> None:
    area = _add(info, "area")
    _add(area, "areaDesc", notice.place)
    lat, lon = notice.document.get("lat"), notice.document.get("lon")
    if lat is not None and lon is not None:
        _add(area, "circle", f"{lat},{lon} {RADIUS_KM}")
    if notice.ward is not None:
        geocode = _add(area, "geocode")
        _add(geocode, "valueName", "dothi:ward-code")
        _add(geocode, "value", notice.ward.code)


def _add(parent: ET.Element, name: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{NS}}}{name}")
    if text is not None:
        element.text = _NOT_XML.sub("\ufffd", text)
    return element
