"""The supervisor's stages one by one: each changes only what its limit forbids, flags it, and
leaves its inputs as they were."""

from __future__ import annotations

import copy
from dataclasses import fields

import numpy as np
import pytest

from idds.control import stages
from idds.control.bounds import ClinicianBounds, LibraryLimits
from idds.control.observations import Observations
from idds.control.prescription import HOURS, Prescription
from idds.control.recommendation import Recommendation
from idds.control.stages import STAGES, Context, latch
from idds.control.supervisor import Check, SupervisorState, supervise
from idds.drugs import load_library
from tests.control.helpers import observations, therapy

LIBRARY = LibraryLimits.from_drug(load_library().drug("morphine"))
BOUNDS = ClinicianBounds()
NONE = np.zeros(1, dtype=np.int64)


def context(cur: Prescription, obs: Observations | None = None,
            bounds: ClinicianBounds = BOUNDS, state: SupervisorState | None = None,
            library: LibraryLimits = LIBRARY) -> Context:
    """A stage context on `cur`, calm observations on day 10, last increase long ago."""
    obs = observations(n=cur.n, day=10) if obs is None else obs
    state = SupervisorState.start(cur, day=-10) if state is None else state
    lt = latch(state.latched, state.alarm_cap_mg, state.pre_alarm_mg, obs, cur, bounds)
    return Context(current=cur, obs=obs, bounds=bounds, library=library, latch=lt,
                   last_increase_day=state.last_increase_day,
                   recent_daily_mg=state.recent_daily_mg)


def run(stage: stages.Stage, proposed: Prescription, ctx: Context,
        checks: np.ndarray = NONE) -> tuple[Prescription, int]:
    out, flags = stage(proposed, checks, ctx)
    return out, int(flags[0])


def same(a: Prescription, b: Prescription) -> bool:
    return all(np.array_equal(getattr(a, f.name), getattr(b, f.name)) for f in fields(a))


def test_validate_keeps_well_formed_rows_and_refuses_the_others() -> None:
    cur = therapy(n=2, it_mg=4.0)
    rec = cur.with_(it_mg_per_day=np.array([5.0, np.nan]))
    out, checks = stages.validate(rec, cur)
    assert list(out.it_mg_per_day) == [5.0, 4.0]
    assert list(checks) == [0, Check.INVALID]
    odd = Prescription.oral(np.zeros(3), np.zeros(3))  # three rows for two patients
    out, checks = stages.validate(odd, cur)
    assert same(out, cur) and np.all(checks == Check.INVALID)


def test_flag_alarms_flags_new_and_latched_alarms_only() -> None:
    cur = therapy(it_mg=6.0)
    up = cur.with_(it_mg_per_day=np.array([7.0]))
    alarm = observations(sedation_max=3, respiratory_rate_min=9.5)
    out, flags = run(stages.flag_alarms, up, context(cur, alarm))
    assert out is up and flags == Check.ALARM_NEW
    state = SupervisorState.start(cur, day=-10)
    state = SupervisorState(state.day, state.last_increase_day, state.recent_daily_mg,
                            np.array([2]), np.array([3.0]), np.array([6.0]))
    _, flags = run(stages.flag_alarms, up, context(cur, state=state))
    assert flags == Check.ALARM_LATCHED
    assert run(stages.flag_alarms, up, context(cur))[1] == 0


@pytest.mark.parametrize(("obs", "flag"), [
    (observations(sedation_max=3), Check.INTERLOCK_WARNING),
    (observations(sedation_max=3, diary_mean_nrs=None), Check.INTERLOCK_WARNING),  # first gate
    (observations(diary_mean_nrs=None), Check.STALE_DIARY),
    (observations(diary_entries=2), Check.STALE_DIARY),
    (observations(days_since_diary=2), Check.STALE_DIARY),
])
def test_gate_increases_refuses_an_increase_and_names_the_first_gate(obs: Observations,
                                                                   flag: Check) -> None:
    cur = therapy(it_mg=4.0, bolus_mg=0.2, max_boluses=2)
    up = cur.with_(it_mg_per_day=np.array([4.4]), max_boluses_per_day=np.array([3]))
    out, flags = run(stages.gate_increases, up, context(cur, obs))
    assert flags == flag
    assert same(out, cur)
    down = cur.with_(it_mg_per_day=np.array([3.5]))
    out, flags = run(stages.gate_increases, down, context(cur, obs))
    assert flags == 0 and same(out, down)


def test_gate_increases_monitoring_window_and_restart() -> None:
    cur = therapy(it_mg=4.0)
    up = cur.with_(it_mg_per_day=np.array([4.4]))
    recent = SupervisorState.start(cur, day=9)  # increased yesterday: 24 h < 72 h
    out, flags = run(stages.gate_increases, up, context(cur, state=recent))
    assert flags == Check.MONITORING_WINDOW and out.it_mg_per_day[0] == 4.0
    stopped = therapy(it_mg=0.0, bolus_mg=0.0)
    out, flags = run(stages.gate_increases, stopped.with_(it_mg_per_day=np.array([1.0])),
                     context(stopped))
    assert flags == Check.RESTART and out.it_mg_per_day[0] == 0.0


