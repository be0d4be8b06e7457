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
- flex: multipliers outside the clinician's range are refused (current shape kept, else flat);
- cannot help: pain risen `loss_of_effect_nrs` above the week's best diary without a matching
  dose cut (no response: a catheter or pump failure, or progression), or no diary for
  `call_without_diary_days`: no increase, after a loss of effect the dose of the week's best
  day restored (within the per-day decrease), and held for a clinician.

Each check is a named pure stage of `idds.control.stages` (therapy and checks in, new therapy
and checks out); `supervise` is their composition: `validate`, then `STAGES` in order, then the
verdict and the new state.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

from idds.control.bounds import ClinicianBounds, LibraryLimits
from idds.control.checks import HOLDS_FOR_CLINICIAN, NEEDS_CLINICIAN, Check, describe
from idds.control.interlock import Level
from idds.control.observations import Observations
from idds.control.prescription import Prescription
from idds.control.recommendation import Recommendation
from idds.control.stages import EPS, STAGES, Context, latch, validate

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

__all__ = [
    "NEEDS_CLINICIAN",
    "WEEK",
    "Check",
    "SupervisorDecision",
    "SupervisorState",
    "Verdict",
    "describe",
    "reset_alarm",
    "supervise",
]

#: Days of applied basal doses kept for the per-week limit.
WEEK = 7


class Verdict(IntEnum):
    """What the supervisor did with a patient's recommendation, by increasing severity."""

    ACCEPTED = 0
    REDUCED = 1
    REFUSED = 2
    HELD_FOR_CLINICIAN = 3
    ALARM = 4

    @property
    def text(self) -> str:
        """What the verdict means for the clinician, in words (the one table of them)."""
        return _VERDICT_TEXT[self]


_VERDICT_TEXT = {
    Verdict.ACCEPTED: "accepted: the recommendation may be programmed as it is",
    Verdict.REDUCED: "reduced: a smaller change than recommended may be programmed",
    Verdict.REFUSED: "refused: the current program stays",
    Verdict.HELD_FOR_CLINICIAN: "held for a clinician: outside the clinician's bounds or a soft "
    "limit",
    Verdict.ALARM: "ALARM: interlock alarm: delivery reduced or stopped, boluses off",
}


@dataclass(frozen=True)
class SupervisorState:
    """What the supervisor remembers between decisions, arrays (n,) unless noted.

    day: the last day supervised (-1: none). last_increase_day: day of the last applied
    increase (-inf: none). recent_daily_mg: (WEEK, n) ring of delivered basal doses, mg/day,
    of the last days (for the per-week limit). latched: `Level` of a latched alarm (CLEAR: none).
    alarm_cap_mg: basal cap while latched, mg/day (inf: none). pre_alarm_mg: basal dose when
    the alarm latched, mg/day (for the clinician who restarts). recent_diary_nrs: (WEEK, n)
    ring of the diary means seen on those days (NaN: none; None: not remembered, as when the
    memory is rebuilt from a pump log: the loss-of-effect check then does not apply).
    """

    day: int
    last_increase_day: Array
    recent_daily_mg: Array
    latched: IntArray
    alarm_cap_mg: Array
    pre_alarm_mg: Array
    recent_diary_nrs: Array | None = None

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
            recent_diary_nrs=np.full((WEEK, n), np.nan),
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


def supervise(
    state: SupervisorState,
    obs: Observations,
    therapy: Prescription,
    recommendation: Recommendation,
    bounds: ClinicianBounds,
    library: LibraryLimits,
) -> tuple[SupervisorDecision, SupervisorState]:
    """Decide what to deliver tomorrow for each patient; see the module docstring. The stages
    (`idds.control.stages`): `validate`, then `STAGES` in order."""
    cur = therapy
    lt = latch(state.latched, state.alarm_cap_mg, state.pre_alarm_mg, obs, cur, bounds)
    ctx = Context(current=cur, obs=obs, bounds=bounds, library=library, latch=lt,
                  last_increase_day=state.last_increase_day,
                  recent_daily_mg=state.recent_daily_mg,
                  recent_diary_nrs=state.recent_diary_nrs)
    out, checks = validate(recommendation.therapy, cur)
    for stage in STAGES:
        out, checks = stage(out, checks, ctx)
    verdict = _verdict(out, cur, recommendation.therapy, checks, lt.is_latched | lt.new_alarm)
    return SupervisorDecision(out, verdict, checks), _remember(state, obs, ctx, out, checks)


def _remember(state: SupervisorState, obs: Observations, ctx: Context, out: Prescription,
              checks: IntArray) -> SupervisorState:
    """The supervisor's memory after delivering `out`: the day, the day of the last applied
    increase (a loss of effect counts as one: no increase in the monitoring window after it),
    the rings of delivered basal doses and of diary means, the latch."""
    basal = out.it_mg_per_day
    increased = (basal > ctx.current_basal * (1 + EPS)) | (
        out.bolus_mg * out.max_boluses_per_day > ctx.current_allowance * (1 + EPS) + 1e-12
    ) | ((checks & int(Check.LOSS_OF_EFFECT)) != 0)
    ring = np.roll(state.recent_daily_mg, -1, axis=0)
    ring[-1] = basal
    diary = None
    if state.recent_diary_nrs is not None:
        diary = np.roll(state.recent_diary_nrs, -1, axis=0)
        diary[-1] = obs.diary_mean_nrs
    return SupervisorState(
        day=obs.day,
        last_increase_day=np.where(increased, float(obs.day), state.last_increase_day),
        recent_daily_mg=ring,
        latched=ctx.latch.latched,
        alarm_cap_mg=ctx.latch.cap_mg,
        pre_alarm_mg=ctx.latch.pre_alarm_mg,
        recent_diary_nrs=diary,
    )


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
    held = (checks & int(HOLDS_FOR_CLINICIAN)) != 0
    verdict = np.select(
        [alarm, held, as_rec & (checks == 0), as_cur],
        [Verdict.ALARM, Verdict.HELD_FOR_CLINICIAN, Verdict.ACCEPTED, Verdict.REFUSED],
        default=Verdict.REDUCED,
    ).astype(np.int64)
    return verdict
