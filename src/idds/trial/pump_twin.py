"""The implanted pump's rules in vectorised form, for whole cohorts in the trial hot loop.

This is the fast twin of `idds.pump` (docs/design.md principle 2): the same rules, on arrays of
patients, in float64 mg, mL and minutes instead of the firmware's exact nanolitres and seconds.
`tests/trial/test_pump_twin_differential.py` keeps it equal to the firmware on random programs
and presses: the same bolus decisions (given, or refused for the same reason) and the same
delivered drug per day within the firmware's stroke granularity.

Rules mirrored (see `idds.pump.rules`):
- a patient bolus is refused while the lockout runs (from the start of the last given bolus,
  `lockout_ends_at`), else when the boluses given in the rolling window (now - 24 h, now]
  reach the maximum (`demand_refusal`: lockout is checked first);
- checked before those, as the firmware's `_bolus_checks` does: no bolus from an empty
  reservoir (a critical alarm) nor while a bolus runs, nor without a programmed patient bolus;
- basal delivery follows the programmed daily dose and flex shape, scaled by the pump's own
  systematic flow error (within +/-14.5%, devices.md), and stops when the reservoir is empty;
- the pump's reservoir estimate follows the programmed volume, not the actual one (the
  over-infusion hazard of devices.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

from idds.control.prescription import HOURS, Prescription
from idds.physiology.streams import normal
from idds.pump.hardware import SYSTEMATIC_SD
from idds.pump.limits import LIMITS
from idds.pump.rules import LABELLED_ACCURACY

Array = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: Random stream of the per-pump systematic error (physiology streams use < 1000).
PUMP_STREAM = 2001
#: Most patient boluses any program may allow in 24 h (ring size): the firmware's limit.
MAX_BOLUSES_PER_DAY = LIMITS.max_demand_per_24h
DAY_MIN = 1440.0
#: A bolus with less than this left is finished (float residue of splitting it into steps), mg.
BOLUS_DONE_MG = 1e-12


#: Device limits of the firmware (`idds.pump.limits.LIMITS`) in the twin's units.
MIN_FLOW_ML_PER_DAY = LIMITS.min_flow_nl_per_day / 1e6
MAX_FLOW_ML_PER_DAY = LIMITS.max_flow_nl_per_day / 1e6
MIN_BOLUS_ML = LIMITS.min_bolus_nl / 1e6
MAX_BOLUS_ML = LIMITS.max_bolus_nl / 1e6
MIN_BOLUS_DURATION_MIN = float(LIMITS.min_bolus_duration_s) / 60
MAX_BOLUS_DURATION_MIN = float(LIMITS.max_bolus_duration_s) / 60
MIN_LOCKOUT_MIN = float(LIMITS.min_lockout_s) / 60
MAX_LOCKOUT_MIN = float(LIMITS.max_lockout_s) / 60


class ProgramProblem(IntEnum):
    """Why the firmware would refuse a program (`Pump.set_therapy`); 0: it accepts it."""

    NONE = 0
    FLOW_RANGE = 1
    BOLUS_VOLUME = 2
    BOLUS_DURATION = 3
    LOCKOUT_RANGE = 4
    MAX_PER_24H_RANGE = 5
    BOLUS_FLOW = 6


def program_problems(therapy: Prescription, concentration_mg_per_ml: Array,
                     duration_min: Array) -> NDArray[np.int64]:
    """Per patient, the first reason the firmware would refuse this program (in its order).

    A basal of 0 mg/day is the stopped mode; a bolus of 0 mg means no patient bolus.
    """
    hourly = therapy.it_mg_per_day[:, None] * therapy.flex / concentration_mg_per_ml[:, None]
    running = therapy.it_mg_per_day > 0
    low, high = hourly.min(axis=1), hourly.max(axis=1)
    has_bolus = therapy.bolus_mg > 0
    volume = therapy.bolus_mg / concentration_mg_per_ml
    bolus_flow = np.where(has_bolus, volume / duration_min * DAY_MIN, 0.0)
    checks = [
        (running & ((low < MIN_FLOW_ML_PER_DAY) | (high > MAX_FLOW_ML_PER_DAY)),
         ProgramProblem.FLOW_RANGE),
        (has_bolus & ((volume < MIN_BOLUS_ML) | (volume > MAX_BOLUS_ML)),
         ProgramProblem.BOLUS_VOLUME),
        (has_bolus & ((duration_min < MIN_BOLUS_DURATION_MIN)
                      | (duration_min > MAX_BOLUS_DURATION_MIN)), ProgramProblem.BOLUS_DURATION),
        (has_bolus & ((therapy.lockout_min < MIN_LOCKOUT_MIN)
                      | (therapy.lockout_min > MAX_LOCKOUT_MIN)), ProgramProblem.LOCKOUT_RANGE),
        (has_bolus & ((therapy.max_boluses_per_day < 1)
                      | (therapy.max_boluses_per_day > LIMITS.max_demand_per_24h)),
         ProgramProblem.MAX_PER_24H_RANGE),
        (has_bolus & (high * running + bolus_flow > MAX_FLOW_ML_PER_DAY),
         ProgramProblem.BOLUS_FLOW),
    ]
    out: NDArray[np.int64] = np.select([c for c, _ in checks], [p for _, p in checks],
                                       default=ProgramProblem.NONE).astype(np.int64)
    return out


def shortest_bolus_duration(therapy: Prescription, concentration_mg_per_ml: Array,
                            at_least_min: float) -> Array:
    """The shortest whole-minute bolus duration, not under `at_least_min`, that keeps basal plus
    bolus within the device's maximum flow (the firmware refuses a faster bolus), min."""
    peak_basal = therapy.it_mg_per_day * therapy.flex.max(axis=1) / concentration_mg_per_ml
    spare = np.maximum(MAX_FLOW_ML_PER_DAY - peak_basal, 1e-9)
    needed = np.ceil(therapy.bolus_mg / concentration_mg_per_ml / spare * DAY_MIN - 1e-9)
    out: Array = np.maximum(needed, at_least_min)
    return out


