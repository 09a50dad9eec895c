"""Alarm notifications end to end, on both backends: a real SMTP server (aiosmtpd) and a
webhook receiver that checks signatures and keeps one copy per idempotency key.

The flood story's transitions reach the operators, the duty leader and two webhooks (JSON
and CAP 1.2); a failing receiver is retried with backoff; a forged body is refused; and a
notifier killed in the middle of a delivery and started again leaves every receiver with
exactly one copy of each notification.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select

from dothi.accounts.permissions import SYSTEM, Role
from dothi.alarms import lifecycle
from dothi.alarms.channels import (
    KEY_HEADER,
    SIGNATURE_HEADER,
    Mailer,
    SmtpServer,
    sign,
    smtp_connector,
)
from dothi.alarms.delivery import MAX_ATTEMPTS, deliver_due
from dothi.alarms.delivery_models import AlarmNotification, AlarmWebhook
from dothi.alarms.fanout import FanOutOptions, fan_out
from dothi.alarms.models import AlarmFeedEntry
from dothi.alarms.recipients import EmailPreference, set_email_preference
from dothi.alarms.webhooks import WebhookIn, create_webhook
from dothi.config import Settings
from dothi.core.clock import Clock, FixedClock
from dothi.db.engine import Database
from dothi.telemetry.notifications import backoff
from tests.accounts.helpers import START, add_user, build_town, principal
from tests.alarms.test_flood_story import Story
from tests.mqtt import wait_for

ZONE = "Asia/Ho_Chi_Minh"
FROM = "dothi <canhbao@phunhuan.example.vn>"
CAP_SENDER = "dothi.phunhuan"
CAP = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
OPTIONS = FanOutOptions(ZONE, CAP_SENDER, email=True)


class Holding:
    """A receiver that can hold its answers: from arrival `hold_after + 1` on, each waits
    until `release` is set (a notifier killed meanwhile never hears it was delivered)."""

    def __init__(self) -> None:
        self.hold_after: int | None = None
        self.release = threading.Event()

    def hold_from_next(self, arrived: int) -> None:
        self.hold_after, self.release = arrived, threading.Event()

    def holds(self, arrived: int) -> bool:
        return self.hold_after is not None and arrived > self.hold_after

    def let_go(self) -> None:
        self.hold_after = None
        self.release.set()


class Receiver(Holding):
    """A webhook receiver keeping the contract of docs/notifications.md: it answers 401 to a
    body whose signature is wrong and keeps one copy per idempotency key."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[str, str] = {}  # path -> the webhook's secret
        self.arrivals: list[tuple[str, str]] = []  # (path, key) of every signed POST
        self.kept: dict[str, dict[str, bytes]] = defaultdict(dict)  # path -> key -> body
        self.refused = 0
        self.statuses: list[int] = []  # answers to come, then 204
        self.lock = threading.Lock()
        self.port = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def take(self, path: str, headers: dict[str, str], body: bytes) -> int:
        secret = self.secrets.get(path, "")
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if not secret or not hmac.compare_digest(expected, headers.get(SIGNATURE_HEADER, "")):
            with self.lock:
                self.refused += 1
            return 401
        key = headers[KEY_HEADER]
        with self.lock:
            self.arrivals.append((path, key))
            status = self.statuses.pop(0) if self.statuses else 204
            if status < 300:
                self.kept[path].setdefault(key, body)  # a repeated key is a copy: dropped
            held = self.holds(len(self.arrivals))
        if held:
            self.release.wait(30)
        return status


