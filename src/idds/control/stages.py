"""The supervisor's stages: each a pure function of the therapy so far and its checks.

`validate` starts from the recommendation: its well-formed rows, the current therapy's where
it is not. Every later stage has the signature `Stage`: (therapy, checks, context) -> (therapy,
checks). It returns a new therapy and a new `Check` mask (int64 per patient: the inputs are
never modified), changes only what its limit forbids, and flags every change it makes.
`idds.control.supervisor.supervise` runs `STAGES` in order; the order matters (an absolute
limit applies to the increase already reduced to the step; the latched alarm's cap to the dose
within every bound; the flex range to the final dose).

Units: daily doses mg/day, bolus mg, lockout min, times in days (hours for the monitoring
window); relative limits are fractions (0.2 = +20%). Sources of the limits: `ClinicianBounds`
and `LibraryLimits` (`idds.control.bounds`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from idds.control.bounds import ClinicianBounds, LibraryLimit, per_change_step
from idds.control.checks import Check
from idds.control.interlock import Level
from idds.control.prescription import HOURS, Prescription
from idds.control.stage_context import EPS, Context, Latch, _flag, latch
from idds.drugs import LimitKind

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

__all__ = [
    "EPS",
    "STAGES",
    "Context",
    "Latch",
    "Stage",
    "apply_latch",
    "drop_unusable_bolus",
    "flag_alarms",
    "gate_increases",
    "hold_cannot_help",
    "keep_deliverable",
    "latch",
    "limit_bolus",
    "limit_daily_allowance",
    "limit_daily_dose",
    "limit_decrease",
    "limit_flex",
    "limit_step",
    "limit_week",
    "loss_of_effect",
    "validate",
]

Stage = Callable[[Prescription, IntArray, Context], tuple[Prescription, IntArray]]


def _library_cap(limit: LibraryLimit | None, bounds: ClinicianBounds) -> tuple[float, int]:
    """A library limit's value and the flag it raises (inf, NONE when it does not bind)."""
    if limit is None or bounds.allows(limit):
        return np.inf, int(Check.NONE)
    flag = Check.HARD_LIMIT if limit.kind is LimitKind.HARD else Check.SOFT_LIMIT
    return limit.value, int(flag)


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


def validate(recommendation: Prescription, current: Prescription) -> tuple[Prescription, IntArray]:
    """The first stage: the recommendation's well-formed rows (finite, non-negative, flex
    averaging 1, no bolus dose without boluses allowed), the current therapy elsewhere, flagged
    INVALID; a recommendation of the wrong shape is refused whole. Oral fields: the current."""
    n = current.n
    rec = recommendation
    checks = np.zeros(n, dtype=np.int64)
    if not _shapes_ok(rec, n):
        rec = current
        checks = _flag(checks, np.ones(n, dtype=bool), Check.INVALID)
    valid = _valid(rec, n)
    checks = _flag(checks, ~valid, Check.INVALID)
    vcol = valid[:, None]
    cur = current
    therapy = cur.with_(
        it_mg_per_day=np.where(valid, rec.it_mg_per_day, cur.it_mg_per_day).astype(np.float64),
        flex=np.where(vcol, rec.flex, cur.flex).astype(np.float64),
        bolus_mg=np.where(valid, rec.bolus_mg, cur.bolus_mg).astype(np.float64),
        lockout_min=np.where(valid, rec.lockout_min, cur.lockout_min).astype(np.float64),
        max_boluses_per_day=np.where(valid, rec.max_boluses_per_day,
                                     cur.max_boluses_per_day).astype(np.int64),
    )
    return therapy, checks


def flag_alarms(t: Prescription, checks: IntArray, ctx: Context) -> tuple[Prescription, IntArray]:
    """Flag a new alarm (ALARM_NEW) and one still latched from before (ALARM_LATCHED); the
    therapy is limited later (`gate_increases`, `limit_decrease`, `apply_latch`)."""
    lt = ctx.latch
    checks = _flag(checks, lt.new_alarm, Check.ALARM_NEW)
    checks = _flag(checks, lt.is_latched & ~lt.new_alarm, Check.ALARM_LATCHED)
    return t, checks


