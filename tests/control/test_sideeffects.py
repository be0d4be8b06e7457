"""Side-effect sensitivity learned per patient (`idds.control.sideeffects`): the estimate finds
a patient's own sensitivity to the intrathecal and the oral dose from the reported burden, its
90% interval holds the truth about as often as it says, the controller values a dose by the
time in target it leaves after side effects, and explains both."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from idds.control import sideeffects
from idds.control.bounds import ClinicianBounds
from idds.control.daily import DailyState, recover
from idds.control.intelligent import CANDIDATES_MG, IntelligentController
from idds.control.loop import closed_loop_step, start_loop
from idds.control.sideeffects import (
    LIMITING_BURDEN,
    SideEffectEstimate,
    SideEffectModel,
    burden_of_grades,
)
from tests.control.helpers import observations, therapy
from tests.control.test_scenarios import LIBRARY

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "control"
MODEL = SideEffectModel()


def _synthetic(n: int, days: int, seed: int) -> tuple[SideEffectEstimate, np.ndarray]:
    """Patients as the model describes them: their own (level, per mg/day IT, per 100 mg/day
    oral) drawn from the prior, the level walking as stated, on an IT ramp from 1 to 8 mg/day
    while 200 mg/day oral is tapered to nothing over three weeks; a day's rating with the
    stated noise. The estimate after `days` and the true parameters (n, 3)."""
    rng = np.random.default_rng(seed)
    truth = np.stack([rng.normal(MODEL.level_mean, MODEL.level_sd, n),
                      rng.normal(MODEL.it_mean, MODEL.it_sd, n),
                      rng.normal(MODEL.oral_mean, MODEL.oral_sd, n)], axis=1)
    est = SideEffectEstimate.prior(n, MODEL)
    for d in range(days):
        it = np.full(n, 1.0 + 7.0 * d / days)
        oral = np.full(n, 200.0 * max(0.0, 1 - d / 21))
        burden = (truth[:, 0] + truth[:, 1] * it + truth[:, 2] * oral / 100
                  + rng.normal(0, MODEL.noise_sd, n))
        if d:
            est = sideeffects.predict(est, MODEL)
            truth[:, 0] += rng.normal(0, MODEL.level_step_sd, n)
        est = sideeffects.update(est, MODEL, it, oral, burden)
    return est, truth


def test_the_sensitivity_to_each_route_is_learned_with_honest_intervals() -> None:
    est, truth = _synthetic(400, 42, seed=3)
    for (mean, sd), true in ((est.per_mg_it, truth[:, 1]), (est.per_100mg_oral, truth[:, 2])):
        inside = np.abs(mean - true) <= 1.645 * sd
        assert 0.82 <= inside.mean() <= 0.97  # a 90% interval, neither over- nor underconfident
    # six weeks of reports narrow the IT sensitivity to well below the prior's spread
    assert np.median(est.per_mg_it[1]) < 0.5 * MODEL.it_sd
    err = np.abs(est.per_mg_it[0] - truth[:, 1])
    assert np.median(err) < 0.4 * MODEL.it_sd


def test_a_day_without_a_report_changes_nothing() -> None:
    est = SideEffectEstimate.prior(2, MODEL)
    same = sideeffects.update(est, MODEL, np.array([2.0, 3.0]), np.zeros(2),
                              np.array([np.nan, np.nan]))
    assert same is est
    half = sideeffects.update(est, MODEL, np.array([2.0, 3.0]), np.zeros(2),
                              np.array([np.nan, 4.0]))
    assert np.array_equal(half.mean[0], est.mean[0]) and not np.array_equal(half.mean[1],
                                                                              est.mean[1])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 20), st.floats(0, 400), st.floats(0, 10)),
                min_size=1, max_size=30))
def test_the_posterior_stays_a_covariance_and_only_narrows_with_reports(
        days: list[tuple[float, float, float]]) -> None:
    est = SideEffectEstimate.prior(1, MODEL)
    for it, oral, burden in days:
        before = est.cov[0].copy()
        est = sideeffects.update(est, MODEL, np.array([it]), np.array([oral]),
                                 np.array([burden]))
        cov = est.cov[0]
        assert np.allclose(cov, cov.T, atol=1e-12)
        assert np.linalg.eigvalsh(cov).min() > -1e-12
        assert np.trace(cov) <= np.trace(before) + 1e-12
        est = sideeffects.predict(est, MODEL)
    p = sideeffects.tolerable(est, MODEL, np.array([[1.0, 5.0]]), np.array([[0.0, 0.0]]), 3.0)
    assert np.all((p >= 0) & (p <= 1))


def test_the_forecast_widens_with_the_horizon_and_counts_each_route() -> None:
    est = SideEffectEstimate.prior(1, MODEL)
    mu1, sd1 = sideeffects.predictive(est, MODEL, np.array([2.0]), np.array([0.0]), 1.0)
    mu14, sd14 = sideeffects.predictive(est, MODEL, np.array([2.0]), np.array([0.0]), 14.0)
    assert mu1 == mu14 and sd14 > sd1
    oral, _ = sideeffects.predictive(est, MODEL, np.array([2.0]), np.array([200.0]), 1.0)
    assert oral[0] == mu1[0] + 2 * MODEL.oral_mean


def test_the_day_burden_is_recovered_exactly_from_window_means() -> None:
    daily = [1.0, 3.0, 2.5, 6.0, 0.5, 4.0]
    state = DailyState.start(1)
    for day in range(len(daily)):
        window = daily[max(0, day - 2):day + 1]
        obs = observations(day=day, window_days=3, side_effect_burden=sum(window) / len(window))
        got, state = recover(state, obs)
        assert abs(got.side_effect_burden[0] - daily[day]) < 1e-9
    obs = observations(day=len(daily), window_days=3, side_effect_burden=None)
    got, _ = recover(state, obs)
    assert np.isnan(got.side_effect_burden[0])  # no report: nothing recovered


def test_a_programmer_s_reports_are_recovered_by_their_own_count() -> None:
    """The programmer averages the window's reports, not its days: days without a report,
    then one of 6, then one of 4, are recovered as none, none, 6 and 4 (not the window's
    sum on the day of the first report)."""
    state = DailyState.start(1)
    reports = [[], [], [6.0], [4.0]]
    got = []
    for day in range(len(reports)):
        window = [r for d in reports[max(0, day - 2):day + 1] for r in d]
        obs = observations(day=day, window_days=3,
                           side_effect_burden=sum(window) / len(window) if window else None,
                           side_effect_reports=len(window))
        one, state = recover(state, obs)
        got.append(float(one.side_effect_burden[0]))
    assert np.isnan(got[0]) and np.isnan(got[1]) and got[2:] == [6.0, 4.0]


def _sensitive_run(per_mg: float, days: int = 40) -> tuple[IntelligentController, object,
                                                            object, object]:
    """The intelligent controller behind the supervisor on the side-effect-sensitive fixture
    patient (burden `per_mg` x the daily dose): controller, last state, observations and the
    therapy in force."""
    case = json.loads((FIXTURES / "side_effect_sensitive.json").read_text())
    p = case["patient"]
    ctl = IntelligentController()
    cur = therapy(it_mg=case["expect"]["low_start_mg"])
    loop = start_loop(ctl, cur)
    obs = None
    for k in range(days):
        dose = float(cur.it_mg_per_day[0])
        u = (dose / p["ed50_mg_per_day"]) ** p["hill"]
        nrs = p["drive0_nrs"] * (1 - p["max_relief"] * u / (1 + u))
        obs = observations(day=case["first_day"] + k, window_days=1,
                           diary_mean_nrs=round(nrs, 1), diary_entries=3,
                           side_effect_burden=round(per_mg * dose, 1))
        step, loop = closed_loop_step(ctl, loop, obs, cur, ClinicianBounds(), LIBRARY)
        cur = step.decision.therapy
    return ctl, loop.controller, obs, cur


def test_a_side_effect_sensitive_patient_is_believed_one_and_warned_of_more_dose() -> None:
    ctl, state, obs, cur = _sensitive_run(1.0)
    belief = ctl.beliefs(state)[0].side_effects_per_mg_it
    # Learned, not assumed: far above the prior (0.1, SD 0.3), toward the patient's own 1.0
    # point per mg/day. Short of it: the rise followed the dose slowly enough for the walking
    # level to explain part of it (docs/control.md).
    assert belief.low > 3 * MODEL.it_mean and belief.median > 0.5
    now = ctl.forecast(state, obs, cur, cur, 7.0).one(0)
    more = ctl.forecast(state, obs, cur, cur.with_(it_mg_per_day=cur.it_mg_per_day * 1.3),
                        7.0).one(0)
    assert now.burden_low <= float(cur.it_mg_per_day[0]) <= now.burden_high
    assert more.burden > now.burden and more.limiting > now.limiting
    assert more.limiting > 0.5  # 30% more would very likely limit the day
    assert more.time_in_target < more.in_target
    text = ctl.explain(state, obs, cur, cur)[0].lines()
    assert any("per mg/day IT" in line and "points" in line for line in text)


def test_expected_utility_prices_in_the_side_effects_a_dose_brings() -> None:
    """Two patients alike in pain, one known to be side-effect sensitive: the dose of highest
    expected utility is lower for the sensitive one, and its predicted burden at that dose
    stays below limiting with good odds."""
    ctl = IntelligentController()
    cur = therapy(n=2, it_mg=3.0)
    state = ctl.initial(cur)
    obs = observations(n=2, day=12, window_days=1, diary_mean_nrs=5.5, diary_entries=3,
                       side_effect_burden=1.0)
    for day in range(12, 30):
        _, state = ctl.recommend(state, dataclasses.replace(obs, day=day), cur)
    side = SideEffectEstimate(np.array([[0.0, 0.0, 0.5], [0.0, 0.8, 0.5]]),
                              np.tile(np.diag([0.01, 1e-4, 0.01]), (2, 1, 1)))
    targets = ctl.target_dose(dataclasses.replace(state, side_effects=side), cur, np.zeros(2))
    assert targets.best[1] < targets.best[0]
    mu, _ = sideeffects.predictive(side.rows(1, 2), MODEL, targets.best[1:], np.zeros(1),
                                   ctl.horizon_days)
    assert mu[0] < LIMITING_BURDEN  # it stops short of a moderate side effect


def test_the_dose_the_estimate_points_to_counts_the_boluses_the_patient_takes() -> None:
    """The estimate learns from basal + boluses + oral: a patient who takes 3 mg/day by bolus
    is pointed to a basal about 3 mg/day lower than the same estimate without boluses, so
    the whole daily dose it aims at is the same (within the candidate grid's spacing)."""
    ctl = IntelligentController()
    cur = therapy(n=1, it_mg=3.0)
    state = ctl.initial(cur)
    obs = observations(n=1, day=12, window_days=1, diary_mean_nrs=5.5, diary_entries=3)
    for day in range(12, 30):
        _, state = ctl.recommend(state, dataclasses.replace(obs, day=day), cur)
    without = ctl.target_dose(state, cur, np.zeros(1)).best[0]
    with_boluses = ctl.target_dose(state, cur, np.full(1, 3.0)).best[0]
    spacing = float(CANDIDATES_MG[1] / CANDIDATES_MG[0])
    assert 4.0 < without < 30.0  # not at an end of the grid
    assert without / spacing**2 <= with_boluses + 3.0 <= without * spacing**2


def test_an_assessment_of_grades_reads_as_the_rating_of_its_worst_dose_limiting_grade() -> None:
    assert burden_of_grades({}) is None  # no report of the burden
    assert burden_of_grades({"constipation": 3, "fatigue": 2}) is None  # treated, not limiting
    assert burden_of_grades({"nausea": 0, "constipation": 3}) == 0.0
    assert burden_of_grades({"nausea": 1, "urinary retention": 2}) == 5.5  # moderate: 5-6
    assert burden_of_grades({"urinary_retention": 2}) == 5.5
    assert burden_of_grades({"Somnolence ": 3}) == 8.5
    assert burden_of_grades({"pruritus": 2}) >= LIMITING_BURDEN  # grade 2 limits the day
    assert burden_of_grades({"pruritus": 1}) < LIMITING_BURDEN
