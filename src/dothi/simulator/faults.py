"""How sensors misbehave: silence, stuck values, spikes, and streetlights whose lamp fails.

A fault is an episode that starts on a day with a configured probability, per sensor
(a pure function of the seed, like every signal): the same faults happen in a
backfill and in a live run, and a test can count them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from dothi.simulator.signals import MINUTES_PER_DAY, uniform

FAULT = 0x4641554C  # the faults' stream of noise
Kind = Literal["silence", "stuck", "spike", "defectiveLamp"]
KINDS: tuple[Kind, ...] = ("silence", "stuck", "spike", "defectiveLamp")
DURATIONS: dict[Kind, tuple[int, int]] = {  # shortest and longest episode, minutes
    "silence": (30, 360),  # a gateway reboots, a SIM runs out of credit
    "stuck": (60, 240),  # a frozen firmware repeats its last frame
    "spike": (0, 0),  # one report: length of the sensor's period
    "defectiveLamp": (MINUTES_PER_DAY, 4 * MINUTES_PER_DAY),  # until the repair crew comes
}
LONGEST_DAYS = 4
SENSOR_KINDS = frozenset({"silence", "stuck", "spike"})
LAMP_KINDS = frozenset({"silence", "defectiveLamp"})


@dataclass(frozen=True, slots=True)
class FaultRates:
    """Probability that an episode of each kind starts, per sensor and day."""

    silence: float = 0.03
    stuck: float = 0.02
    spike: float = 0.05
    defective_lamp: float = 0.004  # streetlights only

    def of(self, kind: Kind) -> float:
        return self.defective_lamp if kind == "defectiveLamp" else float(getattr(self, kind))


NO_FAULTS = FaultRates(0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True, slots=True)
class Fault:
    """One episode: minutes since the epoch, the end excluded."""

    kind: Kind
    start: int
    end: int

    def covers(self, minute: int) -> bool:
        return self.start <= minute < self.end


class Faults:
    """The fault episodes of every sensor, drawn from a seed."""

    def __init__(self, seed: int, rates: FaultRates) -> None:
        self.seed = seed
        self.rates = rates

    @lru_cache(maxsize=8192)  # noqa: B019 (one per simulator; bounded)
    def starting(self, sensor: int, day: int, period: int, lamp: bool) -> tuple[Fault, ...]:
        """The episodes that start on a UTC day (days since the epoch) for a sensor."""
        # A streetlight reports a state: its lamp fails, but it does not get stuck or spike.
        kinds = LAMP_KINDS if lamp else SENSOR_KINDS
        found = []
        for number, kind in enumerate(KINDS):
            if kind not in kinds:
                continue
            if uniform(self.seed, FAULT, sensor, day, number) >= self.rates.of(kind):
                continue
            start = day * MINUTES_PER_DAY + int(
                uniform(self.seed, FAULT, sensor, day, number, 1) * MINUTES_PER_DAY
            )
            shortest, longest = DURATIONS[kind]
            draw = uniform(self.seed, FAULT, sensor, day, number, 2)
            length = period if kind == "spike" else int(shortest + draw * (longest - shortest))
            found.append(Fault(kind, start, start + length))
        return tuple(found)

    def active(self, sensor: int, minute: int, period: int, lamp: bool) -> list[Fault]:
        """The episodes going on at a minute (those that started up to four days before)."""
        day = minute // MINUTES_PER_DAY
        return [
            fault
            for past in range(day - LONGEST_DAYS, day + 1)
            for fault in self.starting(sensor, past, period, lamp)
            if fault.covers(minute)
        ]