def gate_increases(t: Prescription, checks: IntArray, ctx: Context
                   ) -> tuple[Prescription, IntArray]:
    """Refuse any increase (basal, or the bolus allowance bolus x boluses per day) while an
    alarm is latched, on an interlock warning, on a stale or missing diary (older than
    `stale_diary_days`, fewer than `min_diary_entries`), inside the monitoring window after the
    last increase (the longer of the clinician's `monitoring_hours` and the library's
    `min_hours_between_increases` unless allowed) and from a stopped pump (RESTART). The first
    gate that blocks is the one flagged (a latched alarm is flagged by `flag_alarms`)."""
    cur, bounds, library, obs = ctx.current, ctx.bounds, ctx.library, ctx.obs
    cur_basal, cur_allow = ctx.current_basal, ctx.current_allowance
    n = cur.n
    days_since = obs.day - ctx.last_increase_day
    wait_h = bounds.monitoring_hours
    lib_wait = library.min_hours_between_increases
    if lib_wait is not None and not bounds.allows(lib_wait):
        wait_h = max(wait_h, lib_wait.value)
    in_window = days_since * 24.0 < wait_h - EPS
    stale = (
        np.isnan(obs.diary_mean_nrs)
        | ~(obs.days_since_diary <= bounds.stale_diary_days)
        | ~(obs.diary_entries >= bounds.min_diary_entries)
    )
    gates = [
        (ctx.latch.is_latched, Check.NONE),  # flagged by flag_alarms
        (ctx.latch.level == Level.WARNING, Check.INTERLOCK_WARNING),
        (stale, Check.STALE_DIARY),
        (in_window, Check.MONITORING_WINDOW),
        (cur_basal <= 0, Check.RESTART),
    ]
    basal, bolus, maxb = t.it_mg_per_day, t.bolus_mg, t.max_boluses_per_day
    basal_up = basal > cur_basal * (1 + EPS)
    allow_up = bolus * maxb > cur_allow * (1 + EPS) + 1e-12
    wants_up = basal_up | allow_up
    blocked = np.zeros(n, dtype=bool)
    for mask, flag in gates:
        checks = _flag(checks, wants_up & mask & ~blocked, flag)
        blocked = blocked | (wants_up & mask)
    return t.with_(
        it_mg_per_day=np.where(blocked & basal_up, cur_basal, basal),
        bolus_mg=np.where(blocked & allow_up, cur.bolus_mg, bolus),
        max_boluses_per_day=np.where(blocked & allow_up, cur.max_boluses_per_day, maxb),
    ), checks


def loss_of_effect(ctx: Context) -> tuple[BoolArray, Array]:
    """Who shows no response to the dose, and the basal dose to go back to (mg/day): today's
    diary mean `loss_of_effect_nrs` or more above the lowest of the week's (the ring), with a
    basal at most one day's decrease (`max_decrease_per_day`) below the one that day's diary
    reflected (the dose decided the day before it: the 3-day diary lags the dose), so that a
    controller's own small cuts do not hide it; that dose is the one to restore (never an
    increase). Nobody without a remembered diary."""
    n = ctx.current.n
    cur = ctx.current_basal
    ring = ctx.recent_diary_nrs
    if ring is None or ring.shape != ctx.recent_daily_mg.shape:
        return np.zeros(n, dtype=bool), cur
    known = ~np.isnan(ring)
    known[0] = False  # the oldest day: the dose its diary reflected is no longer remembered
    best_day = np.argmin(np.where(known, ring, np.inf), axis=0)
    cols = np.arange(n)
    best = ring[best_day, cols]
    dose_then = ctx.recent_daily_mg[np.maximum(best_day - 1, 0), cols]
    with np.errstate(invalid="ignore"):
        lost = (known.any(axis=0) & (ctx.obs.diary_mean_nrs - best >= ctx.bounds.loss_of_effect_nrs)
                & (cur >= dose_then * (1.0 - ctx.bounds.max_decrease_per_day) * (1 - EPS)))
    out: BoolArray = np.asarray(lost, dtype=bool)
    return out, np.where(out, dose_then, cur)