def test_limit_step_reduces_to_the_smaller_step_library_or_clinician() -> None:
    cur = therapy(it_mg=4.0, bolus_mg=0.2, max_boluses=2)
    up = cur.with_(it_mg_per_day=np.array([6.0]))
    out, flags = run(stages.limit_step, up, context(cur))
    assert flags == Check.MAX_INCREASE_PER_DAY and out.it_mg_per_day[0] == pytest.approx(4.8)
    strict = ClinicianBounds(max_increase_per_day=0.1)
    out, _ = run(stages.limit_step, up, context(cur, bounds=strict))
    assert out.it_mg_per_day[0] == pytest.approx(4.4)
    loose = ClinicianBounds(max_increase_per_day=0.3,
                            allowed_soft_limits=frozenset({"max_increase_percent"}))
    out, _ = run(stages.limit_step, up, context(cur, bounds=loose))
    assert out.it_mg_per_day[0] == pytest.approx(5.2)  # the soft library step allowed
    more = cur.with_(max_boluses_per_day=np.array([4]))  # allowance 0.4 -> 0.8 mg/day
    out, flags = run(stages.limit_step, more, context(cur))
    assert flags == Check.MAX_INCREASE_PER_DAY
    assert out.bolus_mg[0] * out.max_boluses_per_day[0] == pytest.approx(0.48)
    assert same(run(stages.limit_step, cur, context(cur))[0], cur)


def test_limit_week_caps_over_the_lowest_dose_of_the_week() -> None:
    cur = therapy(it_mg=4.0)
    state = SupervisorState.start(cur, day=-10)
    ring = state.recent_daily_mg.copy()
    ring[0] = 2.8
    state = SupervisorState(state.day, state.last_increase_day, ring, state.latched,
                            state.alarm_cap_mg, state.pre_alarm_mg)
    out, flags = run(stages.limit_week, cur.with_(it_mg_per_day=np.array([4.8])),
                     context(cur, state=state))
    assert flags == Check.MAX_INCREASE_WEEK and out.it_mg_per_day[0] == pytest.approx(4.2)


def test_limit_decrease_unless_the_interlock_forces_it() -> None:
    cur = therapy(it_mg=10.0)
    cut = cur.with_(it_mg_per_day=np.array([5.0]))
    out, flags = run(stages.limit_decrease, cut, context(cur))
    assert flags == Check.MAX_DECREASE_DAY and out.it_mg_per_day[0] == pytest.approx(7.0)
    alarm = observations(sedation_max=4)
    out, flags = run(stages.limit_decrease, cut, context(cur, alarm))
    assert flags == 0 and out.it_mg_per_day[0] == 5.0


def test_limit_daily_dose_holds_the_current_dose_for_a_clinician() -> None:
    cur = therapy(it_mg=14.0)
    out, flags = run(stages.limit_daily_dose, cur.with_(it_mg_per_day=np.array([16.0])),
                     context(cur))
    assert flags == Check.SOFT_LIMIT and out.it_mg_per_day[0] == 14.0  # the library's, first
    tight = ClinicianBounds(max_daily_mg=10.0)  # even the current dose is beyond: reduced
    out, flags = run(stages.limit_daily_dose, cur.with_(it_mg_per_day=np.array([16.0])),
                     context(cur, bounds=tight))
    assert flags == Check.SOFT_LIMIT | Check.CLINICIAN_BOUND and out.it_mg_per_day[0] == 10.0
    low = ClinicianBounds(min_daily_mg=2.0)
    cur = therapy(it_mg=3.0)
    out, flags = run(stages.limit_daily_dose, cur.with_(it_mg_per_day=np.array([1.0])),
                     context(cur, bounds=low))
    assert flags == Check.CLINICIAN_BOUND and out.it_mg_per_day[0] == 2.0


def test_limit_bolus_keeps_the_current_bolus_settings() -> None:
    cur = therapy(it_mg=4.0, bolus_mg=0.3, max_boluses=4, lockout_min=120.0)
    rec = cur.with_(bolus_mg=np.array([0.8]), max_boluses_per_day=np.array([10]),
                    lockout_min=np.array([30.0]))
    out, flags = run(stages.limit_bolus, rec, context(cur))
    assert flags == Check.SOFT_LIMIT | Check.CLINICIAN_BOUND
    assert (out.bolus_mg[0], out.max_boluses_per_day[0], out.lockout_min[0]) == (0.3, 4, 120.0)


