"""Every reason a controller or a titration rule gives reaches the trial's counts as itself."""

from __future__ import annotations

import numpy as np

from idds.control.recommendation import ControlReason
from idds.control.rules import PRACTICE
from idds.trial.arms import FROM_CONTROL, Reason, from_control, visit_decision
from tests.control.helpers import observations


def test_a_visit_that_trims_a_well_controlled_dose_is_counted_as_a_trim() -> None:
    # Diary 1.0 without presses: good practice trims the dose (PRACTICE.low_nrs = 1.5).
    obs = observations(n=3, diary_mean_nrs=[1.0, 2.5, 6.0], presses_per_day=0.0)
    factor, reasons = visit_decision(PRACTICE, obs)
    assert list(reasons) == [Reason.DECREASE_OVERCONTROLLED, Reason.HOLD_CONTROLLED,
                             Reason.INCREASE_UNCONTROLLED]
    assert factor[0] < 1.0 < factor[2]


def test_no_controller_reason_is_read_as_no_visit() -> None:
    codes = np.array([int(c) for c in ControlReason], dtype=np.int64)
    mapped = from_control(codes, Reason.HOLD_CONTROLLED)
    assert Reason.NO_VISIT not in set(mapped.tolist())
    assert all(Reason[c.name] == r for c, r in FROM_CONTROL.items())  # same words, same code
