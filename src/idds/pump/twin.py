"""The implanted pump's rules in vectorised form, for whole cohorts in the trial hot loop.

This is the fast twin of the firmware (docs/design.md principle 2): the same rules, on arrays
of pumps, in float64 mg, mL and minutes instead of the firmware's exact nanolitres and
seconds. Its input is its own array program (`TwinProgram`); its refusals and program problems
are the firmware's `Limit` members (stored in arrays as small ints, `code_of`/`outcome`);
its device limits are the firmware's `LIMITS`, converted through `idds.pump.convert`.
`tests/pump/test_pump_twin_differential.py` keeps it equal to the firmware on random programs
and presses: the same bolus decisions (given, or refused for the same limit) and the same
delivered drug per day within the firmware's stroke granularity.

Rules shared with the firmware (`idds.pump.rules`, called here on arrays):
- a patient bolus is refused while the lockout runs (`lockout_ends_at`: from the start of the
  last given bolus), else when the boluses given in the rolling window (now - 24 h, now]
  (`in_window`) reach the maximum: the order of `demand_refusal`;
- checked before those, as the firmware's `_bolus_checks` does: no bolus from an empty
  reservoir (a critical alarm) nor while a bolus runs, nor without a programmed patient bolus;
- a program is refused outside the device ranges of `Pump.set_therapy` (`outside`,
  `above_max_flow`, in its order);
- basal delivery follows the programmed daily dose and flex shape, scaled by the pump's own
  systematic flow error (within +/-14.5%, ref, devices), and stops when the reservoir is empty;
- the pump's reservoir estimate follows the programmed volume, not the actual one (the
  over-infusion hazard of ref, devices); the refill date is `idds.dosing.time_to_alarm`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from idds.dosing import time_to_alarm
from idds.pump import rules
from idds.pump.convert import flow_q, time_q, volume_q
from idds.pump.errors import Limit
from idds.pump.limits import LIMITS

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: Hours in the flex shape of a `TwinProgram`.
HOURS = 24
#: Most patient boluses any program may allow in 24 h (ring size): the firmware's limit.
MAX_BOLUSES_PER_DAY = LIMITS.max_demand_per_24h
DAY_MIN = 1440.0
#: A bolus with less than this left is finished (float residue of splitting it into steps), mg.
BOLUS_DONE_MG = 1e-12

#: Device limits of the firmware (`idds.pump.limits.LIMITS`) in the twin's units.
MIN_FLOW_ML_PER_DAY = float(flow_q(LIMITS.min_flow).value_in("mL/day"))
MAX_FLOW_ML_PER_DAY = float(flow_q(LIMITS.max_flow).value_in("mL/day"))
MIN_BOLUS_ML = float(volume_q(LIMITS.min_bolus_nl).value_in("mL"))
MAX_BOLUS_ML = float(volume_q(LIMITS.max_bolus_nl).value_in("mL"))
MIN_BOLUS_DURATION_MIN = float(time_q(LIMITS.min_bolus_duration_s).value_in("min"))
MAX_BOLUS_DURATION_MIN = float(time_q(LIMITS.max_bolus_duration_s).value_in("min"))
MIN_LOCKOUT_MIN = float(time_q(LIMITS.min_lockout_s).value_in("min"))
MAX_LOCKOUT_MIN = float(time_q(LIMITS.max_lockout_s).value_in("min"))
#: `Pump.set_therapy`'s device ranges (`rules.ProgramRanges`) in mL/day, mL and min.
RANGES = rules.ProgramRanges(
    flow=(MIN_FLOW_ML_PER_DAY, MAX_FLOW_ML_PER_DAY),
    bolus_volume=(MIN_BOLUS_ML, MAX_BOLUS_ML),
    bolus_duration=(MIN_BOLUS_DURATION_MIN, MAX_BOLUS_DURATION_MIN),
    lockout=(MIN_LOCKOUT_MIN, MAX_LOCKOUT_MIN),
    max_per_24h=(1, LIMITS.max_demand_per_24h),
)

# ---------------------------------------------------------------- outcome codes (arrays)
#: Array code of a given bolus (or an accepted program).
GIVEN = 0
#: Array code of a pump nobody pressed (or that is not implanted).
NOT_PRESSED = -1
_CODE = {limit: index for index, limit in enumerate(Limit, start=1)}
_LIMIT = {index: limit for limit, index in _CODE.items()}


def code_of(limit: Limit | None) -> int:
    """The small int a refusal (a `Limit`; None: given) is stored as in the twin's arrays: the
    one mapping between the firmware's `Limit` members and array codes."""
    return GIVEN if limit is None else _CODE[limit]


