"""A throwaway Mosquitto for the tests, configured from the shipped deploy/mosquitto.conf."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dothi.connectors.mqtt import BrokerAddress

DEPLOY_CONFIG = Path(__file__).parents[1] / "deploy" / "mosquitto.conf"
DEADLINE = 60.0  # seconds any wait in the MQTT tests may take before it fails


def mosquitto_binary() -> str | None:
    """The broker's executable (Debian puts it in /usr/sbin, often not on PATH), or None."""
    return shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, condition: Callable[[], bool], deadline: float = DEADLINE) -> None:
    """Poll `condition` until it holds; fail naming `what` after `deadline` seconds."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


@dataclass(frozen=True, slots=True)
class Broker:
    """A running broker: where it listens and its files."""

    port: int
    root: Path
    process: subprocess.Popen[bytes]

    @property
    def password_file(self) -> Path:
        return self.root / "passwd"

    @property
    def acl_file(self) -> Path:
        return self.root / "acl"

    @property
    def pid_file(self) -> Path:
        return self.root / "mosquitto.pid"

    @property
    def log(self) -> str:
        return (self.root / "mosquitto.log").read_text(errors="replace")

    def address(self, username: str | None = None, password: str | None = None) -> BrokerAddress:
        return BrokerAddress("127.0.0.1", self.port, username, password)

    def url(self, username: str | None = None, password: str | None = None) -> str:
        login = f"{username}:{password}@" if username and password else ""
        return f"mqtt://{login}127.0.0.1:{self.port}"


def broker_config(deploy: str, root: Path, port: int, *, secured: bool, queue_limit: bool) -> str:
    """The deploy config with this broker's listener, paths and user.

    An unsecured broker lets anyone in; `queue_limit=False` leaves out the no-drop
    setting, to show what Mosquitto does without it.
    """
    settings = {
        "listener": f"{port} 127.0.0.1",
        "pid_file": str(root / "mosquitto.pid"),
        "log_dest": f"file {root / 'mosquitto.log'}",
        "persistence_location": f"{root}/",
        "allow_anonymous": "false" if secured else "true",
        "password_file": str(root / "passwd"),
        "acl_file": str(root / "acl"),
    }
    dropped = set() if secured else {"password_file", "acl_file"}
    if not queue_limit:
        dropped.add("max_queued_messages")
    lines = []
    for line in deploy.splitlines():
        key = line.split(" ", 1)[0]
        if key not in dropped:
            lines.append(f"{key} {settings[key]}" if key in settings else line)
    # Run as whoever runs the tests: as root Mosquitto would switch to `mosquitto`,
    # who cannot read the test's private temporary folder.
    lines.append(f"user {pwd.getpwuid(os.geteuid()).pw_name}")
    return "\n".join(lines) + "\n"


@contextmanager
def running_broker(
    binary: str, root: Path, *, secured: bool = False, queue_limit: bool = True
) -> Iterator[Broker]:
    """Start Mosquitto on a free loopback port; stop it (SIGTERM, then SIGKILL) afterwards."""
    root.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    config = root / "mosquitto.conf"
    deploy = DEPLOY_CONFIG.read_text()
    config.write_text(broker_config(deploy, root, port, secured=secured, queue_limit=queue_limit))
    if secured:
        (root / "passwd").write_text("")
        (root / "acl").write_text("")
    process = subprocess.Popen(
        [binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    broker = Broker(port, root, process)
    try:
        wait_for(f"Mosquitto on port {port}", lambda: _listening(broker), deadline=20.0)
        yield broker
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _listening(broker: Broker) -> bool:
    if broker.process.poll() is not None:
        log = (broker.root / "mosquitto.log").read_text() if broker.root.exists() else ""
        raise AssertionError(f"Mosquitto exited with {broker.process.returncode}: {log}")
    try:
        socket.create_connection(("127.0.0.1", broker.port), timeout=1).close()
    except OSError:
        return False
    return True
