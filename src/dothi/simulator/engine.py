"""The messages of one simulated minute: who reports, what, and how faults bend it."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from dothi.simulator.devices import Conditions, Values, report
from dothi.simulator.district import Layout, Sensor
from dothi.simulator.faults import Fault, FaultRates, Faults
from dothi.simulator.signals import uniform
from dothi.telemetry.types import spec_of

SPIKE = 0x5350494B  # the spikes' stream of noise


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message as a device would send it: its entity, its time, its JSON payload."""

    entity_id: str
    observed_at: datetime
    payload: bytes
    readings: int  # attributes that become observations


class Simulator:
    """The district's sensors; `minute(m)` gives the messages sent during minute m.

    Readings are pure functions of (seed, sensor, minute). The only state is which
    entities have been announced: an entity's first message in a run carries its
    `location` (a GeoJSON Point, which places it in its ward) and its `name`.
    """

    def __init__(self, layout: Layout, seed: int, rates: FaultRates, zone: str) -> None:
        self.layout = layout
        self.seed = seed
        self.conditions = Conditions(seed, zone)
        self.faults = Faults(seed, rates)
        self._announced: set[str] = set()
        self._schedule: dict[int, dict[int, list[Sensor]]] = defaultdict(lambda: defaultdict(list))
        for sensor in layout.sensors:
            self._schedule[sensor.period][sensor.phase].append(sensor)

    def due(self, minute: int) -> list[Sensor]:
        """The sensors whose report falls in this minute."""
        return [
            sensor
            for period, phases in self._schedule.items()
            for sensor in phases.get(minute % period, ())
        ]

    def minute(self, minute: int) -> list[Outgoing]:
        """The messages of every sensor due in this minute (silent ones send nothing)."""
        found = []
        for sensor in self.due(minute):
            values = self.values(sensor, minute)
            if values is not None:
                found.append(self._message(sensor, minute, values))
        return found

    def values(self, sensor: Sensor, minute: int) -> Values | None:
        """What a sensor reports at a minute, faults included; None while it is silent."""
        lamp = sensor.type == "Streetlight"
        faults = self.faults.active(sensor.key, minute, sensor.period, lamp)
        kinds = {fault.kind: fault for fault in faults}
        if "silence" in kinds:
            return None
        stuck = kinds.get("stuck")
        # A stuck sensor repeats what it measured when it froze.
        at = stuck.start if stuck is not None else minute
        values = report(sensor, self.conditions, at, lamp_failed="defectiveLamp" in kinds)
        spike = kinds.get("spike")
        if spike is not None:
            values = self._spiked(sensor, values, spike)
        return values

    def _spiked(self, sensor: Sensor, values: Values, spike: Fault) -> Values:
        """One numeric attribute jumps to 3–6 times its value, within its physical bounds."""
        numeric = [
            name
            for name, value in values.items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        ]
        if not numeric:
            return values
        name = numeric[int(uniform(self.seed, SPIKE, sensor.key, spike.start) * len(numeric))]
        factor = 3 + 3 * uniform(self.seed, SPIKE, sensor.key, spike.start, 1)
        value = float(values[name]) * factor or 1.0
        spec = spec_of(sensor.type, name)
        if spec is not None and spec.maximum is not None:
            value = min(value, spec.maximum)
        return {**values, name: round(value, 3)}

    def _message(self, sensor: Sensor, minute: int, values: Values) -> Outgoing:
        at = datetime.fromtimestamp(minute * 60 + sensor.second, UTC)
        stamp = at.isoformat()
        document: dict[str, object] = {
            name: {"value": value, "observedAt": stamp} for name, value in values.items()
        }
        if sensor.entity_id not in self._announced:
            self._announced.add(sensor.entity_id)
            document["location"] = {"type": "Point", "coordinates": [sensor.lon, sensor.lat]}
            document["name"] = sensor.name
        payload = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        return Outgoing(sensor.entity_id, at, payload, len(values))
