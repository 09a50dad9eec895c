"""Settings: `DOTHI_*` environment variables and an optional TOML file.

`Settings` is built once by the entry point (CLI, test fixture) and passed down;
nothing reads the environment anywhere else.
"""

from __future__ import annotations

import ipaddress
import secrets
from datetime import date, time, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _network(value: str) -> str:
    """Accept an IP address or a network in CIDR notation (`10.0.0.0/8`)."""
    ipaddress.ip_network(value, strict=False)
    return value


def _hours(value: str) -> str:
    """Accept a span of office hours `HH:MM-HH:MM` that ends after it starts."""
    start, _, end = value.partition("-")
    if time.fromisoformat(start.strip()) >= time.fromisoformat(end.strip()):
        raise ValueError(f"office hours {value!r} end before they start")
    return value


LUNAR_HOLIDAYS = (
    # Tết and Hùng Kings' day follow the lunar calendar: the government announces them yearly.
    *(date(2025, 1, 25) + timedelta(days=n) for n in range(9)),
    date(2025, 4, 7),
    *(date(2026, 2, 14) + timedelta(days=n) for n in range(9)),
    date(2026, 4, 27),
)


class Settings(BaseSettings):
    """Everything a dothi process needs to know about its deployment."""

    model_config = SettingsConfigDict(
        env_prefix="DOTHI_", extra="forbid", toml_file="dothi.toml", frozen=True
    )

    database_url: str = Field(
        "sqlite:///dothi.sqlite3",
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user:pw@host/db",
    )
    secret_key: SecretStr = Field(
        default_factory=lambda: SecretStr(secrets.token_urlsafe(32)),
        description="Signs session cookies and CSRF tokens; set it in production.",
    )
    root_unit: str | None = Field(
        None,
        description="Code of the admin unit this deployment runs (e.g. 768 for Phú Nhuận); "
        "None means every root in the database.",
    )
    default_locale: Literal["vi", "en"] = Field("vi", description="Language of the UI.")
    timezone: str = Field("Asia/Ho_Chi_Minh", description="Time zone in which times are shown.")
    session_max_age: int = Field(
        8 * 3600, description="Seconds a login stays valid (one working shift)."
    )
    secure_cookies: bool = Field(False, description="Send cookies only over HTTPS.")
    log_json: bool = Field(False, description="Log JSON lines instead of console text.")
    host: str = Field("127.0.0.1", description="Address `dothi serve` listens on.")
    port: int = Field(8000, description="Port `dothi serve` listens on.")
    trusted_proxies: list[Annotated[str, AfterValidator(_network)]] = Field(
        [],
        description="Addresses or networks of reverse proxies (nginx) whose X-Forwarded-For "
        "names the client; from any other peer the header is ignored.",
    )

    public_context_data: bool = Field(
        False,
        description="Let anyone read sensor entities and their history without a key "
        "(NGSI-LD GET); writes always need an integration key.",
    )
    mqtt_url: str | None = Field(
        None,
        description="MQTT broker for device telemetry, e.g. mqtt://127.0.0.1:1883; "
        "None: no broker (the demo feeds its simulator in process).",
    )
    mqtt_tenant: str = Field(
        "default", description="Tenant part of the MQTT topics: dothi/v1/<tenant>/<entity>/attrs."
    )
    open311_jurisdiction_id: str = Field(
        "dothi", description="The Open311 jurisdiction_id this deployment answers to."
    )
    working_hours: list[Annotated[str, AfterValidator(_hours)]] = Field(
        ["07:30-11:30", "13:00-17:00"],
        description="Office hours of a working day (local time): report deadlines count them.",
    )
    holidays: list[date] = Field(
        list(LUNAR_HOLIDAYS),
        description="Days off besides weekends and the fixed public holidays (1/1, 30/4, 1/5, "
        "2/9 and 1/9): Tết, Hùng Kings' day and days moved by government decision.",
    )
    report_accept_hours: float = Field(
        8, gt=0, description="Working hours a unit has to accept a report routed to it."
    )
    report_period_day: int = Field(
        25,
        ge=1,
        le=28,
        description="Day of the month report statistics periods start on (HCMC's 1022 counts "
        "from the 25th to the 25th); 1 gives calendar months.",
    )
    alarm_escalate_minutes: float = Field(
        15,
        gt=0,
        description="Minutes an alarm may stay unacknowledged before the duty leader is told.",
    )
    alarm_remind_minutes: float = Field(
        10, gt=0, description="Minutes between reminders of an escalated, unacknowledged alarm."
    )
    smtp_url: str = Field(
        "",
        description="SMTP server of alarm e-mails: smtp://host:25, "
        "smtp+starttls://user:pass@host:587 or smtps://user:pass@host:465; empty: no e-mail.",
    )
    smtp_from: str = Field("dothi <canhbao@localhost>", description="From header of alarm e-mails.")
    cap_sender: str = Field(
        "dothi@localhost",
        description="Sender of the CAP 1.2 alerts sent to webhooks (an address or a domain).",
    )
    map_tiles_url: str = Field(
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        description="Tile layer of the maps (Leaflet URL template); empty: boundaries only.",
    )
    map_tiles_attribution: str = Field(
        "© OpenStreetMap contributors",
        description="Credit shown on the maps for the tile layer.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Constructor arguments win, then the environment, then `dothi.toml`."""
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))
