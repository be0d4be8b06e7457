"""The safety supervisor: every recommendation passes it, whatever controller made it.

Pure: `supervise(state, obs, therapy, recommendation, bounds, library)` returns a
`SupervisorDecision` (the therapy to deliver, a `Verdict` and `Check` flags per patient) and a
new `SupervisorState`. It never clamps silently (docs/design.md principle 5): wherever the delivered
therapy differs from the recommendation, the flags name the limit that made it differ.

Checks, per patient:
- validity: shapes, finite non-negative values, flex averaging 1 (else refused);
- physiological interlock (`idds.control.interlock`): one warning blocks increases; an alarm
  (two warnings, missing data counting as warnings) or a critical reading reduces or stops
  delivery, disables patient boluses and stays latched until `reset_alarm`;
- increases (of the basal dose or of the bolus allowance bolus x boluses per day) are refused on
  a stale or missing diary, inside the monitoring window after the last increase (the longer of
  the clinician's window and the library's minimum interval), and from a stopped pump (restart
  is the clinician's); otherwise they are reduced to the per-change step (library and
  clinician, the smaller wins) and the per-week limit;
- decreases not forced by the interlock are reduced to the per-day decrease limit;
- absolute limits: the library's maximum daily dose and bolus (hard always; soft unless the
  clinician allowed it) and the clinician's bounds: a recommendation beyond them is held for a
  clinician (the current setting is kept) and, if even that is beyond, reduced to the limit;
- flex: multipliers outside the clinician's range are refused (current shape kept, else flat).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import IntEnum, IntFlag

import numpy as np
from numpy.typing import NDArray

from idds.control.bounds import ClinicianBounds, LibraryLimit, LibraryLimits
from idds.control.interlock import Level, assess
from idds.control.observations import Observations
from idds.control.prescription import HOURS, Prescription
from idds.control.recommendation import Recommendation

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: Relative tolerance below which a change is not counted as one (float round-off).
_EPS = 1e-9
#: Days of applied basal doses kept for the per-week limit.
WEEK = 7


class Verdict(IntEnum):
    """What the supervisor did with a patient's recommendation, by increasing severity."""

    ACCEPTED = 0
    REDUCED = 1
    REFUSED = 2
    HELD_FOR_CLINICIAN = 3
    ALARM = 4


class Check(IntFlag):
    """The limits that made the delivered therapy differ from the recommendation."""

    NONE = 0
    INVALID = 1
    HARD_LIMIT = 2
    SOFT_LIMIT = 4
    CLINICIAN_BOUND = 8
    MAX_INCREASE_DAY = 16
    MAX_INCREASE_WEEK = 32
    MAX_DECREASE_DAY = 64
    MONITORING_WINDOW = 128
    STALE_DIARY = 256
    INTERLOCK_WARNING = 512
    ALARM_NEW = 1024
    ALARM_LATCHED = 2048
    FLEX_BOUND = 4096
    RESTART = 8192


_CHECK_TEXT = {
    Check.INVALID: "recommendation invalid (negative, not finite, flex not averaging 1, or a "
    "bolus with no boluses allowed): refused",
    Check.HARD_LIMIT: "drug library hard limit",
    Check.SOFT_LIMIT: "drug library soft limit not allowed by the clinician: held",
    Check.CLINICIAN_BOUND: "outside the clinician's bounds: held for a clinician",
    Check.MAX_INCREASE_DAY: "increase above the per-change step: reduced to the step",
    Check.MAX_INCREASE_WEEK: "increase above the per-week limit: reduced to it",
    Check.MAX_DECREASE_DAY: "decrease above the per-day limit: reduced to it",
    Check.MONITORING_WINDOW: "inside the monitoring window after the last increase: no increase",
    Check.STALE_DIARY: "diary missing or stale: no increase",
    Check.INTERLOCK_WARNING: "interlock warning (sedation, breathing or missing reading): "
    "no increase",
    Check.ALARM_NEW: "interlock alarm: delivery reduced or stopped, boluses off, latched",
    Check.ALARM_LATCHED: "interlock alarm latched until a clinician resets it: no increase",
    Check.FLEX_BOUND: "flex multipliers outside the clinician's range: shape refused",
    Check.RESTART: "pump stopped: restarting is a clinician's decision",
}

