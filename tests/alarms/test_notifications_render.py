"""Alarm notifications without a database: who receives what, CAP 1.2, e-mails, SMTP URLs."""

from __future__ import annotations

import json
import smtplib
import uuid
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from dothi.accounts.permissions import Principal, Role
from dothi.alarms import cap
from dothi.alarms.channels import (
    Mailbox,
    Mailer,
    SmtpConnection,
    SmtpServer,
    email_message,
    parse_smtp_url,
)
from dothi.alarms.notices import NO_WARD, Notice, Ward, idempotency_key
from dothi.alarms.payloads import email_payload, json_body
from dothi.alarms.recipients import FEED_KINDS, Reader, WebhookTarget, emailed, webhook_wants
from dothi.alarms.schemas import Severity
from dothi.workers.notifier import AlarmNotifying

NS = {"cap": cap.NS}
AT = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
WARD_A = Ward(uuid.uuid4(), "26734", "Phường 7", "/city/district/ward-a/")
WARD_B_PATH = "/city/district/ward-b/"
SNAPSHOT = {
    "alarm": "8f0c7a52-0a4a-4f55-9d35-0f6c1a7e9b11",
    "rule": "flood-level",
    "rule_name": "Ngập nước trên đường",
    "entity": "urn:ngsi-ld:FloodMonitoring:hotspot-1",
    "entity_type": "FloodMonitoring",
    "lon": 106.68893,
    "lat": 10.80065,
    "state": "active",
    "value": 0.35,
    "reason": "currentLevel 0.35 > 0.3",
    "raised_at": AT.isoformat(),
    "escalation_level": 0,
    "actor": "rules",
    "note": None,
}


def _reader(name: str, role: Role, path: str, least: Severity = "warning") -> Reader:
    return Reader(Principal(uuid.uuid5(uuid.NAMESPACE_DNS, name), name, role, (path,)), least)


READERS = [
    _reader("operator", Role.OPERATOR, "/city/district/"),
    _reader("officer.a", Role.OFFICER, WARD_A.path),
    _reader("officer.a.calm", Role.OFFICER, WARD_A.path, "critical"),
    _reader("officer.b", Role.OFFICER, WARD_B_PATH),
    _reader("leader", Role.LEADER, "/city/district/"),
    _reader("leader.b", Role.LEADER, WARD_B_PATH),
    _reader("admin", Role.ADMIN, "/city/"),
]


@pytest.mark.parametrize(
    ("kind", "severity", "expected"),
    [
        ("raised", "warning", {"operator", "officer.a"}),
        ("raised", "info", set()),
        ("reopened", "critical", {"operator", "officer.a", "officer.a.calm"}),
        ("worse", "critical", {"operator", "officer.a", "officer.a.calm"}),
        ("escalated", "warning", {"operator", "officer.a", "leader"}),
        ("reminded", "critical", {"leader"}),
        ("acknowledged", "critical", set()),
        ("better", "warning", set()),
        ("cleared", "critical", set()),
    ],
)
def test_each_transition_is_mailed_to_its_audience_in_the_area(
    kind: str, severity: Severity, expected: set[str]
) -> None:
    names = {reader.principal.user_id: reader.principal.username for reader in READERS}
    assert {names[user] for user in emailed(kind, severity, WARD_A.path, READERS)} == expected


def test_an_alarm_without_a_ward_is_mailed_only_to_whole_tree_scopes() -> None:
    city_operator = _reader("city", Role.OPERATOR, "/city/")
    assert emailed("raised", "critical", None, [*READERS, city_operator]) == [
        city_operator.principal.user_id
    ]


def test_a_webhook_takes_the_kinds_severities_and_wards_it_asked_for() -> None:
    everything = WebhookTarget(uuid.uuid4(), "json", "info", frozenset(FEED_KINDS), None)
    ward_a = WebhookTarget(
        uuid.uuid4(), "cap", "warning", frozenset({"raised", "cleared"}), frozenset({WARD_A.id})
    )
    assert webhook_wants(everything, "acknowledged", "info", None)
    assert webhook_wants(ward_a, "raised", "critical", WARD_A.id)
    assert not webhook_wants(ward_a, "raised", "info", WARD_A.id)  # below its severity
    assert not webhook_wants(ward_a, "worse", "critical", WARD_A.id)  # a kind not asked for
    assert not webhook_wants(ward_a, "raised", "critical", uuid.uuid4())  # another ward
    assert not webhook_wants(ward_a, "raised", "critical", None)


