"""The channels notifications travel on: a signed HTTP POST to a webhook, an e-mail over SMTP.

A webhook call carries `X-Dothi-Signature: sha256=<hex HMAC-SHA256 of the body with the
webhook's secret>`, `X-Dothi-Timestamp` (Unix seconds of this attempt) and
`Idempotency-Key`. An e-mail's `Message-ID` is derived from the same key, so every
attempt of one notification is, to its receiver, the same message.
"""

from __future__ import annotations

import hashlib
import hmac
import smtplib
import ssl
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr
from typing import Literal, Protocol
from urllib.parse import unquote, urlsplit

import httpx

SIGNATURE_HEADER = "X-Dothi-Signature"
TIMESTAMP_HEADER = "X-Dothi-Timestamp"
KEY_HEADER = "Idempotency-Key"
HTTP_TIMEOUT = 10.0
SMTP_TIMEOUT = 20.0
PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: `sha256=` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class WebhookCall:
    """One POST to a webhook: where, with which secret, and what."""

    url: str
    secret: str
    key: str
    content_type: str
    body: str


def post_webhook(client: httpx.Client, call: WebhookCall, now: datetime) -> str | None:
    """POST a notification; None when the receiver took it (2xx), else what went wrong."""
    body = call.body.encode()
    headers = {
        "Content-Type": f"{call.content_type}; charset=utf-8",
        SIGNATURE_HEADER: sign(call.secret, body),
        TIMESTAMP_HEADER: str(int(now.timestamp())),
        KEY_HEADER: call.key,
        "User-Agent": "dothi",
    }
    try:
        response = client.post(call.url, content=body, headers=headers, timeout=HTTP_TIMEOUT)
    except httpx.HTTPError as error:
        return _error_text(error)
    if response.is_success:
        return None
    return f"HTTP {response.status_code}: {response.text[:200]}"[:500]


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """Where e-mail goes: `smtp://` (plain), `smtp+starttls://` or `smtps://` (TLS)."""

    host: str
    port: int
    security: Literal["smtp", "smtp+starttls", "smtps"]
    username: str | None = None
    password: str | None = None


def parse_smtp_url(url: str) -> SmtpServer | None:
    """`smtp[s|+starttls]://user:password@host:port`; None for an empty URL (e-mail off)."""
    if not url.strip():
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in PORTS or not parts.hostname:
        raise ValueError("an SMTP URL is smtp://, smtp+starttls:// or smtps://user:pw@host:port")
    return SmtpServer(
        parts.hostname,
        parts.port or PORTS[parts.scheme],
        parts.scheme,  # type: ignore[arg-type]  # checked against PORTS above
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
    )


class SmtpConnection(Protocol):
    """What the notifier needs of an SMTP client (smtplib.SMTP has it)."""

    def send_message(
        self, msg: Message, from_addr: str | None = ..., to_addrs: Sequence[str] | None = ...
    ) -> object: ...

    def quit(self) -> object: ...


SmtpFactory = Callable[[], SmtpConnection]


def smtp_connector(server: SmtpServer) -> SmtpFactory:
    """Opens a logged-in SMTP connection to `server` (TLS certificates are checked)."""

    def connect() -> smtplib.SMTP:
        context = ssl.create_default_context()
        if server.security == "smtps":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                server.host, server.port, timeout=SMTP_TIMEOUT, context=context
            )
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT)
        try:
            if server.security == "smtp+starttls":
                smtp.starttls(context=context)
            if server.username:
                smtp.login(server.username, server.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    return connect


@dataclass(frozen=True, slots=True)
class Mailer:
    """How the notifier sends e-mail: the From header and the connections to use."""

    sender: str  # "dothi <canhbao@phunhuan.example.vn>"
    connect: SmtpFactory


def message_id(key: str, sender: str) -> str:
    """A Message-ID made of the idempotency key: equal for every attempt of a notification."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "dothi.invalid"
    return f"<{key.replace(':', '.')}@{domain}>"


def email_message(
    payload: Mapping[str, str], key: str, sender: str, to: str, now: datetime
) -> Message:
    """The e-mail of a notification, UTF-8, marked as sent automatically (RFC 3834).

    Built with the compat32 API: the newer one folds a long non-ASCII Subject into
    encoded words that lose the space between them ("mức: Ngập" reads "mức:Ngập").
    """
    charset = Charset("utf-8")
    charset.body_encoding = QP  # 7-bit safe through any relay, still readable raw
    message = MIMEText(payload["body"], "plain", charset)  # type: ignore[arg-type]
    message["From"] = formataddr(parseaddr(sender), charset="utf-8")
    message["To"] = to
    message["Subject"] = Header(payload["subject"], "utf-8")  # type: ignore[assignment]
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(key, sender)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Dothi-Idempotency-Key"] = key
    return message


class Mailbox:
    """One SMTP connection for a round of deliveries, opened at its first e-mail.

    A connection that fails is dropped (the next e-mail opens another); when opening one
    fails, the rest of the round fails at once with the same error instead of waiting
    for the server again.
    """

    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer
        self._connection: SmtpConnection | None = None
        self._unreachable: str | None = None

    def send(self, message: Message, to: str) -> str | None:
        """Send one e-mail; None when the server took it, else what went wrong."""
        if self._unreachable is not None:
            return self._unreachable
        try:
            connection = self._connection = self._connection or self._open()
            connection.send_message(message, to_addrs=[to])
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            return _error_text(error)
        return None

    def _open(self) -> SmtpConnection:
        try:
            return self.mailer.connect()
        except (smtplib.SMTPException, OSError) as error:
            self._unreachable = _error_text(error)
            raise

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with suppress(smtplib.SMTPException, OSError):  # gone already: nothing to close politely
            connection.quit()


def _error_text(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:500]
