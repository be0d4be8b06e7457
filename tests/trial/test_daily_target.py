"""`it-daily-target` (treat-to-target with daily steps) runs in a trial and stays within the
drug library's limits: the maximum daily dose and bolus, the maximum step per change and the
minimum interval between increases; each program change counts as a clinic visit."""

from __future__ import annotations

import numpy as np

from idds.control.bounds import LibraryLimits
from idds.control.target import DailyTargetController
from idds.drugs import load_library
from idds.physiology import sample_cohort
from idds.trial import TrialSettings
from idds.trial.arms import ArmContext
from idds.trial.batch import simulate_batch
from idds.trial.registry import ARMS
from tests.control.helpers import observations

LIBRARY = load_library()
LIMITS = LibraryLimits.from_drug(LIBRARY.drug("morphine"))
EPS = 1e-9


def _context(n: int, seed: int) -> ArmContext:
    cohort = sample_cohort(n, seed=seed)
    return ArmContext(prior_oral_mg_per_day=cohort.prior_oral_morphine_mg_per_day.copy(),
                      policy=LIBRARY.conversion, morphine=LIBRARY.drug("morphine"),
                      hidden_cohort=cohort)


def test_it_is_registered_and_built_from_the_library() -> None:
    arm = ARMS["it-daily-target"]
    context = _context(2, seed=1)
    ctl = arm.controller(context, arm.run_bounds(context))  # type: ignore[attr-defined]
    assert isinstance(ctl, DailyTargetController)
    assert LIMITS.max_increase_fraction is not None
    assert LIMITS.min_hours_between_increases is not None
    assert ctl.titration.increase == LIMITS.max_increase_fraction.value  # 20%
    assert ctl.min_hours_between_increases == LIMITS.min_hours_between_increases.value  # 24 h


def test_a_trial_runs_and_stays_within_the_library() -> None:
    cohort = sample_cohort(24, seed=5)
    [run] = simulate_batch(cohort, [ARMS["it-daily-target"]], LIBRARY, TrialSettings(days=21))
    basal = run.history["it_programmed_mg_per_day"]  # (days, n), NaN after a death
    assert LIMITS.max_daily_mg is not None and LIMITS.max_increase_fraction is not None
    assert np.nanmax(basal) <= LIMITS.max_daily_mg.value + EPS
    ratio = basal[1:] / basal[:-1]
    with np.errstate(invalid="ignore"):
        up = ratio > 1 + EPS
        assert not np.any(ratio > 1 + LIMITS.max_increase_fraction.value + 1e-6)
    # increases at least the library's interval (24 h) apart; the supervisor's 72 h in fact
    for i in range(cohort.n):
        days = np.flatnonzero(up[:, i])
        assert np.all(np.diff(days) >= 3)
    assert up.any()  # some patients above target were stepped up
    assert np.nansum(run.visits) > 0  # programming sessions counted


def test_the_bolus_stays_within_the_library_and_changes_count_as_visits() -> None:
    arm = ARMS["it-daily-target"]
    context = _context(4, seed=3)
    cur, memory = arm.start(context), None
    assert LIMITS.max_bolus_mg is not None
    for day in range(12):
        obs = observations(n=4, day=day, diary_mean_nrs=[7.0, 5.0, 2.0, 6.0],
                           sedation_max=[1.0, 1.0, 1.0, 3.0 if day == 8 else 1.0])
        d = arm.decide(obs, cur, context, memory)
        assert np.all(d.therapy.bolus_mg <= LIMITS.max_bolus_mg.value + EPS)
        changed = ~np.isclose(d.therapy.it_mg_per_day, cur.it_mg_per_day)
        assert np.all(d.visit[changed])
        cur, memory = d.therapy, d.memory
    assert cur.it_mg_per_day[2] == arm.start(context).it_mg_per_day[2]  # controlled: held
