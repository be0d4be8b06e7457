"""After an alarm stop, the clinician restarts every opioid at a reduced dose (issue 20).

Seed 0's patient 52 (and seed 1's patient 82) are sedated to POSS 4 on day 1 while the
systemic taper runs: every closed-loop arm stops all opioids. Restarting the pump at half its
dose beside the taper's full oral dose, after two days without opioid, gave respiratory
depression (rate 5.2/min, then 4.3/min after the next stop) in every closed-loop arm, the
oracle's too. The systemic opioid restarts at the same reduced share as the pump."""

from __future__ import annotations

import numpy as np
import pytest

from idds.drugs import load_library
from idds.physiology import sample_cohort
from idds.trial.batch import simulate_batch
from idds.trial.controlled_arms import RESTART_FRACTION
from idds.trial.engine import TrialSettings
from idds.trial.registry import arm
from idds.trial.taper import Taper


@pytest.mark.parametrize(("seed", "index"), [(0, 52), (1, 82)])
def test_a_restart_after_an_alarm_stop_gives_no_respiratory_depression(seed: int,
                                                                       index: int) -> None:
    cohort = sample_cohort(indices=[index], seed=seed)
    [run] = simulate_batch(cohort, [arm("it-rule-based")], load_library(), TrialSettings(days=8))
    h = run.history
    stopped = np.flatnonzero((h["it_mg"][:, 0] == 0) & (h["oral_mg"][:, 0] == 0))
    assert stopped.size, "the patient's alarm stops every opioid"
    restart = int(stopped[-1]) + 1  # the first day after the stop (0-based)
    assert h["it_mg"][restart, 0] > 0
    # the systemic opioid resumes at the reduced share of the taper's dose for that day
    prior = float(cohort.prior_oral_morphine_mg_per_day[0])
    taper_share = Taper().share(restart)
    assert h["oral_programmed_mg_per_day"][restart, 0] == pytest.approx(
        prior * taper_share * RESTART_FRACTION, rel=1e-5)
    assert np.nansum(h["respiratory_events"]) == 0
    assert np.nanmin(h["respiratory_rate_min"][restart:]) >= 10