def hold_cannot_help(t: Prescription, checks: IntArray, ctx: Context
                     ) -> tuple[Prescription, IntArray]:
    """Where more drug cannot help, hold for a clinician instead of escalating: no response to
    the dose (`loss_of_effect`: a catheter or pump failure, or progression) brings the basal
    back to the dose of the week's best diary (the per-day decrease limit applies later) and
    refuses any increase (LOSS_OF_EFFECT; the supervisor's memory counts the day as a change,
    so the monitoring window keeps increases off while the diary still holds those days);
    no diary for `call_without_diary_days` refuses any increase (NO_DIARY_CALL). Both are
    flagged whatever was recommended: they call the clinician."""
    cur, obs, bounds = ctx.current, ctx.obs, ctx.bounds
    lost, restore = loss_of_effect(ctx)
    silent = ~(obs.days_since_diary < bounds.call_without_diary_days)
    checks = _flag(checks, lost, Check.LOSS_OF_EFFECT)
    checks = _flag(checks, silent, Check.NO_DIARY_CALL)
    stop = lost | silent
    allow_up = t.bolus_mg * t.max_boluses_per_day > ctx.current_allowance * (1 + EPS) + 1e-12
    keep = stop & allow_up
    basal = np.where(stop, np.minimum(t.it_mg_per_day, np.minimum(ctx.current_basal, restore)),
                     t.it_mg_per_day)
    return t.with_(
        it_mg_per_day=basal,
        bolus_mg=np.where(keep, cur.bolus_mg, t.bolus_mg),
        max_boluses_per_day=np.where(keep, cur.max_boluses_per_day, t.max_boluses_per_day),
    ), checks


def limit_step(t: Prescription, checks: IntArray, ctx: Context) -> tuple[Prescription, IntArray]:
    """Reduce an increase of the basal dose, and of a running bolus allowance, to the
    per-change step (`per_change_step`: the clinician's `max_increase_per_day` or the library's
    `max_increase_fraction` unless the clinician allows that soft limit, the smaller); the
    basal increase also to the library's absolute `max_increase_mg_per_day` where it sets one
    and the clinician does not allow it. Both are the library's own increase rule
    (`idds.drugs.checks`) as numbers."""
    bounds = ctx.bounds
    cur_basal, cur_allow = ctx.current_basal, ctx.current_allowance
    step = per_change_step(bounds, ctx.library)
    basal, bolus, maxb = t.it_mg_per_day, t.bolus_mg, t.max_boluses_per_day
    step_cap = cur_basal * (1.0 + step)
    most, _ = _library_cap(ctx.library.max_increase_mg_per_day, bounds)
    if np.isfinite(most):
        step_cap = np.minimum(step_cap, cur_basal + most)
    over = basal > step_cap * (1 + EPS)
    checks = _flag(checks, over, Check.MAX_INCREASE_PER_DAY)
    basal = np.where(over, step_cap, basal)
    allow_cap = cur_allow * (1.0 + step)
    over = (bolus * maxb > allow_cap * (1 + EPS) + 1e-12) & (cur_allow > 0) & (maxb > 0)
    checks = _flag(checks, over, Check.MAX_INCREASE_PER_DAY)
    bolus = np.where(over, allow_cap / np.maximum(maxb, 1), bolus)
    return t.with_(it_mg_per_day=basal, bolus_mg=bolus), checks


def limit_week(t: Prescription, checks: IntArray, ctx: Context) -> tuple[Prescription, IntArray]:
    """Reduce the basal dose to `max_increase_per_week` over the lowest basal dose of the last
    days (the ring, and today's), never below the current dose."""
    cur_basal = ctx.current_basal
    week_ref = np.minimum(ctx.recent_daily_mg.min(axis=0), cur_basal)
    week_cap = np.maximum(week_ref * (1.0 + ctx.bounds.max_increase_per_week), cur_basal)
    over = t.it_mg_per_day > week_cap * (1 + EPS)
    checks = _flag(checks, over, Check.MAX_INCREASE_WEEK)
    return t.with_(it_mg_per_day=np.where(over, week_cap, t.it_mg_per_day)), checks


def limit_decrease(t: Prescription, checks: IntArray, ctx: Context
                   ) -> tuple[Prescription, IntArray]:
    """Limit a basal decrease not forced by the interlock (no alarm today or latched) to
    `max_decrease_per_day` (abrupt falls cause withdrawal)."""
    lt = ctx.latch
    floor = ctx.current_basal * (1.0 - ctx.bounds.max_decrease_per_day)
    under = (t.it_mg_per_day < floor * (1 - EPS)) & ~lt.new_alarm & ~lt.is_latched
    checks = _flag(checks, under, Check.MAX_DECREASE_DAY)
    return t.with_(it_mg_per_day=np.where(under, floor, t.it_mg_per_day)), checks


