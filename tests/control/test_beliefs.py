"""What the intelligent controller says it believes, and how honest its forecasts are: the
credible intervals hold the fixture patients' true values, the predictive interval holds about
80% of next-day diaries on patients the model describes, and the summaries are exact
quantiles of the posterior."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from idds.control.beliefs import FORECAST_LEVEL, Explanation, mixture_quantile, weighted_quantiles
from idds.control.bounds import ClinicianBounds
from idds.control.intelligent import IntelligentController
from idds.control.loop import closed_loop_step, start_loop
from tests.control.helpers import observations, therapy
from tests.control.test_scenarios import LIBRARY, load, run_synthetic


def _explain(case_name: str) -> tuple[dict[str, float], Explanation]:
    case = load(case_name)
    ctl = IntelligentController()
    d, nrs, _, loop = run_synthetic(ctl, case)
    cur = therapy(it_mg=float(d[-1]))
    obs = observations(day=case["first_day"] + case["days"], window_days=1,
                       diary_mean_nrs=round(nrs, 1), diary_entries=3)
    return case["patient"], ctl.explain(loop.controller, obs, cur, cur)[0]


def test_poor_responder_is_believed_a_poor_responder() -> None:
    patient, ex = _explain("poor_responder.json")
    relief = ex.beliefs.max_relief
    assert relief.low <= patient["max_relief"] <= relief.high
    assert relief.high <= 0.6  # a good responder (0.75 or more) is ruled out
    ed50 = ex.beliefs.ed50_mg_per_day
    assert ed50.low <= patient["ed50_mg_per_day"] <= ed50.high
    # It says why it holds: no dose reaches the target, so the forecast is far above it.
    assert ex.current.in_target < 0.1
    assert any("highest expected utility" in line for line in ex.lines())


def test_a_good_responder_is_believed_one() -> None:
    patient, ex = _explain("fast_progression.json")
    relief = ex.beliefs.max_relief
    assert relief.low >= 0.6 and relief.high >= patient["max_relief"]
    fc = ex.current
    assert fc.nrs_low <= fc.nrs <= fc.nrs_high


def test_forecast_interval_holds_80_percent_of_next_day_diaries() -> None:
    """Synthetic patients drawn near the estimator's prior, diary noise as the model states
    (1.2 NRS per entry, 3 entries a day, 0.3 NRS day-level spread): the next day's diary mean
    falls inside the 80% interval of the plan delivered 70-90% of the time."""
    rng = np.random.default_rng(1)
    n = 200
    relief = rng.choice([0.3, 0.5, 0.7, 0.85, 0.95], n)
    theta = np.exp(rng.normal(np.log(3.5), 0.7, n))
    drive = rng.uniform(8, 11, n)
    ctl = IntelligentController()
    cur = therapy(n=n, it_mg=2.0)
    loop = start_loop(ctl, cur)
    inside, prev = [], None
    for t in range(10, 40):
        u = (cur.it_mg_per_day / theta) ** 2.1
        day_mean = drive * (1 - relief * u / (1 + u)) + rng.normal(0, 0.3, n)
        diary = np.clip(day_mean + rng.normal(0, 1.2 / np.sqrt(3), n), 0, 10)
        if prev is not None:
            inside.append((diary >= prev.nrs_low) & (diary <= prev.nrs_high))
        obs = observations(n=n, day=t, window_days=1, diary_mean_nrs=np.round(diary, 1),
                           diary_entries=np.full(n, 3.0))
        step, loop = closed_loop_step(ctl, loop, obs, cur, ClinicianBounds(), LIBRARY)
        prev = ctl.forecast(loop.controller, obs, cur, step.decision.therapy, 1.0)
        cur = step.decision.therapy
    coverage = float(np.mean(inside))
    assert FORECAST_LEVEL - 0.1 <= coverage <= FORECAST_LEVEL + 0.1


@settings(max_examples=50, deadline=None)
@given(st.floats(-5, 5), st.floats(0.1, 3), st.floats(0.02, 0.98))
def test_mixture_quantile_of_one_component_is_the_normal_quantile(mu: float, sd: float,
                                                                    q: float) -> None:
    got = mixture_quantile(np.array([[mu]]), np.array([[sd]]), np.array([[1.0]]), q)[0]
    assert abs(got - norm.ppf(q, mu, sd)) < 1e-4  # 20 halvings of a 12-sd bracket


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 20), min_size=2, max_size=8), st.floats(0.05, 0.95))
def test_weighted_quantile_matches_the_repeated_sample(counts: list[int], q: float) -> None:
    values = np.arange(len(counts), dtype=np.float64)
    weights = np.asarray(counts, dtype=np.float64)[None, :] / sum(counts)
    got = weighted_quantiles(values, weights, (q,))[0, 0]
    sample = np.repeat(values, counts)
    assert got == np.quantile(sample, q, method="inverted_cdf")