def _notice(kind: str = "worse", ward: Ward | None = WARD_A, **document: Any) -> Notice:
    return Notice(7, kind, AT, "critical", {**SNAPSHOT, **document}, ward)


def _parse(text: str) -> ET.Element:
    return ET.fromstring(text.encode())  # noqa: S314 (our own output)


def test_a_cap_alert_has_every_required_element_in_order() -> None:
    key = idempotency_key(7, "webhook", uuid.uuid4())
    previous = cap.Reference("alarm-feed-6:webhook:x", AT)
    alert = _parse(cap.alert(_notice(), key, "dothi.phunhuan", "Asia/Ho_Chi_Minh", previous))
    assert alert.tag == f"{{{cap.NS}}}alert"
    assert [child.tag.split("}")[1] for child in alert] == [
        "identifier", "sender", "sent", "status", "msgType", "scope", "restriction",
        "references", "info",
    ]  # fmt: skip
    assert alert.findtext("cap:sent", namespaces=NS) == "2026-11-20T10:00:00+07:00"
    assert alert.findtext("cap:references", namespaces=NS) == (
        "dothi.phunhuan,alarm-feed-6:webhook:x,2026-11-20T10:00:00+07:00"
    )
    info = alert.find("cap:info", NS)
    assert info is not None
    fields = {child.tag.split("}")[1]: child.text for child in info}
    assert fields["language"] == "vi-VN" and fields["category"] == "Met"
    assert (fields["urgency"], fields["severity"], fields["certainty"]) == (
        "Immediate",
        "Severe",
        "Observed",
    )
    assert fields["event"] == "Ngập nước trên đường"
    assert fields["headline"] == "Cảnh báo tăng mức: Ngập nước trên đường"
    assert fields["description"] == "currentLevel 0.35 > 0.3"
    assert info.findtext("cap:area/cap:areaDesc", namespaces=NS) == "Phường 7"
    assert info.findtext("cap:area/cap:circle", namespaces=NS) == "10.80065,106.68893 0.1"
    assert info.findtext("cap:area/cap:geocode/cap:value", namespaces=NS) == "26734"


@pytest.mark.parametrize(
    ("kind", "msg_type"), [("raised", "Alert"), ("escalated", "Update"), ("cleared", "Cancel")]
)
def test_the_message_type_follows_the_transition(kind: str, msg_type: str) -> None:
    alert = _parse(cap.alert(_notice(kind), "k", "dothi", "UTC"))
    assert alert.findtext("cap:msgType", namespaces=NS) == msg_type
    assert alert.findtext("cap:sent", namespaces=NS) == "2026-11-20T03:00:00-00:00"  # never Z
    cleared = kind == "cleared"
    assert (alert.findtext("cap:info/cap:responseType", namespaces=NS) == "AllClear") == cleared
    assert (alert.findtext("cap:info/cap:urgency", namespaces=NS) == "Past") == cleared


def test_an_alarm_without_place_or_point_still_has_an_area_and_clean_text() -> None:
    notice = _notice("raised", None, lon=None, lat=None, entity_type="Streetlight", reason="a\x01b")
    alert = _parse(cap.alert(notice, "k", "dothi", "UTC"))
    assert alert.findtext("cap:info/cap:area/cap:areaDesc", namespaces=NS) == NO_WARD
    assert alert.find("cap:info/cap:area/cap:circle", NS) is None
    assert alert.findtext("cap:info/cap:category", namespaces=NS) == "Infra"
    assert alert.findtext("cap:info/cap:description", namespaces=NS) == "a\ufffdb"


