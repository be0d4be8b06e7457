"""The treat-to-target rule with daily steps (`idds.control.target`): observations in,
decision and reason out."""

from __future__ import annotations

import numpy as np

from idds.control.reasons import Reason
from idds.control.target import DailyTargetController
from tests.control.helpers import observations, therapy

CTL = DailyTargetController()


def _decide(obs_values: dict[str, object], n: int = 1, **kw: object):  # type: ignore[no-untyped-def]
    cur = therapy(n=n, **kw)  # type: ignore[arg-type]
    state = CTL.initial(cur)
    rec, after = CTL.recommend(state, observations(n=n, day=5, **obs_values), cur)
    return cur, rec, after


def test_above_target_without_limiting_side_effects_steps_up_by_the_library_step() -> None:
    _, rec, _ = _decide({"diary_mean_nrs": 6.0, "side_effect_burden": 2.0}, it_mg=4.0)
    assert rec.reasons[0] == Reason.INCREASE_UNCONTROLLED
    assert np.allclose(rec.therapy.it_mg_per_day, [4.8])
    assert np.allclose(rec.therapy.bolus_mg, [0.48])  # 10% of the new dose
    assert np.isnan(rec.predicted_nrs[0])  # a rule makes no prediction


def test_each_branch_gives_its_reason() -> None:
    n = 6
    obs = {"diary_mean_nrs": [6.0, 6.0, 6.0, 6.0, 2.0, None],
           "side_effect_burden": [1.0, 5.0, 7.0, 1.0, 1.0, 1.0],
           "sedation_max": [1.0, 1.0, 1.0, 3.0, 1.0, 1.0]}
    _, rec, _ = _decide(obs, n=n, it_mg=4.0)
    assert [Reason(int(r)) for r in rec.reasons] == [
        Reason.INCREASE_UNCONTROLLED,   # uncontrolled, burden low
        Reason.HOLD_SIDE_EFFECTS,       # burden 4-6 limits
        Reason.DECREASE_SIDE_EFFECTS,   # burden >= 6
        Reason.DECREASE_SIDE_EFFECTS,   # POSS 3 (Pasero)
        Reason.HOLD_CONTROLLED,         # at target: no trim
        Reason.HOLD_NO_DATA,            # no diary: hold
    ]
    assert np.allclose(rec.therapy.it_mg_per_day, [4.8, 4.0, 3.0, 3.0, 4.0, 4.0])


def test_slow_breathing_reduces() -> None:
    _, rec, _ = _decide({"diary_mean_nrs": 6.0, "respiratory_rate_min": 9.0}, it_mg=4.0)
    assert rec.reasons[0] == Reason.DECREASE_SIDE_EFFECTS
    assert np.allclose(rec.therapy.it_mg_per_day, [3.0])


def test_no_increase_within_the_library_interval_after_the_last_one() -> None:
    ctl = DailyTargetController(min_hours_between_increases=48.0)
    cur = therapy(it_mg=4.0)
    state = ctl.initial(cur)
    obs = {"diary_mean_nrs": 6.0}
    rec, state = ctl.recommend(state, observations(day=5, **obs), cur)
    assert rec.reasons[0] == Reason.INCREASE_UNCONTROLLED  # the start was long ago
    up = rec.therapy  # delivered on day 6
    rec, state = ctl.recommend(state, observations(day=6, **obs), up)
    assert rec.reasons[0] == Reason.HOLD_INTERVAL  # 24 h after the increase
    assert np.allclose(rec.therapy.it_mg_per_day, up.it_mg_per_day)
    rec, state = ctl.recommend(state, observations(day=7, **obs), up)
    assert rec.reasons[0] == Reason.INCREASE_UNCONTROLLED  # 48 h after it


def test_refused_presses_on_a_held_day_allow_one_more_bolus_a_day() -> None:
    _, rec, _ = _decide({"diary_mean_nrs": 2.5, "presses_per_day": 3.0,
                         "refused_per_day": 1.0}, it_mg=4.0)
    assert rec.reasons[0] == Reason.ADJUST_BOLUS
    assert list(rec.therapy.max_boluses_per_day) == [5]
    assert np.allclose(rec.therapy.it_mg_per_day, [4.0])
    _, rec, _ = _decide({"diary_mean_nrs": 2.5, "presses_per_day": 3.0, "refused_per_day": 1.0,
                         "side_effect_burden": 5.0}, it_mg=4.0)
    assert list(rec.therapy.max_boluses_per_day) == [4]  # not while side effects limit


def test_the_bolus_is_never_cut_on_an_increase() -> None:
    _, rec, _ = _decide({"diary_mean_nrs": 7.0}, it_mg=0.6, bolus_mg=0.1)
    assert rec.reasons[0] == Reason.INCREASE_UNCONTROLLED
    assert np.allclose(rec.therapy.bolus_mg, [0.1])


def test_a_reduction_never_goes_below_the_lowest_daily_dose() -> None:
    ctl = DailyTargetController(min_daily_mg=0.96)
    cur = therapy(it_mg=1.0)
    rec, _ = ctl.recommend(ctl.initial(cur), observations(day=5, sedation_max=3.0), cur)
    assert rec.reasons[0] == Reason.DECREASE_SIDE_EFFECTS
    assert np.allclose(rec.therapy.it_mg_per_day, [0.96])
