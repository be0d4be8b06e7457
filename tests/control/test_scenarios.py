"""Controller scenarios in the LoopAlgorithm fixture style: observations in (JSON files under
tests/fixtures/control/), recommendations and reasons out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from idds.control.bounds import ClinicianBounds, LibraryLimits
from idds.control.controller import Controller
from idds.control.estimator import expected_nrs
from idds.control.intelligent import IntelligentController
from idds.control.loop import closed_loop_step, start_loop
from idds.control.prescription import HOURS
from idds.control.reasons import Reason
from idds.control.recommendation import Recommendation
from idds.control.rules import RuleBasedController
from idds.control.supervisor import Check, SupervisorState, Verdict, supervise
from idds.drugs import load_library
from tests.control.helpers import observations, therapy

FIXTURES = Path(__file__).parent.parent / "fixtures" / "control"
CONTROLLERS: dict[str, Controller[Any]] = {
    "rule-based": RuleBasedController(),
    "intelligent": IntelligentController(),
}
LIBRARY = LibraryLimits.from_drug(load_library().drug("morphine"))


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def day_obs(spec: dict[str, Any]) -> Any:
    values = {k: v for k, v in spec.items() if k != "day"}
    return observations(day=spec["day"], **values)


@pytest.mark.parametrize("name", ["stale_diary.json", "sedation_warning.json"])
def test_single_day_scenarios(name: str) -> None:
    case = load(name)
    start = therapy(it_mg=case["therapy"]["it_mg"])
    obs = day_obs(case["days"][0])
    for ctl_name, ctl in CONTROLLERS.items():
        expect = case["expect"][ctl_name]
        rec, _ = ctl.recommend(ctl.initial(start), obs, start)
        assert Reason(int(rec.reasons[0])).name == expect["reason"], ctl_name
        ratio = rec.therapy.it_mg_per_day[0] / start.it_mg_per_day[0]
        assert expect["it_ratio_min"] - 1e-9 <= ratio <= expect["it_ratio_max"] + 1e-9, ctl_name
        assert rec.text(0)
    # An increase recommended anyway is refused by the supervisor, naming the limit.
    sup_expect = case["expect"]["supervisor_on_increase"]
    up = Recommendation(start.with_(it_mg_per_day=start.it_mg_per_day * 1.2),
                        np.array([Reason.INCREASE_UNCONTROLLED]), np.array([np.nan]))
    state = SupervisorState.start(start, day=0)
    decision, _ = supervise(state, obs, start, up, ClinicianBounds(), LIBRARY)
    assert Verdict(int(decision.verdict[0])).name == sup_expect["verdict"]
    for flag in sup_expect["checks"]:
        assert decision.checks[0] & Check[flag]
    assert decision.therapy.it_mg_per_day[0] == start.it_mg_per_day[0]
    assert decision.text(0).startswith(sup_expect["verdict"].lower().replace("_", " "))


def test_same_hour_presses_move_dose_before_that_hour() -> None:
    case = load("same_hour_presses.json")
    each = case["each_day"]
    ctl = IntelligentController()
    cur = therapy(it_mg=case["therapy"]["it_mg"])
    state = ctl.initial(cur)
    reasons = []
    for k in range(case["repeat_days"]):
        days_seen = min(k + 1, 7)
        by_hour = np.zeros(HOURS)
        by_hour[each["press_hour"]] = each["presses_per_hour_per_day"] * days_seen
        refused = np.zeros(HOURS)
        refused[each["press_hour"]] = each["refused_per_hour_per_day"] * days_seen
        obs = observations(day=case["first_day"] + k, diary_mean_nrs=each["diary_mean_nrs"],
                           presses_per_day=each["presses_per_day"],
                           refused_per_day=each["refused_per_day"],
                           presses_by_hour=by_hour, refused_by_hour=refused)
        rec, state = ctl.recommend(state, obs, cur)
        reasons.append(Reason(int(rec.reasons[0])).name)
        cur = rec.therapy
    expect = case["expect"]["intelligent"]
    assert cur.it_mg_per_day[0] <= case["therapy"]["it_mg"] * expect["it_ratio_max"] + 1e-9
    flex = cur.flex[0]
    assert abs(flex.mean() - 1.0) < 1e-9
    assert flex[expect["flex_peak_hours"]].min() >= expect["flex_peak_min"]
    assert flex[expect["flex_low_hours"]].max() < 1.0
    assert int(np.argmax(flex)) < each["press_hour"]
    assert "RESHAPE_FLEX" in reasons
    assert set(reasons) <= set(expect["reason_any"])


def run_synthetic(ctl: IntelligentController, case: dict[str, Any]
                  ) -> tuple[np.ndarray, float, list[str], Any]:
    """The closed loop on a synthetic patient of a fixture (diary = the model's mean pain at
    the dose): daily doses (mg/day, first = start), last NRS, reasons, the loop."""
    p = case["patient"]
    cur = therapy(it_mg=case["therapy"]["it_mg"])
    loop = start_loop(ctl, cur)
    doses = [float(cur.it_mg_per_day[0])]
    reasons = []
    nrs = 0.0
    for k in range(case["days"]):
        t = case["first_day"] + k
        u = (cur.it_mg_per_day[0] / p["ed50_mg_per_day"]) ** p["hill"]
        nrs = (p["drive0_nrs"] + p["slope_nrs_per_day"] * t) * (1 - p["max_relief"] * u / (1 + u))
        obs = observations(day=t, window_days=1, diary_mean_nrs=round(nrs, 1), diary_entries=3)
        step, loop = closed_loop_step(ctl, loop, obs, cur, ClinicianBounds(), LIBRARY)
        reasons.append(Reason(int(step.recommendation.reasons[0])).name)
        cur = step.decision.therapy
        doses.append(float(cur.it_mg_per_day[0]))
    return np.array(doses), nrs, reasons, loop


def test_fast_progression_dose_follows_within_limits() -> None:
    case = load("fast_progression.json")
    ctl = IntelligentController()
    d, nrs, _, loop = run_synthetic(ctl, case)
    expect = case["expect"]["intelligent"]
    assert d[-1] >= d[0] * expect["final_it_ratio_min"]
    assert nrs <= expect["final_nrs_max"]
    steps = d[1:] / d[:-1] - 1
    assert steps.max() <= expect["max_daily_increase"] + 1e-9
    up_days = np.flatnonzero(steps > 1e-9)
    assert np.all(np.diff(up_days) >= expect["min_days_between_increases"])
    est = loop.controller.response
    slope = float(np.sum(est.weights[0] * est.mean[0, :, 1]))
    assert slope >= expect["slope_estimate_min"]
    predicted = expected_nrs(est, ctl.model, d[-1:], 0.0)[0]
    assert abs(predicted - nrs) <= expect["prediction_error_max"]


def test_poor_responder_is_not_escalated_past_the_benefit_limit() -> None:
    case = load("poor_responder.json")
    expect = case["expect"]["intelligent"]
    d, nrs, reasons, _ = run_synthetic(IntelligentController(), case)
    unlimited, nrs_unlimited, _, _ = run_synthetic(
        IntelligentController(drug_cost_per_mg=0.0), case)
    assert d[-1] <= d[0] * expect["final_it_ratio_max"]
    assert unlimited[-1] >= d[-1] * expect["unlimited_over_limited_min"]
    assert nrs - nrs_unlimited <= expect["unlimited_relief_max_nrs"]  # the extra drug bought little
    assert expect["reason"] in reasons[-expect["last_days"]:]


def test_near_target_responder_is_raised_for_time_in_target_then_held() -> None:
    case = load("near_target_responder.json")
    expect = case["expect"]["intelligent"]
    p = case["patient"]
    u = (case["therapy"]["it_mg"] / p["ed50_mg_per_day"]) ** p["hill"]
    assert p["drive0_nrs"] * (1 - p["max_relief"] * u / (1 + u)) >= expect["start_nrs_min"]
    d, nrs, reasons, _ = run_synthetic(IntelligentController(), case)
    steps = d[1:] / d[:-1] - 1
    assert reasons[0] == expect["reason"] and steps[0] > 0  # at target, no presses: raised
    assert steps.max() <= expect["max_daily_increase"] + 1e-9
    assert d[-1] <= d[0] * expect["final_it_ratio_max"]  # and held once more no longer pays
    assert nrs <= expect["final_nrs_max"]
    assert np.all(steps[-expect["last_days_held"]:] == 0.0)
    never_sure, _, held, _ = run_synthetic(IntelligentController(confidence_down=1.01), case)
    assert np.all(never_sure == d[0]) and expect["reason"] not in held


def test_poor_responder_started_high_is_brought_down_to_the_benefit_limit() -> None:
    case = load("poor_responder.json")
    high = {**case, "therapy": {"it_mg": 15.0}, "days": 20}
    d, _, reasons, _ = run_synthetic(IntelligentController(), high)
    # The maximal relief is learned, not assumed: the first days at 15 mg/day (under two
    # weeks) teach it (the supervisor refuses the increases tried meanwhile); then it comes down.
    assert "DECREASE_LITTLE_BENEFIT" in reasons[:15]
    assert d[:4].max() <= d[0] + 1e-9
    cuts = d[1:] / d[:-1] - 1
    assert cuts.min() >= -IntelligentController().max_cut - 1e-9  # gradual: no withdrawal
    assert d[-1] < 0.9 * d[0]


def _side_effect_run(start_mg: float, per_mg: float, case: dict[str, Any]
                     ) -> tuple[list[float], list[float], list[float], list[str]]:
    """The intelligent controller behind the supervisor on the fixture's synthetic patient,
    whose side-effect burden is `per_mg` x the daily dose: doses, NRS, burden, reasons."""
    p = case["patient"]
    ctl = IntelligentController()
    cur = therapy(it_mg=start_mg)
    loop = start_loop(ctl, cur)
    doses, pains, burdens, reasons = [], [], [], []
    for k in range(case["days"]):
        dose = float(cur.it_mg_per_day[0])
        u = (dose / p["ed50_mg_per_day"]) ** p["hill"]
        nrs = p["drive0_nrs"] * (1 - p["max_relief"] * u / (1 + u))
        burden = per_mg * dose
        obs = observations(day=case["first_day"] + k, window_days=1,
                           diary_mean_nrs=round(nrs, 1), diary_entries=3,
                           side_effect_burden=round(burden, 1))
        step, loop = closed_loop_step(ctl, loop, obs, cur, ClinicianBounds(), LIBRARY)
        doses.append(dose)
        pains.append(nrs)
        burdens.append(burden)
        reasons.append(Reason(int(step.recommendation.reasons[0])).name)
        cur = step.decision.therapy
    return doses, pains, burdens, reasons


def test_side_effect_sensitive_patient_is_held_short_of_limiting_side_effects() -> None:
    case = load("side_effect_sensitive.json")
    expect = case["expect"]
    per_mg = case["patient"]["burden_per_mg_per_day"]
    doses, pains, burdens, reasons = _side_effect_run(expect["low_start_mg"], per_mg, case)
    last = expect["last_days"]
    assert set(reasons[-last:]) == {expect["hold_reason"]}
    assert pains[-1] >= expect["final_nrs_min"]  # held above target: side effects limit it
    assert max(burdens) <= expect["burden_max"]  # never escalated into the reducing range
    plain, _, _, _ = _side_effect_run(expect["low_start_mg"], 0.0, case)
    assert plain[-1] >= doses[-1] * expect["insensitive_final_over_sensitive_min"]
    high, _, high_burden, high_reasons = _side_effect_run(expect["high_start_mg"], per_mg, case)
    assert high_reasons[0] == expect["first_reason_high"]
    assert high[1] == pytest.approx(high[0] * expect["first_cut_ratio"])
    assert max(high_burden[1:]) <= expect["burden_max"]