class Inbox(Holding):
    """An aiosmtpd handler keeping every message it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.port = 0

    async def handle_DATA(  # noqa: N802 (aiosmtpd's name)
        self, _server: SMTP, _session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or b""
        message = BytesParser(policy=policy.default).parsebytes(content)
        assert isinstance(message, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), message))
        if self.holds(len(self.messages)):
            await asyncio.to_thread(self.release.wait, 30)
        return "250 Message accepted for delivery"

    def mailer(self) -> Mailer:
        return Mailer(FROM, smtp_connector(SmtpServer("127.0.0.1", self.port, "smtp")))

    def by_id(self) -> dict[str, EmailMessage]:
        """One message per Message-ID, as a client that drops duplicates shows them."""
        return {str(message["Message-ID"]).strip(): message for _, message in self.messages}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def receiving() -> Iterator[Receiver]:
    """A Receiver listening on a local port while the block runs."""
    found = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(found.take(self.path, dict(self.headers.items()), body))
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        found.let_go()
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as found:
        yield found


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    """An SMTP server on a local port, keeping what it receives."""
    found = Inbox()
    found.port = _free_port()
    controller = Controller(found, hostname="127.0.0.1", port=found.port)
    controller.start()
    yield found
    controller.stop()


def _webhook(db: Database, receiver: Receiver, path: str, clock: Clock, **fields: Any) -> uuid.UUID:
    data = WebhookIn.model_validate({"name": path, "url": receiver.url(path), **fields})
    with db.write() as session:
        hook = create_webhook(session, SYSTEM, data, clock, ZONE)
        receiver.secrets[path] = hook.secret
        return hook.id


def _notify(db: Database, clock: Clock, mailer: Mailer | None) -> None:
    """Fan out and deliver until nothing is left that is due."""
    while fan_out(db, clock, OPTIONS):
        pass
    with httpx.Client() as http:
        while deliver_due(db, http, mailer, clock):
            pass


def _feed_kinds(db: Database) -> dict[int, str]:
    with db.read() as session:
        return dict(session.execute(select(AlarmFeedEntry.id, AlarmFeedEntry.kind)).all())


def _kind_of(key: str, kinds: dict[int, str]) -> str:
    """The transition an idempotency key (alarm-feed-<id>:<channel>:<recipient>) is about."""
    return kinds[int(key.split(":")[0].removeprefix("alarm-feed-"))]


def _key(message: EmailMessage) -> str:
    """The idempotency key of an e-mail (a long header is folded: unfolded, it keeps a space)."""
    return str(message["X-Dothi-Idempotency-Key"]).strip()


def _outbox(db: Database) -> list[AlarmNotification]:
    with db.read() as session:
        return list(session.scalars(select(AlarmNotification).order_by(AlarmNotification.id)))


def test_the_flood_story_reaches_operators_the_duty_leader_and_both_webhooks(
    demo_db: Database, inbox: Inbox, receiver: Receiver
) -> None:
    town = build_town(demo_db, FixedClock(START))
    with demo_db.write() as session:
        add_user(session, "leader.q", Role.LEADER, None, [town.district])  # the duty leader
        quiet = add_user(session, "operator.b", Role.OPERATOR, None, [town.district])
        quiet.email = None  # no address: left out
    story = Story(demo_db)
    _webhook(demo_db, receiver, "/json", story.clock)
    _webhook(demo_db, receiver, "/cap", story.clock, format="cap")
    story.water(0.12)
    ward_id = story.alarm().admin_unit_id
    assert ward_id is not None
    ward = {unit: name for name, unit in town.wards.items()}[ward_id]
    officer = f"officer.p{ward.split()[-1]}"
    with demo_db.write() as session:  # the ward's officer wants critical alarms only
        set_email_preference(
            session, principal(demo_db, officer), EmailPreference(min_severity="critical")
        )
    story.water(0.35)
    story.later(35)  # escalated, then reminded twice
    with demo_db.write() as session:
        operator = principal(demo_db, "operator")
        lifecycle.acknowledge(session, operator, story.alarm().id, None, story.clock)
    story.water(0.2)
    story.water(0.05)

    _notify(demo_db, story.clock, inbox.mailer())

    kinds = _feed_kinds(demo_db)
    history = [kinds[feed_id] for feed_id in sorted(kinds)]
    assert history == [
        "raised", "worse", "escalated", "reminded", "reminded", "acknowledged", "better", "cleared"
    ]  # fmt: skip
    leaders = ["leader.q", *(["leader.p2"] if ward == "Phường 2" else [])]
    mailed = sorted(
        (_kind_of(_key(message), kinds), to.split("@")[0]) for [to], message in inbox.messages
    )
    assert mailed == sorted(
        [
            ("raised", "operator"),
            ("worse", "operator"),
            ("worse", officer),
            ("escalated", "operator"),
            ("escalated", officer),
            *(("escalated", leader) for leader in leaders),
            *(("reminded", leader) for leader in leaders for _ in range(2)),
        ]
    )
    _check_escalation_mail(inbox, kinds, ward)
    _check_json(receiver, history)
    _check_cap(receiver, history, ward)
    assert receiver.refused == 0
    assert all(row.sent_at is not None for row in _outbox(demo_db))
    before = (len(inbox.messages), len(receiver.arrivals))
    _notify(demo_db, story.clock, inbox.mailer())  # nothing twice
    assert (len(inbox.messages), len(receiver.arrivals)) == before


def _check_escalation_mail(inbox: Inbox, kinds: dict[int, str], ward: str) -> None:
    [message] = [
        message
        for [to], message in inbox.messages
        if to.startswith("leader.q@") and _kind_of(_key(message), kinds) == "escalated"
    ]
    key = _key(message)
    assert str(message["Message-ID"]).strip() == f"<{key.replace(':', '.')}@phunhuan.example.vn>"
    assert (
        message["Subject"]
        == f"[Nghiêm trọng] Chuyển lãnh đạo trực ban: Ngập nước trên đường – {ward}"
    )
    assert message["From"] == FROM and message["Auto-Submitted"] == "auto-generated"
    body = message.get_content()
    assert "Mức độ: Nghiêm trọng" in body and f"Nơi: {ward}" in body
    assert "Tình trạng: chưa ai tiếp nhận" in body and "Đã chuyển lãnh đạo trực ban." in body


def _check_json(receiver: Receiver, history: list[str]) -> None:
    kept = receiver.kept["/json"]
    documents = [json.loads(body) for body in kept.values()]
    assert [document["kind"] for document in documents] == history
    for key, document in zip(kept, documents, strict=True):
        assert document["idempotency_key"] == key and not document["test"]
        assert document["alarm"]["rule"] == "flood-level" and document["alarm"]["ward_name"]
    assert documents[-1]["alarm"]["state"] == "cleared"


def _check_cap(receiver: Receiver, history: list[str], ward: str) -> None:
    kept = receiver.kept["/cap"]
    alerts = [ET.fromstring(body) for body in kept.values()]  # noqa: S314 (our own test data)

    def text(alert: ET.Element, path: str) -> str:
        found = alert.findtext(path, namespaces=CAP)
        assert found is not None, path
        return found

    assert [text(a, "cap:msgType") for a in alerts] == [
        "Alert", *["Update"] * (len(history) - 2), "Cancel"
    ]  # fmt: skip
    first = alerts[0]
    for key, alert in zip(kept, alerts, strict=True):
        assert alert.tag == "{urn:oasis:names:tc:emergency:cap:1.2}alert"
        assert text(alert, "cap:identifier") == key
        assert text(alert, "cap:sender") == CAP_SENDER
        assert text(alert, "cap:sent").endswith("+07:00")
        assert (text(alert, "cap:status"), text(alert, "cap:scope")) == ("Actual", "Restricted")
        assert text(alert, "cap:restriction")
        assert text(alert, "cap:info/cap:language") == "vi-VN"
        assert text(alert, "cap:info/cap:category") == "Met"
        assert text(alert, "cap:info/cap:event") == "Ngập nước trên đường"
        assert text(alert, "cap:info/cap:certainty") == "Observed"
        assert text(alert, "cap:info/cap:area/cap:areaDesc") == ward
        lat, lon_radius = text(alert, "cap:info/cap:area/cap:circle").split(",")
        assert float(lat) > 10 and lon_radius.endswith(" 0.1")
    sent_first = text(first, "cap:sent")
    assert (
        text(alerts[1], "cap:references")
        == f"{CAP_SENDER},{text(first, 'cap:identifier')},{sent_first}"
    )
    critical = alerts[1]
    assert (text(critical, "cap:info/cap:severity"), text(critical, "cap:info/cap:urgency")) == (
        "Severe",
        "Immediate",
    )
    assert text(alerts[-1], "cap:info/cap:responseType") == "AllClear"


def test_a_failing_receiver_is_retried_with_growing_backoff(
    demo_db: Database, receiver: Receiver
) -> None:
    story = Story(demo_db)
    _webhook(demo_db, receiver, "/json", story.clock)
    story.water(0.15)
    receiver.statuses = [500, 500, 503]
    clock = story.clock
    assert fan_out(demo_db, clock, OPTIONS) == 1
    waits = []
    with httpx.Client() as http:
        for _ in range(3):
            assert deliver_due(demo_db, http, None, clock) == 1
            assert deliver_due(demo_db, http, None, clock) == 0  # not due yet
            [row] = _outbox(demo_db)
            waits.append(row.next_attempt_at - clock.now())
            clock.advance(waits[-1])
        assert deliver_due(demo_db, http, None, clock) == 1
    assert waits == [backoff(1), backoff(2), backoff(3)]
    [row] = _outbox(demo_db)
    assert (row.attempts, row.sent_at, row.last_error) == (4, clock.now(), None)
    assert len(receiver.arrivals) == 4 and len(receiver.kept["/json"]) == 1


def test_a_receiver_that_never_answers_well_is_given_up_with_its_last_error(
    demo_db: Database, receiver: Receiver
) -> None:
    story = Story(demo_db)
    _webhook(demo_db, receiver, "/json", story.clock)
    story.water(0.15)
    receiver.statuses = [500] * MAX_ATTEMPTS
    fan_out(demo_db, story.clock, OPTIONS)
    with httpx.Client() as http:
        for _ in range(MAX_ATTEMPTS):
            assert deliver_due(demo_db, http, None, story.clock) == 1
            story.clock.advance(timedelta(hours=1))  # past every backoff
        assert deliver_due(demo_db, http, None, story.clock) == 0
    [row] = _outbox(demo_db)
    assert row.sent_at is None and row.attempts == MAX_ATTEMPTS
    assert row.last_error is not None and row.last_error.startswith("HTTP 500")


def test_a_forged_body_and_a_wrong_secret_are_refused(
    demo_db: Database, receiver: Receiver
) -> None:
    story = Story(demo_db)
    hook_id = _webhook(demo_db, receiver, "/json", story.clock)
    story.water(0.15)
    fan_out(demo_db, story.clock, OPTIONS)
    [row] = _outbox(demo_db)
    with demo_db.read() as session:
        secret = session.get_one(AlarmWebhook, hook_id).secret
    body = row.payload["body"].encode()
    headers = {SIGNATURE_HEADER: sign(secret, body), KEY_HEADER: row.idempotency_key}
    forged = body.replace(b'"severity":"warning"', b'"severity":"info"')
    assert forged != body
    assert httpx.post(receiver.url("/json"), content=forged, headers=headers).status_code == 401
    assert httpx.post(receiver.url("/json"), content=body, headers=headers).status_code == 204

    receiver.secrets["/json"] = "a secret the notifier does not know"
    with httpx.Client() as http:
        assert deliver_due(demo_db, http, None, story.clock) == 1
    [row] = _outbox(demo_db)
    assert row.sent_at is None and row.last_error is not None
    assert row.last_error.startswith("HTTP 401")
    assert receiver.refused == 2


NOTIFIER = """
import signal, sys, threading
from dataclasses import replace
from datetime import timedelta
from dothi.core.clock import SystemClock
from dothi.db.engine import Database
from dothi.workers.notifier import AlarmNotifying, run_notifier

