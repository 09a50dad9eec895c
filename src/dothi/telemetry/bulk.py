"""Backfill files: JSON lines or CSV, one reading (or one entity's attributes) per line.

Each line becomes an `Incoming` message for the pipeline. A line that cannot be
read becomes a message with its `problem` set, so it reaches the dead letters
with the reason and the line as it was; its number goes back to the sender.

JSON lines: `{"entity": id, "attribute": name, "value": v, "observedAt": t, "unitCode": u}`
or `{"entity": id, "attrs": {name: {value, observedAt, unitCode}}}`.
CSV: a header naming `entity,attribute,value,observedAt` and optionally `unitCode`.
Every reading of a backfill needs its `observedAt`: it is history, not news.
"""

from __future__ import annotations

import contextlib
import csv
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from dothi.accounts.permissions import Principal
from dothi.telemetry.messages import Incoming

CSV_REQUIRED = ("entity", "attribute", "value", "observedAt")
CSV_OPTIONAL = ("unitCode",)


class LineReader:
    """Turns the lines of one upload into messages, remembering the CSV header."""

    def __init__(self, kind: str, principal: Principal, received_at: datetime) -> None:
        self.kind = kind  # "jsonl" or "csv"
        self.principal = principal
        self.received_at = received_at
        self.header: list[str] | None = None
        self.header_problem: str | None = None

    def messages(self, lines: Iterable[str]) -> Iterator[Incoming]:
        """The messages of these lines (blank lines and the CSV header give none)."""
        for line in lines:
            if not line.strip():
                continue
            if self.kind == "csv" and self.header is None and self.header_problem is None:
                self._read_header(line)
                continue
            yield self._message(line)

    def _read_header(self, line: str) -> None:
        try:
            header = [name.strip() for name in _cells(line.lstrip("\ufeff"))]
        except ValueError as error:
            self.header_problem = str(error)
            return
        missing = [name for name in CSV_REQUIRED if name not in header]
        unknown = [name for name in header if name not in CSV_REQUIRED + CSV_OPTIONAL]
        if missing or unknown:
            self.header_problem = (
                f"The CSV header must name {', '.join(CSV_REQUIRED)} "
                f"(and optionally {', '.join(CSV_OPTIONAL)}); got {', '.join(header)[:200]}."
            )
        else:
            self.header = header

    def _message(self, line: str) -> Incoming:
        try:
            entity_id, attributes = self._csv_line(line) if self.kind == "csv" else _json_line(line)
            problem = None
        except ValueError as error:
            entity_id, attributes, problem = "", {}, str(error)
        payload = json.dumps(attributes).encode() if problem is None else line.encode()
        return Incoming(
            "http", entity_id, payload, self.received_at, self.principal, problem=problem
        )

    def _csv_line(self, line: str) -> tuple[str, dict[str, Any]]:
        if self.header is None:
            raise ValueError(self.header_problem or "No CSV header.")
        cells = _cells(line)
        if len(cells) != len(self.header):
            raise ValueError(f"Expected {len(self.header)} columns, got {len(cells)}.")
        row = dict(zip(self.header, (cell.strip() for cell in cells), strict=True))
        value: Any = row["value"]
        with contextlib.suppress(ValueError):  # else a text value (a status word)
            value = float(value)
        return _reading(
            row["entity"], row["attribute"], value, row.get("observedAt"), row.get("unitCode")
        )


def _cells(line: str) -> list[str]:
    """The cells of one CSV line; ValueError for what the csv module cannot read (a NUL…)."""
    try:
        return next(csv.reader([line]))
    except csv.Error as error:
        raise ValueError(f"Not a CSV line: {error}.") from None


def _json_line(line: str) -> tuple[str, dict[str, Any]]:
    try:
        document = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"Not JSON: {error}.") from None
    if not isinstance(document, dict) or not isinstance(document.get("entity"), str):
        raise ValueError('Each line must be a JSON object with "entity".')
    attrs = document.get("attrs")
    if isinstance(attrs, dict):
        if not all(isinstance(item, dict) and item.get("observedAt") for item in attrs.values()):
            raise ValueError(
                'Each of "attrs" needs {"value", "observedAt"}: a backfill is history.'
            )
        return document["entity"], attrs
    if not isinstance(document.get("attribute"), str) or "value" not in document:
        raise ValueError('A line needs "attrs", or "attribute" and "value".')
    return _reading(
        document["entity"],
        document["attribute"],
        document["value"],
        document.get("observedAt"),
        document.get("unitCode"),
    )


def _reading(
    entity_id: str, attribute: str, value: Any, observed_at: Any, unit_code: Any
) -> tuple[str, dict[str, Any]]:
    if not entity_id or not attribute:
        raise ValueError("entity and attribute must not be empty.")
    if not observed_at:
        raise ValueError("observedAt is required: a backfill is history.")
    item: dict[str, Any] = {"value": value, "observedAt": observed_at}
    if unit_code:
        item["unitCode"] = unit_code
    return entity_id, {attribute: item}
