"""What a notification says, rendered once at fan-out: dothi's JSON or CAP 1.2 for webhooks,
the Vietnamese text of e-mails. Pure functions of a `Notice`.
"""

from __future__ import annotations

import json
from datetime import datetime

from dothi.alarms import cap
from dothi.alarms.delivery_models import WebhookFormat
from dothi.alarms.notices import SEVERITY_VI, STATE_VI, Notice, local_time

JSON_TYPE = "application/json"


def webhook_payload(
    notice: Notice, key: str, fmt: str, sender: str, zone: str, previous: cap.Reference | None
) -> dict[str, str]:
    """The body a webhook receives and its media type."""
    if fmt == WebhookFormat.CAP:
        return {
            "content_type": cap.CAP_TYPE,
            "body": cap.alert(notice, key, sender, zone, previous),
        }
    return {"content_type": JSON_TYPE, "body": json_body(notice, key)}


def json_body(notice: Notice, key: str, *, test: bool = False) -> str:
    """dothi's JSON for a webhook: the key, the transition and the alarm after it."""
    ward = notice.ward
    alarm = {
        **notice.document,
        "ward_code": ward.code if ward else None,
        "ward_name": ward.name if ward else None,
    }
    document = {
        "idempotency_key": key,
        "feed_id": notice.feed_id,
        "kind": notice.kind,
        "at": notice.at.isoformat(),
        "severity": notice.severity,
        "test": test,
        "alarm": alarm,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def email_payload(notice: Notice, zone: str) -> dict[str, str]:
    """The subject and plain-text body of an e-mail, in Vietnamese."""
    subject = f"[{SEVERITY_VI[notice.severity]}] {notice.headline} – {notice.place}"
    return {"subject": subject, "body": _body(notice, zone)}


def _body(notice: Notice, zone: str) -> str:
    alarm = notice.document
    state = str(alarm.get("state", ""))
    lines = [
        notice.headline,
        "",
        f"Mức độ: {SEVERITY_VI[notice.severity]}",
        f"Nơi: {notice.place}" + (f" (mã {notice.ward.code})" if notice.ward else ""),
        f"Thiết bị: {alarm.get('entity', '')}",
        f"Lý do: {alarm.get('reason', '')}",
    ]
    if alarm.get("value") is not None:
        lines.append(f"Giá trị: {alarm['value']}")
    if alarm.get("raised_at"):
        lines.append(f"Bắt đầu lúc: {local_time(datetime.fromisoformat(alarm['raised_at']), zone)}")
    lines.append(f"Lúc: {local_time(notice.at, zone)}")
    lines.append(f"Tình trạng: {STATE_VI.get(state, state)}")
    if alarm.get("escalation_level", 0) >= 1:
        lines.append("Đã chuyển lãnh đạo trực ban.")
    if alarm.get("note"):
        lines.append(f"Ghi chú của {alarm.get('actor')}: {alarm['note']}")
    lines += [
        f"Mã cảnh báo: {alarm.get('alarm', '')}",
        "",
        "Thư gửi tự động từ dothi, xin đừng trả lời. Chọn mức cảnh báo nhận qua thư "
        "trong phần cài đặt thông báo của tài khoản.",
    ]
    return "\n".join(lines) + "\n"