def limit_daily_dose(t: Prescription, checks: IntArray, ctx: Context
                     ) -> tuple[Prescription, IntArray]:
    """A basal dose above the library's maximum daily dose (hard; soft unless allowed) or the
    clinician's `max_daily_mg`, or a decrease below `min_daily_mg` not forced by the
    interlock: the current dose is held for a clinician, and reduced to the limit if even that
    is beyond (flagged HARD_LIMIT, SOFT_LIMIT or CLINICIAN_BOUND)."""
    bounds, lt = ctx.bounds, ctx.latch
    cur_basal = ctx.current_basal
    basal = t.it_mg_per_day
    lib_daily, lib_daily_flag = _library_cap(ctx.library.max_daily_mg, bounds)
    for limit, code in ((lib_daily, lib_daily_flag),
                        (bounds.max_daily_mg, int(Check.CLINICIAN_BOUND))):
        over = basal > limit * (1 + EPS)
        checks = _flag(checks, over, code)
        basal = np.where(over, np.minimum(cur_basal, limit), basal)
    below = ((basal < bounds.min_daily_mg * (1 - EPS)) & (basal < cur_basal) & ~lt.is_latched
             & ~lt.new_alarm)
    checks = _flag(checks, below, Check.CLINICIAN_BOUND)
    basal = np.where(below, np.minimum(cur_basal, bounds.min_daily_mg), basal)
    return t.with_(it_mg_per_day=basal), checks


def limit_bolus(t: Prescription, checks: IntArray, ctx: Context) -> tuple[Prescription, IntArray]:
    """A bolus dose above the library's maximum bolus or the clinician's `max_bolus_mg`, more
    boluses per day than `max_boluses_per_day`, or a lockout shorter than `min_lockout_min`:
    the current setting is kept, made to fit if even that is beyond."""
    bounds, cur = ctx.bounds, ctx.current
    bolus, maxb, lockout = t.bolus_mg, t.max_boluses_per_day, t.lockout_min
    lib_bolus, lib_bolus_flag = _library_cap(ctx.library.max_bolus_mg, bounds)
    for limit, code in ((lib_bolus, lib_bolus_flag),
                        (bounds.max_bolus_mg, int(Check.CLINICIAN_BOUND))):
        over = bolus > limit * (1 + EPS)
        checks = _flag(checks, over, code)
        bolus = np.where(over, np.minimum(cur.bolus_mg, limit), bolus)
    over = maxb > bounds.max_boluses_per_day
    checks = _flag(checks, over, Check.CLINICIAN_BOUND)
    maxb = np.where(over, np.minimum(cur.max_boluses_per_day, bounds.max_boluses_per_day), maxb)
    short = lockout < bounds.min_lockout_min
    checks = _flag(checks, short, Check.CLINICIAN_BOUND)
    lockout = np.where(short, np.maximum(cur.lockout_min, bounds.min_lockout_min), lockout)
    return t.with_(bolus_mg=bolus, max_boluses_per_day=maxb, lockout_min=lockout), checks


def limit_daily_allowance(t: Prescription, checks: IntArray, ctx: Context
                          ) -> tuple[Prescription, IntArray]:
    """The whole day's allowance (basal + every allowed bolus) within the smaller daily
    maximum (library or clinician): fewer boluses per day where it is beyond, flagged by the
    limit that binds."""
    bounds = ctx.bounds
    lib_daily, lib_daily_flag = _library_cap(ctx.library.max_daily_mg, bounds)
    basal, bolus, maxb = t.it_mg_per_day, t.bolus_mg, t.max_boluses_per_day
    daily_limit = min(lib_daily, bounds.max_daily_mg)
    room = np.maximum(daily_limit - basal, 0.0)
    over = bolus * maxb > room * (1 + EPS) + 1e-12
    flag_daily = lib_daily_flag if lib_daily <= bounds.max_daily_mg else int(
        Check.CLINICIAN_BOUND)
    checks = _flag(checks, over, flag_daily)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        fit = np.where(bolus > 0, np.floor(room / np.where(bolus > 0, bolus, 1.0) + EPS), maxb)
    fit = np.nan_to_num(fit, nan=0.0, posinf=1e9)
    maxb = np.where(over, np.minimum(maxb, fit).astype(np.int64), maxb)
    return t.with_(max_boluses_per_day=maxb), checks