def test_limit_daily_allowance_takes_boluses_away() -> None:
    cur = therapy(it_mg=14.0, bolus_mg=0.5, max_boluses=6)
    out, flags = run(stages.limit_daily_allowance, cur, context(cur))
    assert flags == Check.SOFT_LIMIT  # the library's 15 mg/day binds first (equal limits)
    assert out.max_boluses_per_day[0] == 2


def test_apply_latch_caps_stops_boluses_and_flattens() -> None:
    cur = therapy(it_mg=6.0, bolus_mg=0.3)
    state = SupervisorState.start(cur, day=-10)
    state = SupervisorState(state.day, state.last_increase_day, state.recent_daily_mg,
                            np.array([2]), np.array([3.0]), np.array([6.0]))
    flex = np.linspace(0.5, 1.5, HOURS)[None, :]
    out, flags = run(stages.apply_latch, cur.with_(flex=flex), context(cur, state=state))
    assert flags == Check.ALARM_LATCHED
    assert out.it_mg_per_day[0] == 3.0 and out.bolus_mg[0] == 0
    assert out.max_boluses_per_day[0] == 0 and np.all(out.flex == 1.0)
    assert same(run(stages.apply_latch, cur, context(cur))[0], cur)


def test_keep_deliverable_keeps_a_deliverable_dose_else_stops() -> None:
    bounds = ClinicianBounds(min_rate_mg_per_day=0.96)
    cur = therapy(n=2, it_mg=[4.0, 0.5])
    rec = cur.with_(it_mg_per_day=np.array([0.5, 0.4]))
    out, flags = stages.keep_deliverable(rec, np.zeros(2, dtype=np.int64),
                                         context(cur, bounds=bounds))
    assert list(out.it_mg_per_day) == [4.0, 0.0]
    assert list(flags) == [Check.CLINICIAN_BOUND, Check.CLINICIAN_BOUND]


def test_limit_flex_refuses_a_shape_outside_the_range() -> None:
    cur = therapy(it_mg=4.0)
    peak = np.ones(HOURS)
    peak[8] = 4.0
    peak = peak / peak.mean()
    out, flags = run(stages.limit_flex, cur.with_(flex=peak[None, :]), context(cur))
    assert flags == Check.FLEX_BOUND and np.all(out.flex == 1.0)
    mild = np.where(np.arange(HOURS) < 12, 1.2, 0.8)[None, :]
    out, flags = run(stages.limit_flex, cur.with_(flex=mild), context(cur))
    assert flags == 0 and np.array_equal(out.flex, mild)


def test_drop_unusable_bolus() -> None:
    cur = therapy(it_mg=4.0, bolus_mg=0.2)
    out, flags = run(stages.drop_unusable_bolus, cur.with_(max_boluses_per_day=np.array([0])),
                     context(cur))
    assert out.bolus_mg[0] == 0 and flags == 0


def test_no_stage_changes_its_inputs() -> None:
    cur = therapy(n=3, it_mg=[4.0, 14.0, 0.5], bolus_mg=0.3)
    rec = cur.with_(it_mg_per_day=np.array([9.0, 16.0, 0.2]),
                    max_boluses_per_day=np.array([9, 9, 0]), lockout_min=np.full(3, 10.0))
    obs = observations(n=3, sedation_max=[1, 3, 4], respiratory_rate_min=[15, 9, 15])
    ctx = context(cur, obs, bounds=ClinicianBounds(min_rate_mg_per_day=0.96))
    checks = np.array([0, int(Check.INVALID), 0], dtype=np.int64)
    for stage in STAGES:
        before_t, before_c, before_ctx = copy.deepcopy((rec, checks, ctx))
        stage(rec, checks, ctx)
        assert same(rec, before_t) and np.array_equal(checks, before_c), stage.__name__
        assert same(ctx.current, before_ctx.current), stage.__name__


def test_supervise_is_the_composition_of_the_stages_in_order() -> None:
    cur = therapy(n=3, it_mg=[4.0, 14.0, 6.0], bolus_mg=0.3)
    rec = Recommendation(cur.with_(it_mg_per_day=np.array([9.0, 16.0, 3.0])),
                         np.zeros(3, dtype=np.int64), np.full(3, np.nan))
    obs = observations(n=3, sedation_max=[1, 1, 3], respiratory_rate_min=[15, 15, 9])
    state = SupervisorState.start(cur, day=-10)
    decision, _ = supervise(state, obs, cur, rec, BOUNDS, LIBRARY)
    ctx = context(cur, obs, state=state)
    out, checks = stages.validate(rec.therapy, cur)
    for stage in STAGES:
        out, checks = stage(out, checks, ctx)
    assert same(out, decision.therapy) and np.array_equal(checks, decision.checks)
    assert list(decision.checks) == [Check.MAX_INCREASE_PER_DAY, Check.SOFT_LIMIT, Check.ALARM_NEW]