class Refusal(IntEnum):
    """Why a press gave no bolus (0: given)."""

    GIVEN = 0
    NO_PATIENT_BOLUS = 1
    LOCKOUT = 2
    MAX_PER_24H = 3
    EMPTY = 4
    BOLUS_IN_PROGRESS = 5


def systematic_errors(keys: NDArray[np.uint64]) -> Array:
    """One systematic flow error per pump, distributed as the firmware draws it
    (`idds.pump.hardware.draw_systematic_error`: normal(0, 5%) redrawn until within the
    labelled +/-14.5%, devices.md), from the trial's counter-based streams."""
    error = SYSTEMATIC_SD * normal(keys, PUMP_STREAM, 0)
    counter = 1
    while np.any(outside := np.abs(error) > LABELLED_ACCURACY):
        error[outside] = SYSTEMATIC_SD * normal(keys[outside], PUMP_STREAM, counter)
        counter += 1
    return error


@dataclass
class PumpArrays:
    """State of n pumps (mutable, owned by one engine run).

    concentration_mg_per_ml, reservoir_ml (actual), estimate_ml (what the pump believes),
    flow_factor (1 + systematic error), starts (n, 24): start times of the last given patient
    boluses (min, -inf: none), bolus_left_mg and bolus_rate_mg_per_min: the bolus being
    delivered.
    """

    implanted: BoolArray
    concentration_mg_per_ml: Array
    reservoir_ml: Array
    estimate_ml: Array
    flow_factor: Array
    starts: Array
    slot: NDArray[np.int64]
    bolus_left_mg: Array
    bolus_rate_mg_per_min: Array

    @staticmethod
    def empty(n: int, flow_error: Array) -> PumpArrays:
        return PumpArrays(
            implanted=np.zeros(n, dtype=bool),
            concentration_mg_per_ml=np.ones(n),
            reservoir_ml=np.zeros(n),
            estimate_ml=np.zeros(n),
            flow_factor=1.0 + flow_error,
            starts=np.full((n, MAX_BOLUSES_PER_DAY), -np.inf),
            slot=np.zeros(n, dtype=np.int64),
            bolus_left_mg=np.zeros(n),
            bolus_rate_mg_per_min=np.zeros(n),
        )

    def fill(self, mask: BoolArray, volume_ml: float, concentration_mg_per_ml: Array) -> Array:
        """Refill the pumps in `mask`: returns the volume withdrawn (actual residual), mL."""
        withdrawn = np.where(mask, self.reservoir_ml, 0.0)
        self.reservoir_ml[mask] = volume_ml
        self.estimate_ml[mask] = volume_ml
        self.concentration_mg_per_ml[mask] = concentration_mg_per_ml[mask]
        self.implanted |= mask
        return withdrawn