def apply_latch(t: Prescription, checks: IntArray, ctx: Context) -> tuple[Prescription, IntArray]:
    """While an alarm is latched: basal at most the latch's cap (0: stopped), boluses off, a
    flat program; a cut to the cap of an alarm latched before is flagged ALARM_LATCHED."""
    lt = ctx.latch
    is_latched = lt.is_latched
    basal = t.it_mg_per_day
    capped = is_latched & (basal > lt.cap_mg)
    checks = _flag(checks, capped & ~lt.new_alarm, Check.ALARM_LATCHED)
    return t.with_(
        it_mg_per_day=np.where(is_latched, np.minimum(basal, lt.cap_mg), basal),
        bolus_mg=np.where(is_latched, 0.0, t.bolus_mg),
        max_boluses_per_day=np.where(is_latched, 0, t.max_boluses_per_day),
        flex=np.where(is_latched[:, None], 1.0, t.flex),
    ), checks


def keep_deliverable(t: Prescription, checks: IntArray, ctx: Context
                     ) -> tuple[Prescription, IntArray]:
    """A running basal dose below the lowest deliverable rate (`min_rate_mg_per_day`): the
    current dose is kept if deliverable (CLINICIAN_BOUND), else the pump stops; a latched
    alarm's reduction always stops (ALARM_LATCHED)."""
    is_latched = ctx.latch.is_latched
    min_rate = ctx.bounds.min_rate_mg_per_day
    cur_basal = ctx.current_basal
    basal = t.it_mg_per_day
    undeliverable = (basal > 0) & (basal < min_rate * (1 - EPS))
    keep = undeliverable & ~is_latched & (cur_basal >= min_rate)
    checks = _flag(checks, undeliverable & ~is_latched, Check.CLINICIAN_BOUND)
    checks = _flag(checks, undeliverable & is_latched, Check.ALARM_LATCHED)
    return t.with_(it_mg_per_day=np.where(undeliverable, np.where(keep, cur_basal, 0.0),
                                          basal)), checks


def limit_flex(t: Prescription, checks: IntArray, ctx: Context) -> tuple[Prescription, IntArray]:
    """Flex multipliers above `max_flex`, or below `min_flex` or the share of the dose that
    keeps every hour at the lowest deliverable rate: the shape is refused (FLEX_BOUND), the
    current one kept if it is within the range, else a flat program (not while latched: the
    latch already made it flat)."""
    bounds = ctx.bounds
    basal = t.it_mg_per_day
    low = np.where(basal > 0, np.maximum(bounds.min_flex,
                                         bounds.min_rate_mg_per_day / np.maximum(basal, 1e-12)),
                   0.0)[:, None]

    def outside(shape: Array) -> BoolArray:
        out: BoolArray = np.any(shape > bounds.max_flex + EPS, axis=1) | np.any(
            shape < low - EPS, axis=1)
        return out

    bad_flex = ~ctx.latch.is_latched & outside(t.flex)
    checks = _flag(checks, bad_flex, Check.FLEX_BOUND)
    fallback = np.where(outside(ctx.current.flex)[:, None], 1.0, ctx.current.flex)
    return t.with_(flex=np.where(bad_flex[:, None], fallback, t.flex)), checks


def drop_unusable_bolus(t: Prescription, checks: IntArray, ctx: Context
                        ) -> tuple[Prescription, IntArray]:
    """No allowed boluses means no patient bolus (a bolus dose none may take is no program);
    a consequence of earlier stages, so not flagged again."""
    return t.with_(bolus_mg=np.where(t.max_boluses_per_day < 1, 0.0, t.bolus_mg)), checks


#: The stages after `validate`, in the order `supervise` runs them.
STAGES: tuple[Stage, ...] = (
    flag_alarms,
    gate_increases,
    hold_cannot_help,
    limit_step,
    limit_week,
    limit_decrease,
    limit_daily_dose,
    limit_bolus,
    limit_daily_allowance,
    apply_latch,
    keep_deliverable,
    limit_flex,
    drop_unusable_bolus,
)