def test_the_json_body_carries_the_key_and_the_alarm_with_its_ward() -> None:
    document = json.loads(json_body(_notice(), "alarm-feed-7:webhook:x"))
    assert document["idempotency_key"] == "alarm-feed-7:webhook:x"
    assert (document["feed_id"], document["kind"], document["severity"]) == (7, "worse", "critical")
    assert document["alarm"]["ward_code"] == "26734" and document["alarm"]["value"] == 0.35


def test_an_email_is_utf8_with_a_message_id_made_of_its_key() -> None:
    """The subject reads back whole: spaces between its encoded words are kept."""
    key = idempotency_key(7, "email", uuid.uuid4())
    payload = email_payload(_notice(), "Asia/Ho_Chi_Minh")
    sender = "dothi <canhbao@phunhuan.example.vn>"
    raw = email_message(payload, key, sender, "an@phunhuan.example.vn", AT).as_bytes()
    assert raw.isascii()  # encoded words and quoted-printable: safe through any relay
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    assert message["Subject"] == "[Nghiêm trọng] Cảnh báo tăng mức: Ngập nước trên đường – Phường 7"
    assert str(message["Message-ID"]).strip() == f"<{key.replace(':', '.')}@phunhuan.example.vn>"
    body = message.get_content()
    assert "Nơi: Phường 7 (mã 26734)" in body and "Bắt đầu lúc: 10:00 20/11/2026" in body


@pytest.mark.parametrize(
    ("url", "server"),
    [
        ("", None),
        ("smtp://mail.local", SmtpServer("mail.local", 25, "smtp")),
        (
            "smtp+starttls://dothi%40q:p%40ss@mail.example.vn",
            SmtpServer("mail.example.vn", 587, "smtp+starttls", "dothi@q", "p@ss"),
        ),
        (
            "smtps://u:p@mail.example.vn:2465",
            SmtpServer("mail.example.vn", 2465, "smtps", "u", "p"),
        ),
    ],
)
def test_smtp_urls_are_read(url: str, server: SmtpServer | None) -> None:
    assert parse_smtp_url(url) == server


@pytest.mark.parametrize("url", ["http://mail.local", "smtp://", "mail.local:25"])
def test_other_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="SMTP URL"):
        parse_smtp_url(url)


def test_an_unreachable_smtp_server_fails_the_round_without_trying_again() -> None:
    tries = []

    def connect() -> SmtpConnection:
        tries.append(1)
        raise ConnectionRefusedError("no server")

    mailbox = Mailbox(Mailer("dothi <a@b.vn>", connect))
    message = EmailMessage()
    errors = [mailbox.send(message, "x@b.vn"), mailbox.send(message, "y@b.vn")]
    assert errors == ["ConnectionRefusedError: no server"] * 2 and len(tries) == 1


def test_a_dropped_connection_is_opened_again_for_the_next_email() -> None:
    opened: list[_Flaky] = []

    def connect() -> SmtpConnection:
        opened.append(_Flaky(fail=not opened))
        return opened[-1]

    mailbox = Mailbox(Mailer("dothi <a@b.vn>", connect))
    first = mailbox.send(EmailMessage(), "x@b.vn")
    assert first is not None and first.startswith("SMTPServerDisconnected")
    assert mailbox.send(EmailMessage(), "y@b.vn") is None
    mailbox.close()
    assert [connection.sent for connection in opened] == [0, 1] and opened[1].closed


class _Flaky:
    def __init__(self, *, fail: bool) -> None:
        self.fail, self.sent, self.closed = fail, 0, False

    def send_message(self, msg: Message, from_addr: Any = None, to_addrs: Any = None) -> object:
        if self.fail:
            raise smtplib.SMTPServerDisconnected("gone")
        self.sent += 1
        return {}

    def quit(self) -> object:
        self.closed = True
        return (221, b"bye")


def test_the_notifier_sends_email_only_when_an_smtp_server_is_set() -> None:
    quiet = AlarmNotifying.build(zone="UTC", cap_sender="dothi", smtp_url="", smtp_from="a@b.vn")
    assert quiet.mailer is None and not quiet.fan_out.email
    mailing = AlarmNotifying.build(
        zone="UTC", cap_sender="dothi", smtp_url="smtp://mail.local", smtp_from="a@b.vn"
    )
    assert mailing.mailer is not None and mailing.fan_out.email