def outcome(code: int) -> Limit | None:
    """The `Limit` an array code stands for; None for `GIVEN` (ValueError for `NOT_PRESSED`
    or an unknown code)."""
    if code == GIVEN:
        return None
    try:
        return _LIMIT[code]
    except KeyError:
        raise ValueError(f"{code} is no outcome code") from None


def limit_of(code: int) -> Limit:
    """The `Limit` of a refusal or program-problem code (ValueError for `GIVEN`)."""
    limit = outcome(code)
    if limit is None:
        raise ValueError("code 0 is no refusal")
    return limit


# ---------------------------------------------------------------- programs
@dataclass(frozen=True)
class TwinProgram:
    """Pump programs of n pumps as arrays: what `Pump.set_therapy` takes, as the twin reads it.

    basal_mg_per_day (n,): basal dose, mg/day (0: stopped); flex (n, 24): hourly multipliers
    of the basal rate, mean 1 over the day; bolus_mg (n,): patient bolus dose, mg (0: no
    patient bolus); lockout_min (n,): from the start of one patient bolus to the next, min;
    max_per_24h (n,): patient boluses allowed in any rolling 24 h.
    """

    basal_mg_per_day: Array
    flex: Array
    bolus_mg: Array
    lockout_min: Array
    max_per_24h: IntArray

    def daily_mg(self) -> Array:
        """Drug per day if every allowed bolus is used, mg/day (the refill convention)."""
        out: Array = self.basal_mg_per_day + self.bolus_mg * self.max_per_24h
        return out


def program_problems(program: TwinProgram, concentration_mg_per_ml: Array,
                     duration_min: Array) -> IntArray:
    """Per pump, the code (`code_of`) of the first `Limit` the firmware's `Pump.set_therapy`
    would refuse this program for, in its order (`rules.outside` on `RANGES`,
    `rules.above_max_flow`); `GIVEN` (0) where it accepts it.

    A basal of 0 mg/day is the stopped mode; a bolus of 0 mg means no patient bolus.
    """
    p = program
    hourly = p.basal_mg_per_day[:, None] * p.flex / concentration_mg_per_ml[:, None]
    running = p.basal_mg_per_day > 0
    low, high = hourly.min(axis=1), hourly.max(axis=1)
    has_bolus = p.bolus_mg > 0
    volume = p.bolus_mg / concentration_mg_per_ml
    bolus_flow = np.where(has_bolus, volume / duration_min * DAY_MIN, 0.0)
    checks = [
        (running & (rules.outside(low, RANGES.flow) | rules.outside(high, RANGES.flow)),
         Limit.FLOW_RANGE),
        (has_bolus & rules.outside(volume, RANGES.bolus_volume), Limit.BOLUS_VOLUME),
        (has_bolus & rules.outside(duration_min, RANGES.bolus_duration), Limit.BOLUS_DURATION),
        (has_bolus & rules.outside(p.lockout_min, RANGES.lockout), Limit.LOCKOUT_RANGE),
        (has_bolus & rules.outside(p.max_per_24h, RANGES.max_per_24h),
         Limit.MAX_PER_24H_RANGE),
        (has_bolus & rules.above_max_flow(high * running, bolus_flow, MAX_FLOW_ML_PER_DAY),
         Limit.BOLUS_FLOW),
    ]
    out: IntArray = np.select([c for c, _ in checks], [code_of(lim) for _, lim in checks],
                              default=GIVEN).astype(np.int64)
    return out


def shortest_bolus_duration(program: TwinProgram, concentration_mg_per_ml: Array,
                            at_least_min: float) -> Array:
    """The shortest whole-minute bolus duration, not under `at_least_min`, that keeps basal plus
    bolus within the device's maximum flow (the firmware refuses a faster bolus:
    `rules.above_max_flow`), min."""
    peak_basal = program.basal_mg_per_day * program.flex.max(axis=1) / concentration_mg_per_ml
    spare = np.maximum(MAX_FLOW_ML_PER_DAY - peak_basal, 1e-9)
    needed = np.ceil(program.bolus_mg / concentration_mg_per_ml / spare * DAY_MIN - 1e-9)
    out: Array = np.maximum(needed, at_least_min)
    return out


# ---------------------------------------------------------------- pumps
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
    slot: IntArray
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


