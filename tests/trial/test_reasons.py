"""Every reason a controller or a titration rule gives reaches the trial's counts as itself."""

from __future__ import annotations

import numpy as np

from idds.control.reasons import CONTROLLER_REASONS, TEXT, Reason
from idds.control.rules import PRACTICE
from idds.trial.arms import REPORTED, from_control, visit_decision
from tests.control.helpers import observations


def test_a_visit_that_trims_a_well_controlled_dose_is_counted_as_a_trim() -> None:
    # Diary 1.0 without presses: good practice trims the dose (PRACTICE.low_nrs = 1.5).
    obs = observations(n=3, diary_mean_nrs=[1.0, 2.5, 6.0], presses_per_day=0.0)
    factor, reasons = visit_decision(PRACTICE, obs)
    assert list(reasons) == [Reason.DECREASE_OVERCONTROLLED, Reason.HOLD_CONTROLLED,
                             Reason.INCREASE_UNCONTROLLED]
    assert factor[0] < 1.0 < factor[2]


def test_no_controller_reason_is_read_as_no_visit() -> None:
    codes = np.array([int(c) for c in CONTROLLER_REASONS], dtype=np.int64)
    mapped = from_control(codes, Reason.HOLD_CONTROLLED)
    assert Reason.NO_VISIT not in set(mapped.tolist())
    assert REPORTED <= CONTROLLER_REASONS
    reported = np.array(sorted(REPORTED), dtype=np.int64)
    assert list(from_control(reported, Reason.NO_VISIT)) == list(reported)  # same words, same code


def test_one_vocabulary_with_one_text_each_and_the_trial_codes_unchanged() -> None:
    assert set(TEXT) == set(Reason) and all(r.text == TEXT[r] and r.text for r in Reason)
    # The trial counts reasons by code and writes them to metrics.json by name in code order.
    assert [r.name for r in Reason][:14] == [
        "NO_VISIT", "HOLD_CONTROLLED", "INCREASE_UNCONTROLLED", "HOLD_SIDE_EFFECTS",
        "DECREASE_SIDE_EFFECTS", "TAPER_SYSTEMIC", "HOLD_NO_DATA", "HELD_FOR_CLINICIAN",
        "ALARM_STOP", "HOLD_LITTLE_BENEFIT", "DECREASE_LITTLE_BENEFIT", "DECREASE_OVERCONTROLLED",
        "ROTATE_SIDE_EFFECTS", "RESCUE_KEPT"]
    assert [int(r) for r in Reason] == list(range(len(Reason)))
