"""The intelligent controller's forecasts checked against the virtual patients in a trial
(`idds.trial.calibration`): present for the estimating arm only, the same however the cohort
is batched, honest enough to show, and in metrics.json, the report and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from idds.control.beliefs import ForecastArrays
from idds.control.intelligent import IntelligentController
from idds.trial import TrialConfig, run_trial
from idds.trial.calibration import CHECK_EVERY_DAYS, Calibration, ControllerCheck, checked_today
from tests.cli.helpers import idds
from tests.control.helpers import therapy


def _config(batch_size: int, arms: tuple[str, ...]) -> TrialConfig:
    return TrialConfig(patients=12, days=15, arms=arms, seed=5, batch_size=batch_size)


def test_only_the_estimating_arm_forecasts_and_batches_add_up_exactly() -> None:
    whole = run_trial(_config(12, ("it-standard", "it-intelligent")))
    split = run_trial(_config(4, ("it-intelligent",)))
    assert whole.arms["it-standard"].calibration.summary() is None
    found = whole.arms["it-intelligent"].calibration
    # Forecasts on the evenings of days 6 and 13, checked the next day on living patients
    # who kept a diary.
    assert 0 < found.forecasts <= 2 * 12
    assert split.arms["it-intelligent"].calibration.forecasts == found.forecasts
    assert split.arms["it-intelligent"].calibration.inside == found.inside
    # Each patient's last beliefs, in cohort order whatever the batches.
    assert split.arms["it-intelligent"].calibration.believed == found.believed
    assert len(found.believed) == 12 and all(b is not None and b[0] == 13
                                             for b in found.believed)
    summary = found.summary()
    assert summary is not None
    assert 0.6 <= summary["coverage"] <= 1.0  # the interval is not overconfident
    assert abs(summary["bias_nrs"]) < 1.0


def test_a_forecast_is_checked_against_the_next_day_for_the_living_with_a_diary() -> None:
    forecast = ForecastArrays(dose_mg_per_day=np.full(3, 2.0), nrs=np.array([4.0, 5.0, 6.0]),
                              nrs_low=np.array([3.0, 4.5, 5.0]),
                              nrs_high=np.array([5.0, 5.5, 7.0]),
                              in_target=np.array([0.2, 0.1, 0.0]), burden=np.ones(3),
                              burden_low=np.zeros(3), burden_high=np.full(3, 2.0),
                              limiting=np.array([0.1, 0.3, 0.9]))
    row = {"diary_sum": np.array([9.0, 12.0, 0.0]), "diary_count": np.array([2.0, 2.0, 0.0]),
           "waking_controlled_fraction": np.array([0.5, 0.0, 0.0]),
           "side_effect_burden": np.array([1.5, 5.0, 6.0])}
    ctl = IntelligentController()
    state = ctl.initial(therapy(n=3))
    check = ControllerCheck(6, forecast, tuple(ctl.beliefs(state)))
    got = Calibration.start(3).add(check, row, np.array([True, True, True]))
    assert (got.forecasts, got.inside) == (2, 1)  # 4.5 inside [3, 5]; 6.0 outside [4.5, 5.5]
    assert got.error_sum == (4.0 - 4.5) + (5.0 - 6.0)
    # burden 1.5 inside [0, 2] and not limiting; 5.0 outside and limiting (moderate)
    assert (got.burden_inside, got.limiting_observed) == (1, 1)
    assert got.limiting_predicted_sum == 0.1 + 0.3
    dead = Calibration.start(3).add(check, row, np.array([False, True, True]))
    assert (dead.forecasts, dead.inside) == (1, 0)
    assert Calibration.start(3).add(None, row, np.ones(3, dtype=bool)) == Calibration.start(3)
    both = got + dead
    assert both.forecasts == 3 and len(both.believed) == 6  # two parts of a cohort
    assert [b is not None and b[0] == 6 for b in got.believed] == [True] * 3
    assert both.take(np.array([5, 0])).believed == (dead.believed[2], got.believed[0])
    assert [d for d in range(15) if checked_today(d)] == [CHECK_EVERY_DAYS - 1,
                                                         2 * CHECK_EVERY_DAYS - 1]


def test_the_cli_metrics_and_report_say_how_honest_the_forecasts_were(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = idds("trial", "--patients", "12", "--days", "15", "--arms",
                "it-standard,it-intelligent", "--seed", "2", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "it-intelligent forecasts:" in done.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["arms"]["it-standard"]["forecast_calibration"] is None
    found = metrics["arms"]["it-intelligent"]["forecast_calibration"]
    assert found["interval_level"] == 0.8 and found["forecast_patient_days"] > 0
    report = (out / "report.html").read_text()
    assert "What the controllers believed and predicted" in report
    assert "predictive interval" in report
    assert "What it-intelligent believed about patient 0" in report
    assert "Maximal relief an intrathecal dose can give" in report
    assert "Side effects (burden 0-10) per mg/day IT" in report
    assert 0.0 <= found["limiting_predicted"] <= 1.0 and 0.0 <= found["burden_coverage"] <= 1.0
