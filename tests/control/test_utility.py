"""The intelligent controller's expected time in target and its waking-time margin
(`ResponseModel.waking_sd`, docs/control.md "The waking-time spread")."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from idds.control.estimator import DAY_SD, ResponseModel
from idds.control.intelligent import IntelligentController
from tests.control.helpers import observations, therapy


def _in_target(waking_sd: float, diary_nrs: float) -> float:
    """Expected share of the waking day in target at today's dose (4 mg/day IT) after ten days
    of diaries at `diary_nrs`, with no side effect and no value on relief."""
    c = IntelligentController(model=replace(ResponseModel(), waking_sd=waking_sd),
                              relief_value=0.0)
    t = therapy(it_mg=4.0)
    state = c.initial(t)
    for day in range(10):
        state = c.learn(state, observations(day=day, window_days=1, diary_mean_nrs=diary_nrs,
                                            diary_entries=3.0), t)
    doses = c.whole_dose(t, t.it_mg_per_day[:, None], np.zeros(1))
    by_k = c.utility_by_point(state.response, doses, np.ones((1, 1)))
    return float(by_k[0, 0] @ state.response.weights[0])


def test_the_spread_is_the_margin_and_the_day_means_own() -> None:
    assert ResponseModel(waking_sd=0.0).waking_spread == pytest.approx(DAY_SD)
    assert ResponseModel().waking_spread == pytest.approx(np.hypot(1.2, DAY_SD))


def test_a_narrow_spread_counts_a_day_well_below_target_all_in_and_one_above_all_out() -> None:
    assert _in_target(0.0, 2.0) > 0.95 > _in_target(1.2, 2.0)
    assert _in_target(0.0, 3.8) < 0.05 < _in_target(1.2, 3.8)
    # the 1.2 margin: a moment sits above the target on a fifth of a day at NRS 2
    assert 0.7 < _in_target(1.2, 2.0) < 0.9