#: Checks that need a clinician to act.
NEEDS_CLINICIAN = (
    Check.SOFT_LIMIT | Check.CLINICIAN_BOUND | Check.RESTART | Check.ALARM_NEW | Check.ALARM_LATCHED
)


def describe(checks: int) -> list[str]:
    """Readable texts of the flags set in a `Check` mask."""
    return [text for flag, text in _CHECK_TEXT.items() if checks & flag]


@dataclass(frozen=True)
class SupervisorState:
    """What the supervisor remembers between decisions, arrays (n,) unless noted.

    day: the last day supervised (-1: none). last_increase_day: day of the last applied
    increase (-inf: none). recent_daily_mg: (WEEK, n) ring of delivered basal doses, mg/day,
    of the last days (for the per-week limit). latched: `Level` of a latched alarm (CLEAR: none).
    alarm_cap_mg: basal cap while latched, mg/day (inf: none). pre_alarm_mg: basal dose when
    the alarm latched, mg/day (for the clinician who restarts).
    """

    day: int
    last_increase_day: Array
    recent_daily_mg: Array
    latched: IntArray
    alarm_cap_mg: Array
    pre_alarm_mg: Array

    @staticmethod
    def start(therapy: Prescription, day: int = -1) -> SupervisorState:
        """A fresh state for patients on `therapy` (treated as just started: the monitoring
        window after a start runs as after an increase, label: 24-72 h after the start)."""
        n = therapy.n
        return SupervisorState(
            day=day,
            last_increase_day=np.full(n, float(day)),
            recent_daily_mg=np.tile(therapy.it_mg_per_day.astype(np.float64), (WEEK, 1)),
            latched=np.zeros(n, dtype=np.int64),
            alarm_cap_mg=np.full(n, np.inf),
            pre_alarm_mg=np.zeros(n),
        )


@dataclass(frozen=True)
class SupervisorDecision:
    """The supervisor's answer: the therapy to deliver, and per patient a `Verdict` and the
    `Check` flags naming every limit applied."""

    therapy: Prescription
    verdict: IntArray
    checks: IntArray

    def text(self, i: int) -> str:
        """Readable verdict and reasons for patient i."""
        verdict = Verdict(int(self.verdict[i])).name.lower().replace("_", " ")
        reasons = describe(int(self.checks[i]))
        return verdict + (": " + "; ".join(reasons) if reasons else "")

    @property
    def needs_clinician(self) -> BoolArray:
        out: BoolArray = (self.checks & int(NEEDS_CLINICIAN)) != 0
        return out


def reset_alarm(state: SupervisorState, mask: BoolArray) -> SupervisorState:
    """A clinician resets the latched alarms of the patients in `mask` (the only way out)."""
    return replace(
        state,
        latched=np.where(mask, Level.CLEAR, state.latched).astype(np.int64),
        alarm_cap_mg=np.where(mask, np.inf, state.alarm_cap_mg),
    )


def _valid(rec: Prescription, n: int) -> BoolArray:
    """Rows of the recommendation that are well formed."""
    ok = np.ones(n, dtype=bool)
    for values in (rec.it_mg_per_day, rec.bolus_mg, rec.lockout_min):
        ok &= np.isfinite(values) & (values >= 0)
    ok &= rec.max_boluses_per_day >= 0
    ok &= ~((rec.bolus_mg > 0) & (rec.max_boluses_per_day < 1))  # a bolus none may take
    flex_ok = np.all(np.isfinite(rec.flex) & (rec.flex >= 0), axis=1)
    with np.errstate(invalid="ignore"):
        ok &= flex_ok & (np.abs(rec.flex.mean(axis=1) - 1.0) <= 1e-6)
    return ok


def _shapes_ok(rec: Prescription, n: int) -> bool:
    return (
        rec.n == n
        and rec.flex.shape == (n, HOURS)
        and all(
            a.shape == (n,)
            for a in (rec.it_mg_per_day, rec.bolus_mg, rec.lockout_min, rec.max_boluses_per_day)
        )
    )