url, smtp_url, sender, cap_sender = sys.argv[1:5]
database = Database(url)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
options = AlarmNotifying.build(
    zone="Asia/Ho_Chi_Minh", cap_sender=cap_sender, smtp_url=smtp_url, smtp_from=sender
)
short = replace(options, batch=5, lease=timedelta(seconds=1))
run_notifier(database, SystemClock(), stop, alarms=short)
database.dispose()
"""
"""`dothi worker notifier` with a short lease: the restarted one need not wait minutes."""


def _start_notifier(settings: Settings, inbox: Inbox) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-c",
        NOTIFIER,
        settings.database_url,
        f"smtp://127.0.0.1:{inbox.port}",
        FROM,
        CAP_SENDER,
    ]
    return subprocess.Popen(command)


def _kill_when(settings: Settings, inbox: Inbox, holding: Holding, cut: Callable[[], bool]) -> None:
    """Run a notifier until `cut` holds (a delivery is held), SIGKILL it, let the answer go."""
    notifier = _start_notifier(settings, inbox)
    try:
        wait_for("a delivery under way", cut)
        notifier.send_signal(signal.SIGKILL)
        notifier.wait()
    finally:
        notifier.kill()
        notifier.wait()
        holding.let_go()


def test_a_notifier_killed_mid_delivery_and_restarted_leaves_one_copy_of_each(
    settings: Settings, demo_db: Database, inbox: Inbox, receiver: Receiver
) -> None:
    town = build_town(demo_db, FixedClock(START))
    with demo_db.write() as session:
        add_user(session, "leader.q", Role.LEADER, None, [town.district])
    story = Story(demo_db)
    _webhook(demo_db, receiver, "/json", story.clock)
    _webhook(demo_db, receiver, "/cap", story.clock, format="cap")
    story.water(0.12)
    story.water(0.35)
    story.later(25)  # escalated, reminded

    receiver.hold_from_next(2)  # killed while the third POST waits for its answer
    _kill_when(settings, inbox, receiver, lambda: len(receiver.arrivals) == 3)
    mailed_before = len(inbox.messages)
    inbox.hold_from_next(mailed_before)  # then while the next e-mail waits for its 250
    _kill_when(settings, inbox, inbox, lambda: len(inbox.messages) == mailed_before + 1)
    cut_at = len(receiver.arrivals) + len(inbox.messages)
    last = _start_notifier(settings, inbox)
    try:
        wait_for(
            "every notification sent",
            lambda: all(row.sent_at is not None for row in _outbox(demo_db)),
            deadline=60,
        )
    finally:
        last.terminate()
        assert last.wait(10) == 0

    rows = _outbox(demo_db)
    assert len(rows) > cut_at  # the kill came before the end
    posted = {row.idempotency_key for row in rows if row.webhook_id is not None}
    mailed = {row.idempotency_key for row in rows if row.user_id is not None}
    assert posted and mailed
    assert {key for path in ("/json", "/cap") for key in receiver.kept[path]} == posted
    messages = inbox.by_id()  # one per Message-ID
    assert len(messages) == len(mailed)
    assert {_key(message) for message in messages.values()} == mailed
    # The two deliveries the kills cut were sent again, with the same keys.
    assert len(receiver.arrivals) == len(posted) + 1
    assert len(inbox.messages) == len(mailed) + 1