def demand(
    pumps: PumpArrays, press: BoolArray, now_min: float, therapy: Prescription,
    duration_min: Array | float,
) -> NDArray[np.int64]:
    """Decide every press at `now_min`: Refusal codes (GIVEN where a bolus starts).

    Same order as the firmware's `patient_bolus`: empty reservoir (critical alarm), a bolus
    running, no patient bolus programmed, then `rules.demand_refusal` (lockout, then the
    rolling-24 h maximum).
    """
    codes = np.full(press.shape, -1, dtype=np.int64)
    who = np.flatnonzero(press & pumps.implanted)
    if who.size == 0:
        return codes
    starts = pumps.starts[who]
    maximum = therapy.max_boluses_per_day[who]
    # the checks, lowest priority first: a later (higher-priority) one overwrites
    checks = (
        (Refusal.MAX_PER_24H, ((starts > now_min - DAY_MIN) & (starts <= now_min)).sum(axis=1)
         >= maximum),
        (Refusal.LOCKOUT, now_min < starts.max(axis=1) + therapy.lockout_min[who]),
        (Refusal.NO_PATIENT_BOLUS, (therapy.bolus_mg[who] <= 0) | (maximum <= 0)),
        (Refusal.BOLUS_IN_PROGRESS, pumps.bolus_left_mg[who] > BOLUS_DONE_MG),
        (Refusal.EMPTY, pumps.reservoir_ml[who] <= 0),
    )
    result = np.full(who.size, Refusal.GIVEN, dtype=np.int64)
    for code, failed in checks:
        result[failed] = code
    codes[who] = result
    given = who[result == Refusal.GIVEN]
    pumps.starts[given, pumps.slot[given]] = now_min
    pumps.slot[given] = (pumps.slot[given] + 1) % MAX_BOLUSES_PER_DAY
    pumps.bolus_left_mg[given] += therapy.bolus_mg[given]
    duration = np.broadcast_to(np.asarray(duration_min, dtype=np.float64), press.shape)
    pumps.bolus_rate_mg_per_min[given] = therapy.bolus_mg[given] / duration[given]
    return codes


def deliver(pumps: PumpArrays, therapy: Prescription, hour: int, dt_min: float) -> Array:
    """Drug that actually reaches the CSF during one step, mg (n,); drains the reservoirs.

    Programmed basal (daily dose x flex multiplier of this hour) plus the running bolus, scaled
    by each pump's flow factor, never more than the reservoir holds, never negative.
    """
    basal = therapy.it_mg_per_day * therapy.flex[:, hour] * (dt_min / DAY_MIN)
    bolus = np.minimum(pumps.bolus_left_mg, pumps.bolus_rate_mg_per_min * dt_min)
    pumps.bolus_left_mg -= bolus
    programmed_mg = np.where(pumps.implanted, basal + bolus, 0.0)
    programmed_ml = programmed_mg / pumps.concentration_mg_per_ml
    actual_ml = np.minimum(programmed_ml * pumps.flow_factor, pumps.reservoir_ml)
    pumps.reservoir_ml -= actual_ml
    pumps.estimate_ml = np.maximum(pumps.estimate_ml - programmed_ml, 0.0)
    out: Array = actual_ml * pumps.concentration_mg_per_ml
    return out


def days_to_alarm(pumps: PumpArrays, therapy: Prescription, alarm_ml: float) -> Array:
    """Days until the pump's estimate reaches the alarm volume, every allowed bolus used
    (the programmer's convention, devices.md; `idds.pump.rules.refill_due_in`)."""
    use_ml_per_day = therapy.daily_it_mg() / pumps.concentration_mg_per_ml
    with np.errstate(divide="ignore"):
        out: Array = np.where(use_ml_per_day > 0,
                              (pumps.estimate_ml - alarm_ml) / use_ml_per_day, np.inf)
    return out


__all__ = ["HOURS", "ProgramProblem", "PumpArrays", "Refusal", "days_to_alarm", "deliver",
           "demand", "program_problems", "shortest_bolus_duration", "systematic_errors"]