def _library_cap(limit: LibraryLimit | None, bounds: ClinicianBounds) -> tuple[float, int]:
    """A library limit's value and the flag it raises (inf, NONE when it does not bind)."""
    if limit is None or bounds.allows(limit):
        return np.inf, int(Check.NONE)
    flag = Check.HARD_LIMIT if limit.kind.value == "hard" else Check.SOFT_LIMIT
    return limit.value, int(flag)


def supervise(
    state: SupervisorState,
    obs: Observations,
    therapy: Prescription,
    recommendation: Recommendation,
    bounds: ClinicianBounds,
    library: LibraryLimits,
) -> tuple[SupervisorDecision, SupervisorState]:
    """Decide what to deliver tomorrow for each patient; see the module docstring."""
    n = therapy.n
    cur = therapy
    rec = recommendation.therapy
    checks = np.zeros(n, dtype=np.int64)
    if not _shapes_ok(rec, n):
        rec = cur
        checks |= int(Check.INVALID)
    valid = _valid(rec, n)
    checks |= np.where(valid, 0, int(Check.INVALID))
    vcol = valid[:, None]
    basal = np.where(valid, rec.it_mg_per_day, cur.it_mg_per_day).astype(np.float64)
    flex = np.where(vcol, rec.flex, cur.flex).astype(np.float64)
    bolus = np.where(valid, rec.bolus_mg, cur.bolus_mg).astype(np.float64)
    lockout = np.where(valid, rec.lockout_min, cur.lockout_min).astype(np.float64)
    maxb = np.where(valid, rec.max_boluses_per_day, cur.max_boluses_per_day).astype(np.int64)
    cur_basal = cur.it_mg_per_day.astype(np.float64)
    cur_allow = cur.bolus_mg * cur.max_boluses_per_day

    # Physiological interlock and the latch.
    reading = assess(obs, bounds.interlock)
    level = reading.level
    new_alarm = level >= Level.ALARM
    fraction = np.where(level >= Level.CRITICAL, bounds.interlock.critical_dose_fraction,
                        bounds.interlock.alarm_dose_fraction)
    was_latched = state.latched >= Level.ALARM
    cap = np.where(new_alarm, np.minimum(state.alarm_cap_mg, cur_basal * fraction),
                   state.alarm_cap_mg)
    latched = np.where(new_alarm, np.maximum(state.latched, level), state.latched).astype(np.int64)
    pre_alarm = np.where(new_alarm & ~was_latched, cur_basal, state.pre_alarm_mg)
    is_latched = latched >= Level.ALARM
    checks |= np.where(new_alarm, int(Check.ALARM_NEW), 0)
    checks |= np.where(is_latched & ~new_alarm, int(Check.ALARM_LATCHED), 0)

    # Gates on any increase.
    days_since = obs.day - state.last_increase_day
    wait_h = bounds.monitoring_hours
    lib_wait = library.min_hours_between_increases
    if lib_wait is not None and not bounds.allows(lib_wait):
        wait_h = max(wait_h, lib_wait.value)
    in_window = days_since * 24.0 < wait_h - _EPS
    stale = (
        np.isnan(obs.diary_mean_nrs)
        | ~(obs.days_since_diary <= bounds.stale_diary_days)
        | ~(obs.diary_entries >= bounds.min_diary_entries)
    )
    warning = level == Level.WARNING
    stopped = cur_basal <= 0
    gates = [
        (is_latched, Check.NONE),  # flagged above
        (warning, Check.INTERLOCK_WARNING),
        (stale, Check.STALE_DIARY),
        (in_window, Check.MONITORING_WINDOW),
        (stopped, Check.RESTART),
    ]
    basal_up = basal > cur_basal * (1 + _EPS)
    allow_up = bolus * maxb > cur_allow * (1 + _EPS) + 1e-12
    wants_up = basal_up | allow_up
    blocked = np.zeros(n, dtype=bool)
    for mask, flag in gates:
        hit = wants_up & mask & ~blocked
        checks |= np.where(hit, int(flag), 0)
        blocked |= wants_up & mask
    basal = np.where(blocked & basal_up, cur_basal, basal)
    bolus = np.where(blocked & allow_up, cur.bolus_mg, bolus)
    maxb = np.where(blocked & allow_up, cur.max_boluses_per_day, maxb)

    # Size of an allowed increase: per change and per week.
    lib_step, _ = _library_cap(library.max_increase_fraction, bounds)
    step = min(bounds.max_increase_per_day, lib_step)
    step_cap = cur_basal * (1.0 + step)
    over = basal > step_cap * (1 + _EPS)
    checks |= np.where(over, int(Check.MAX_INCREASE_DAY), 0)
    basal = np.where(over, step_cap, basal)
    allow_cap = cur_allow * (1.0 + step)
    over = (bolus * maxb > allow_cap * (1 + _EPS) + 1e-12) & (cur_allow > 0) & (maxb > 0)
    checks |= np.where(over, int(Check.MAX_INCREASE_DAY), 0)
    bolus = np.where(over, allow_cap / np.maximum(maxb, 1), bolus)
    week_ref = np.minimum(state.recent_daily_mg.min(axis=0), cur_basal)
    week_cap = np.maximum(week_ref * (1.0 + bounds.max_increase_per_week), cur_basal)
    over = basal > week_cap * (1 + _EPS)
    checks |= np.where(over, int(Check.MAX_INCREASE_WEEK), 0)
    basal = np.where(over, week_cap, basal)

    # Decreases not forced by the interlock are limited per day.
    floor = cur_basal * (1.0 - bounds.max_decrease_per_day)
    under = (basal < floor * (1 - _EPS)) & ~new_alarm & ~is_latched
    checks |= np.where(under, int(Check.MAX_DECREASE_DAY), 0)
    basal = np.where(under, floor, basal)

    # Absolute limits: hold the current setting for a clinician, else reduce to the limit.
    lib_daily, lib_daily_flag = _library_cap(library.max_daily_mg, bounds)
    lib_bolus, lib_bolus_flag = _library_cap(library.max_bolus_mg, bounds)
    for limit, code in ((lib_daily, lib_daily_flag), (bounds.max_daily_mg,
                                                      int(Check.CLINICIAN_BOUND))):
        over = basal > limit * (1 + _EPS)
        checks |= np.where(over, code, 0)
        basal = np.where(over, np.minimum(cur_basal, limit), basal)
    below = (basal < bounds.min_daily_mg * (1 - _EPS)) & (basal < cur_basal) & ~is_latched \
        & ~new_alarm
    checks |= np.where(below, int(Check.CLINICIAN_BOUND), 0)
    basal = np.where(below, np.minimum(cur_basal, bounds.min_daily_mg), basal)
    for limit, code in ((lib_bolus, lib_bolus_flag), (bounds.max_bolus_mg,
                                                      int(Check.CLINICIAN_BOUND))):
        over = bolus > limit * (1 + _EPS)
        checks |= np.where(over, code, 0)
        bolus = np.where(over, np.minimum(cur.bolus_mg, limit), bolus)
    over = maxb > bounds.max_boluses_per_day
    checks |= np.where(over, int(Check.CLINICIAN_BOUND), 0)
    maxb = np.where(over, np.minimum(cur.max_boluses_per_day, bounds.max_boluses_per_day), maxb)
    short = lockout < bounds.min_lockout_min
    checks |= np.where(short, int(Check.CLINICIAN_BOUND), 0)
    lockout = np.where(short, np.maximum(cur.lockout_min, bounds.min_lockout_min), lockout)
    # The whole day's allowance (basal + every bolus) within the daily maxima.
    daily_limit = min(lib_daily, bounds.max_daily_mg)
    room = np.maximum(daily_limit - basal, 0.0)
    over = bolus * maxb > room * (1 + _EPS) + 1e-12
    flag_daily = lib_daily_flag if lib_daily <= bounds.max_daily_mg else int(
        Check.CLINICIAN_BOUND)
    checks |= np.where(over, flag_daily, 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        fit = np.where(bolus > 0, np.floor(room / np.where(bolus > 0, bolus, 1.0) + _EPS), maxb)
    fit = np.nan_to_num(fit, nan=0.0, posinf=1e9)
    maxb = np.where(over, np.minimum(maxb, fit).astype(np.int64), maxb)

    # The latched alarm: basal capped (stopped below the lowest deliverable rate), boluses
    # off, flat program.
    cap = np.where(cap < bounds.min_rate_mg_per_day, 0.0, cap)
    capped = is_latched & (basal > cap)
    basal = np.where(is_latched, np.minimum(basal, cap), basal)
    checks |= np.where(capped & ~new_alarm, int(Check.ALARM_LATCHED), 0)
    bolus = np.where(is_latched, 0.0, bolus)
    maxb = np.where(is_latched, 0, maxb)
    flex = np.where(is_latched[:, None], 1.0, flex)

    # A running rate below the lowest deliverable one: keep the current dose if deliverable,
    # else stop (an alarm's reduction always stops).
    undeliverable = (basal > 0) & (basal < bounds.min_rate_mg_per_day * (1 - _EPS))
    keep = undeliverable & ~is_latched & (cur_basal >= bounds.min_rate_mg_per_day)
    checks |= np.where(undeliverable & ~is_latched, int(Check.CLINICIAN_BOUND), 0)
    checks |= np.where(undeliverable & is_latched, int(Check.ALARM_LATCHED), 0)
    basal = np.where(undeliverable, np.where(keep, cur_basal, 0.0), basal)

    # Flex within the clinician's range.
    low = np.where(basal > 0, np.maximum(bounds.min_flex,
                                         bounds.min_rate_mg_per_day / np.maximum(basal, 1e-12)),
                   0.0)[:, None]

    def outside(shape: Array) -> BoolArray:
        out: BoolArray = np.any(shape > bounds.max_flex + _EPS, axis=1) | np.any(
            shape < low - _EPS, axis=1)
        return out

    bad_flex = ~is_latched & outside(flex)
    checks |= np.where(bad_flex, int(Check.FLEX_BOUND), 0)
    fallback = np.where(outside(cur.flex)[:, None], 1.0, cur.flex)
    flex = np.where(bad_flex[:, None], fallback, flex)

    # No allowed boluses means no patient bolus (a bolus dose with none allowed is no program).
    bolus = np.where(maxb < 1, 0.0, bolus)
    out = cur.with_(
        it_mg_per_day=basal,
        flex=flex,
        bolus_mg=bolus,
        lockout_min=lockout,
        max_boluses_per_day=maxb,
    )
    verdict = _verdict(out, cur, recommendation.therapy, checks, is_latched | new_alarm)
    increased = (basal > cur_basal * (1 + _EPS)) | (
        bolus * maxb > cur_allow * (1 + _EPS) + 1e-12
    )
    ring = np.roll(state.recent_daily_mg, -1, axis=0)
    ring[-1] = basal
    new_state = SupervisorState(
        day=obs.day,
        last_increase_day=np.where(increased, float(obs.day), state.last_increase_day),
        recent_daily_mg=ring,
        latched=latched,
        alarm_cap_mg=cap,
        pre_alarm_mg=pre_alarm,
    )
    return SupervisorDecision(out, verdict, checks), new_state


def _same(a: Prescription, b: Prescription) -> BoolArray:
    """Rows where two therapies program the pump identically."""
    out: BoolArray = (
        np.isclose(a.it_mg_per_day, b.it_mg_per_day, rtol=1e-9, atol=0)
        & np.all(np.isclose(a.flex, b.flex, rtol=1e-9, atol=1e-12), axis=1)
        & np.isclose(a.bolus_mg, b.bolus_mg, rtol=1e-9, atol=0)
        & np.isclose(a.lockout_min, b.lockout_min, rtol=1e-9, atol=0)
        & (a.max_boluses_per_day == b.max_boluses_per_day)
    )
    return out


def _verdict(out: Prescription, cur: Prescription, rec: Prescription, checks: IntArray,
             alarm: BoolArray) -> IntArray:
    n = out.n
    if rec.n != n or rec.flex.shape != out.flex.shape:
        as_rec = np.zeros(n, dtype=bool)
    else:
        with np.errstate(invalid="ignore"):
            as_rec = _same(out, rec)
    as_cur = _same(out, cur)
    held = (checks & int(Check.SOFT_LIMIT | Check.CLINICIAN_BOUND | Check.RESTART)) != 0
    verdict = np.select(
        [alarm, held, as_rec & (checks == 0), as_cur],
        [Verdict.ALARM, Verdict.HELD_FOR_CLINICIAN, Verdict.ACCEPTED, Verdict.REFUSED],
        default=Verdict.REDUCED,
    ).astype(np.int64)
    return verdict
