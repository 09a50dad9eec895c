"""Faults: each kind happens at its configured rate, and does what it says."""

from __future__ import annotations

from dothi.db.engine import Database
from dothi.simulator.district import Sensor
from dothi.simulator.engine import Simulator
from dothi.simulator.faults import KINDS, Fault, FaultRates, Faults, Kind
from dothi.simulator.signals import MINUTES_PER_DAY
from tests.simulator.helpers import JULY, ZONE, layout_of, minute_of

RATES = FaultRates(silence=0.05, stuck=0.03, spike=0.1, defective_lamp=0.02)
SENSORS, DAYS = 300, 200


def test_faults_start_at_the_configured_rates() -> None:
    faults = Faults(seed=11, rates=RATES)
    first = minute_of(JULY) // MINUTES_PER_DAY
    cases: tuple[tuple[bool, tuple[Kind, ...]], ...] = (
        (False, ("silence", "stuck", "spike")),
        (True, ("defectiveLamp",)),
    )
    for lamp, kinds in cases:
        counts = dict.fromkeys(KINDS, 0)
        for sensor in range(SENSORS):
            for day in range(first, first + DAYS):
                for fault in faults.starting(sensor, day, 5, lamp):
                    counts[fault.kind] += 1
        for kind in kinds:
            expected = RATES.of(kind) * SENSORS * DAYS
            assert abs(counts[kind] - expected) < 0.1 * expected, (kind, counts[kind], expected)
        if lamp:
            assert counts["stuck"] == counts["spike"] == 0  # a lamp reports a state


def _episode(simulator: Simulator, entity_type: str, kind: str) -> tuple[Sensor, Fault]:
    """A sensor of the type and one of its episodes of this kind, in the days after JULY."""
    first = minute_of(JULY) // MINUTES_PER_DAY
    for sensor in simulator.layout.of_type(entity_type):
        for day in range(first, first + 30):
            for fault in simulator.faults.starting(sensor.key, day, sensor.period, False):
                if fault.kind == kind:
                    return sensor, fault
    raise AssertionError(f"no {kind} in 30 days")


def test_silent_sensors_send_nothing_and_stuck_ones_repeat_themselves(demo_db: Database) -> None:
    simulator = Simulator(layout_of(demo_db), 11, RATES, ZONE)
    sensor, silence = _episode(simulator, "AirQualityObserved", "silence")
    assert simulator.values(sensor, silence.start) is None
    assert simulator.values(sensor, silence.end - 1) is None
    sensor, stuck = _episode(simulator, "TrafficFlowObserved", "stuck")
    frozen = simulator.values(sensor, stuck.start)
    assert frozen is not None
    assert all(simulator.values(sensor, m) == frozen for m in range(stuck.start, stuck.end, 7))


def test_a_spike_jumps_one_value_within_its_bounds(demo_db: Database) -> None:
    calm = Simulator(layout_of(demo_db), 11, FaultRates(0, 0, 0, 0), ZONE)
    simulator = Simulator(layout_of(demo_db), 11, RATES, ZONE)
    sensor, spike = _episode(simulator, "AirQualityObserved", "spike")
    spiked, normal = simulator.values(sensor, spike.start), calm.values(sensor, spike.start)
    assert spiked is not None and normal is not None
    changed = [name for name in normal if spiked[name] != normal[name]]
    assert len(changed) == 1
    assert float(spiked[changed[0]]) >= min(2.9 * float(normal[changed[0]]), 1.0)