def demand(pumps: PumpArrays, press: BoolArray, now_min: float, program: TwinProgram,
           duration_min: Array | float) -> IntArray:
    """Decide every press at `now_min`: outcome codes (`GIVEN` where a bolus starts, else
    `code_of` the refusing `Limit`; `NOT_PRESSED` where nobody pressed).

    Same order as the firmware's `patient_bolus`: empty reservoir (a critical alarm), a bolus
    running, no patient bolus programmed, then `rules.demand_refusal` (the lockout,
    `rules.lockout_ends_at`, then the rolling-24 h maximum, `rules.in_window`).
    """
    codes = np.full(press.shape, NOT_PRESSED, dtype=np.int64)
    who = np.flatnonzero(press & pumps.implanted)
    if who.size == 0:
        return codes
    result = _decide(pumps, who, now_min, program)
    codes[who] = result
    given = who[result == GIVEN]
    pumps.starts[given, pumps.slot[given]] = now_min
    pumps.slot[given] = (pumps.slot[given] + 1) % MAX_BOLUSES_PER_DAY
    pumps.bolus_left_mg[given] += program.bolus_mg[given]
    duration = np.broadcast_to(np.asarray(duration_min, dtype=np.float64), press.shape)
    pumps.bolus_rate_mg_per_min[given] = program.bolus_mg[given] / duration[given]
    return codes


def would_answer(pumps: PumpArrays, now_min: float, program: TwinProgram) -> IntArray:
    """What every implanted pump would answer to a press at `now_min`, changing nothing:
    `GIVEN` or the refusing `Limit`'s code (`demand`'s rules); `NOT_PRESSED` where no pump is
    implanted. For a patient who presses the moment a bolus is available."""
    codes = np.full(pumps.implanted.shape, NOT_PRESSED, dtype=np.int64)
    who = np.flatnonzero(pumps.implanted)
    codes[who] = _decide(pumps, who, now_min, program)
    return codes


def _decide(pumps: PumpArrays, who: IntArray, now_min: float, program: TwinProgram
            ) -> IntArray:
    """Outcome codes of a press at `now_min` on the pumps `who` (the order of `demand`)."""
    starts = pumps.starts[who]
    maximum = program.max_per_24h[who]
    ends = rules.lockout_ends_at(starts.max(axis=1), program.lockout_min[who])
    # the checks, lowest priority first: a later (higher-priority) one overwrites
    checks = (
        (Limit.MAX_PER_24H_REACHED,
         rules.in_window(starts, now_min, DAY_MIN).sum(axis=1) >= maximum),
        (Limit.LOCKOUT_ACTIVE, now_min < ends),
        (Limit.DEMAND_DISABLED, (program.bolus_mg[who] <= 0) | (maximum <= 0)),
        (Limit.BOLUS_IN_PROGRESS, pumps.bolus_left_mg[who] > BOLUS_DONE_MG),
        (Limit.CRITICAL_ALARM, pumps.reservoir_ml[who] <= 0),  # the empty-reservoir alarm
    )
    result = np.full(who.size, GIVEN, dtype=np.int64)
    for limit, failed in checks:
        result[failed] = code_of(limit)
    return result


def deliver(pumps: PumpArrays, program: TwinProgram, hour: int, dt_min: float) -> Array:
    """Drug that actually reaches the CSF during one step, mg (n,); drains the reservoirs.

    Programmed basal (daily dose x flex multiplier of this hour: the firmware's
    `rules.basal_flow`) plus the running bolus, scaled by each pump's flow factor, never more
    than the reservoir holds, never negative.
    """
    basal = program.basal_mg_per_day * program.flex[:, hour] * (dt_min / DAY_MIN)
    bolus = np.minimum(pumps.bolus_left_mg, pumps.bolus_rate_mg_per_min * dt_min)
    pumps.bolus_left_mg -= bolus
    programmed_mg = np.where(pumps.implanted, basal + bolus, 0.0)
    programmed_ml = programmed_mg / pumps.concentration_mg_per_ml
    actual_ml = np.minimum(programmed_ml * pumps.flow_factor, pumps.reservoir_ml)
    pumps.reservoir_ml -= actual_ml
    pumps.estimate_ml = np.maximum(pumps.estimate_ml - programmed_ml, 0.0)
    out: Array = actual_ml * pumps.concentration_mg_per_ml
    return out


def days_to_alarm(pumps: PumpArrays, program: TwinProgram, alarm_ml: float) -> Array:
    """Days until the pump's estimate reaches the alarm volume, every allowed bolus used
    (the refill-date rule, `idds.dosing.time_to_alarm`, as the firmware's
    `rules.refill_due_in`); +inf where nothing is used."""
    use_ml_per_day = program.daily_mg() / pumps.concentration_mg_per_ml
    with np.errstate(divide="ignore"):
        out: Array = np.where(use_ml_per_day > 0,
                              time_to_alarm(pumps.estimate_ml, alarm_ml, use_ml_per_day),
                              np.inf)
    return out


__all__ = ["GIVEN", "HOURS", "NOT_PRESSED", "RANGES", "PumpArrays", "TwinProgram", "code_of",
           "days_to_alarm", "deliver", "demand", "limit_of", "outcome", "program_problems",
           "shortest_bolus_duration", "would_answer"]
