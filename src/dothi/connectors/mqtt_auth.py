"""Broker logins from API keys: Mosquitto's password file and ACL file, and its reload.

A device logs in with its integration key's prefix as username and the key as
password; the broker checks it against the `$7$` (PBKDF2-SHA512) hash written
when the key was created, so dothi never keeps the key itself. Each key may
write its tenant's attributes and read its commands; the ingest worker's
account (the login in DOTHI_MQTT_URL) may do the opposite.
"""

from __future__ import annotations

import os
import signal
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import structlog
from sqlalchemy.orm import Session

from dothi.accounts.apikeys import BrokerLogin, broker_logins, mosquitto_hash
from dothi.accounts.permissions import Principal
from dothi.connectors.mqtt import (
    BrokerAddress,
    attrs_filter,
    attrs_topic,
    command_filter,
    command_topic,
)
from dothi.errors import InvalidInput
from dothi.telemetry.operations import writable_entity_ids

log = structlog.get_logger(__name__)

DEVICE_PERMISSION = "telemetry:write"
HEADER = "# Written by `dothi mqtt sync`: edits are lost at the next sync.\n"
NEW_FILE_MODE = 0o640


@dataclass(frozen=True, slots=True)
class BrokerAccount:
    """One login of the broker and the topics it may publish to and read."""

    username: str
    password_hash: str
    write: tuple[str, ...]
    read: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SyncResult:
    devices: int
    worker: bool
    reloaded: bool


def broker_accounts(
    session: Session, logins: Sequence[BrokerLogin], tenant: str, worker: BrokerAddress | None
) -> list[BrokerAccount]:
    """The accounts for the keys and, if the worker's URL carries a login, for the worker.

    A key free of limits (every ward, every type, may provision) may write any
    entity's topic, so devices can appear on their own. Any other key may write
    only the topics of the entities it may write now (its types, in its wards):
    the broker enforces the key's scope, and a new entity for it is created over
    HTTP, then `dothi mqtt sync` lets its device publish. Two keys whose prefixes
    collide (one chance in 2^48) cannot both be usernames: the older keeps the login.
    """
    attrs, commands = attrs_filter(tenant), command_filter(tenant)
    accounts: dict[str, BrokerAccount] = {}
    if worker is not None and worker.username and worker.password:
        name = _username(worker.username)
        accounts[name] = BrokerAccount(name, mosquitto_hash(worker.password), (commands,), (attrs,))
    for login in logins:
        if login.prefix in accounts:
            log.warning("two broker logins share a username; the first is kept", name=login.prefix)
            continue
        write: tuple[str, ...] = (attrs,)
        read: tuple[str, ...] = (commands,)
        if not _unlimited(login.principal):
            ids = [i for i in writable_entity_ids(session, login.principal) if _topic_safe(i)]
            write = tuple(attrs_topic(tenant, entity_id) for entity_id in ids)
            read = tuple(command_topic(tenant, entity_id) for entity_id in ids)
        accounts[login.prefix] = BrokerAccount(login.prefix, login.mqtt_hash, write, read)
    return list(accounts.values())


def _unlimited(principal: Principal) -> bool:
    return principal.provision and principal.entity_types is None and principal.sees(None)


def _topic_safe(entity_id: str) -> bool:
    """Whether an id can stand in an ACL line as itself (`+` would be a wildcard there)."""
    return not any(character in entity_id for character in "+#/\n ")


def password_file(accounts: Sequence[BrokerAccount]) -> str:
    """Mosquitto's password_file: `username:hash` lines."""
    return HEADER + "".join(f"{a.username}:{a.password_hash}\n" for a in accounts)


def acl_file(accounts: Sequence[BrokerAccount]) -> str:
    """Mosquitto's acl_file: nothing for anonymous clients, each user's topics after `user`."""
    blocks = []
    for account in accounts:
        lines = [f"user {account.username}"]
        lines += [f"topic write {topic}" for topic in account.write]
        lines += [f"topic read {topic}" for topic in account.read]
        blocks.append("\n".join(lines) + "\n")
    return HEADER + "\n" + "\n".join(blocks)


def sync_broker(
    session: Session,
    actor: Principal,
    tenant: str,
    worker: BrokerAddress | None,
    password_path: Path,
    acl_path: Path,
    pid_file: Path | None = None,
) -> SyncResult:
    """Write both files from the live keys; signal the broker to reload them if `pid_file`."""
    logins = broker_logins(session, actor, DEVICE_PERMISSION)
    accounts = broker_accounts(session, logins, tenant, worker)
    write_replacing(password_path, password_file(accounts))
    write_replacing(acl_path, acl_file(accounts))
    if pid_file is not None:
        reload_broker(pid_file)
    has_worker = worker is not None and bool(worker.username and worker.password)
    return SyncResult(len(accounts) - has_worker, has_worker, pid_file is not None)


def write_replacing(path: Path, text: str) -> None:
    """Replace the file in one step, keeping the old file's owner and mode.

    The broker (user `mosquitto`) must still read the new file; a broker never
    sees a half-written one.
    """
    try:
        old = path.stat()
    except FileNotFoundError:
        old = None
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w") as file:
            file.write(text)
        if old is None:
            Path(temporary).chmod(NEW_FILE_MODE)
        else:
            Path(temporary).chmod(old.st_mode & 0o777)
            if os.geteuid() == 0:
                os.chown(temporary, old.st_uid, old.st_gid)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def reload_broker(pid_file: Path) -> None:
    """SIGHUP the broker: Mosquitto reloads its password and ACL files."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError) as error:
        raise InvalidInput(f"Cannot read the broker's pid from {pid_file}: {error}") from None
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        raise InvalidInput(f"No broker runs with pid {pid} (from {pid_file}).") from None


def _username(name: str) -> str:
    if not name or ":" in name or any(c.isspace() for c in name):
        raise InvalidInput(f"An MQTT username cannot be empty or hold ':' or spaces: {name!r}")
    return name
