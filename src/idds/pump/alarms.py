"""Alarms: kinds, IEC 60601-1-8 priorities, pump behaviour, tone repetition.

ref, devices: critical alarms (two-tone) are empty reservoir, End of Service, motor stall and
critical memory error; non-critical (single tone, repeats about hourly) are low reservoir,
Elective Replacement Indicator and non-critical memory error. Priorities in the IEC 60601-1-8
sense: HIGH needs immediate response (harm possible now), MEDIUM prompt response, LOW awareness.

Tones repeat on a fixed grid from the raising time until the alarm is resolved. Acknowledging
silences the tones for a snooze period only; then they resume: an alarm can never be silenced
permanently (FDA/UPenn GIP, ref, devices).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from fractions import Fraction

from idds.pump.clock import HOUR, MINUTE


class Priority(Enum):
    """IEC 60601-1-8 alarm priority."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class AlarmKind(Enum):
    """Every alarm the pump can raise."""

    EMPTY_RESERVOIR = "empty reservoir"
    END_OF_SERVICE = "end of service"
    MOTOR_STALL = "motor stall"
    CRITICAL_MEMORY_ERROR = "critical memory error"
    LOW_RESERVOIR = "low reservoir"
    ELECTIVE_REPLACEMENT = "elective replacement indicator"
    MEMORY_ERROR = "non-critical memory error"


@dataclass(frozen=True)
class AlarmSpec:
    """What an alarm means and does. Times in s."""

    kind: AlarmKind
    critical: bool
    priority: Priority
    stops_infusion: bool
    repeat_s: Fraction
    snooze_s: Fraction
    resolved_by: str


#: Critical tones every 10 min (*assumption*: ref, devices gives the 3 s two-tone only);
#: non-critical every hour (ref, devices "repeats about hourly"). Acknowledgement snoozes
#: critical tones 1 h and non-critical ones 24 h (*assumption*).
CRITICAL_REPEAT = 10 * MINUTE
NON_CRITICAL_REPEAT = HOUR

ALARM_SPECS: dict[AlarmKind, AlarmSpec] = {
    spec.kind: spec
    for spec in (
        AlarmSpec(AlarmKind.EMPTY_RESERVOIR, True, Priority.HIGH, True, CRITICAL_REPEAT, HOUR,
                  "refill"),
        AlarmSpec(AlarmKind.END_OF_SERVICE, True, Priority.HIGH, True, CRITICAL_REPEAT, HOUR,
                  "pump replacement (never, in the model)"),
        AlarmSpec(AlarmKind.MOTOR_STALL, True, Priority.HIGH, True, CRITICAL_REPEAT, HOUR,
                  "motor restart, then a clinician interrogation"),
        AlarmSpec(AlarmKind.CRITICAL_MEMORY_ERROR, True, Priority.HIGH, True, CRITICAL_REPEAT,
                  HOUR, "clinician clear, then reprogramming"),
        AlarmSpec(AlarmKind.LOW_RESERVOIR, False, Priority.MEDIUM, False, NON_CRITICAL_REPEAT,
                  24 * HOUR, "refill above the alarm volume"),
        AlarmSpec(AlarmKind.ELECTIVE_REPLACEMENT, False, Priority.MEDIUM, False,
                  NON_CRITICAL_REPEAT, 24 * HOUR, "pump replacement (never, in the model)"),
        AlarmSpec(AlarmKind.MEMORY_ERROR, False, Priority.LOW, False, NON_CRITICAL_REPEAT,
                  24 * HOUR, "clinician clear"),
    )
}


@dataclass(frozen=True)
class ActiveAlarm:
    """An alarm that is raised and not yet resolved. Times in s since the epoch."""

    kind: AlarmKind
    raised_at: Fraction
    acknowledged_at: Fraction | None = None

    @property
    def spec(self) -> AlarmSpec:
        return ALARM_SPECS[self.kind]


def tone_times(alarm: ActiveAlarm, start: Fraction, end: Fraction) -> list[Fraction]:
    """Times in [start, end) at which an active alarm sounds (pure; the alarm stays active).

    Tones fall on raised_at + k x repeat; those within the snooze after an acknowledgement
    are skipped, and later ones sound again.
    """
    spec = alarm.spec
    first_k = max(0, -((alarm.raised_at - start) // spec.repeat_s))
    times: list[Fraction] = []
    k = int(first_k)
    while True:
        t = alarm.raised_at + k * spec.repeat_s
        if t >= end:
            return times
        snoozed = (
            alarm.acknowledged_at is not None
            and alarm.acknowledged_at <= t < alarm.acknowledged_at + spec.snooze_s
        )
        if t >= start and not snoozed:
            times.append(t)
        k += 1
