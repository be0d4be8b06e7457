"""The built-in robustness scenarios (issue 20, part 4): `--scenario NAME`, what each changes
in the trial, and that the closed-loop arms stay within the supervisor's limits in each."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest

from idds.cli.trial import trial as trial_command
from idds.trial import TrialConfig, run_trial
from idds.trial.scenario import BUILT_IN, ScenarioError, resolve_scenario
from tests.cli.helpers import assert_clean_refusal, idds

ARMS = ("it-standard", "it-daily-target", "it-intelligent")


def _run(scenario: str | None, days: int = 4, patients: int = 8,
         arms: tuple[str, ...] = ("it-standard",)) -> dict[str, dict[str, np.ndarray]]:
    result = run_trial(TrialConfig(patients=patients, days=days, arms=arms, seed=3,
                                   scenario=None if scenario is None else Path(scenario)))
    return {name: {k: np.asarray(v, dtype=np.float64) for k, v in a.history.items()}
            for name, a in result.arms.items()}


def test_every_built_in_loads_by_name_and_the_help_names_them() -> None:
    source = inspect.getsource(trial_command)  # the CLI's help lists them (kept light)
    for name in BUILT_IN:
        assert resolve_scenario(Path(name)).name == name
        assert name in source, name


def test_an_unknown_name_is_one_line_naming_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="catheter-obstruction"):
        resolve_scenario(Path("no-such-scenario"))
    done = idds("trial", "--patients", "2", "--days", "2", "--scenario", "no-such-scenario",
                "--out", str(tmp_path / "out"))
    assert_clean_refusal(done, "built-in: missing-diaries-30")
    assert not (tmp_path / "out").exists()


def test_missing_diaries_30_leaves_about_30_percent_of_patient_days_without_a_diary() -> None:
    h = _run("missing-diaries-30", days=10, patients=40)["it-standard"]
    share = float(np.mean(h["diary_count"] == 0))
    assert 0.22 <= share <= 0.38


def test_noisy_diary_spreads_the_entries_around_the_pain() -> None:
    plain, noisy = _run(None, days=6)["it-standard"], _run("noisy-diary", days=6)["it-standard"]
    def spread(h: dict[str, np.ndarray]) -> float:
        return float(np.nanstd(h["diary_sum"] / h["diary_count"] - h["pain_mean"]))
    assert spread(noisy) > 1.4 * spread(plain)
    assert np.array_equal(plain["pain_mean"][0], noisy["pain_mean"][0], equal_nan=True)


def test_remote_behaviours() -> None:
    never = _run("never-press", days=4)["it-standard"]
    eager = _run("press-at-lockout-end", days=4)["it-standard"]
    plain = _run(None, days=4)["it-standard"]
    assert np.nansum(never["presses"]) == 0 and np.nansum(never["given"]) == 0
    assert np.nansum(eager["given"]) > np.nansum(plain["given"])
    assert np.nansum(eager["refused"]) <= np.nansum(eager["presses"])


def test_fast_progression_raises_pain_over_time() -> None:
    plain = _run(None, days=14, arms=("cmm",))["cmm"]
    fast = _run("fast-progression", days=14, arms=("cmm",))["cmm"]
    assert np.nanmean(fast["pain_mean"][-1]) > np.nanmean(plain["pain_mean"][-1])


def test_pump_flow_high_14_delivers_14_percent_more_than_programmed() -> None:
    h = _run("pump-flow-high-14", days=2)["it-standard"]
    day = 1  # a whole day on one program; the pump's own estimate is the program
    ratio = h["it_mg"][day] / (h["it_programmed_mg_per_day"][day - 1] + 0.0)
    basal_only = h["given"][day] == 0
    assert np.allclose(ratio[basal_only], 1.14, rtol=0.02)


def test_catheter_obstruction_delivers_nothing_on_days_15_and_16() -> None:
    h = _run("catheter-obstruction", days=18)["it-standard"]
    alive = np.isfinite(h["it_mg"][16])
    assert alive.sum() >= 4
    assert (h["it_mg"][14:16, alive] == 0).all()  # trial days 15 and 16 (rows 14 and 15)
    assert (h["it_mg"][16, alive] > 0).all() and (h["it_mg"][13, alive] > 0).all()
    assert h["pain_mean"][15, alive].mean() > h["pain_mean"][13, alive].mean()


@pytest.mark.parametrize("name", BUILT_IN)
def test_closed_loop_arms_stay_within_the_supervisor_limits(name: str) -> None:
    """Delivered programs of the closed-loop arms: within the clinician's and the library's
    absolute limits; no basal increase of more than the per-change step in a day, nor two
    within the monitoring window (72 h)."""
    runs = _run(name, days=20, patients=6, arms=ARMS[1:])
    for arm, h in runs.items():
        basal = h["it_programmed_mg_per_day"]
        assert np.nanmax(basal) <= 15.0 + 1e-6, arm
        ups = basal[1:] > basal[:-1] * (1 + 1e-6)
        assert (basal[1:][ups] <= basal[:-1][ups] * 1.2 * (1 + 1e-6)).all(), arm
        for i in range(basal.shape[1]):
            days = np.flatnonzero(ups[:, i])
            assert (np.diff(days) >= 3).all(), (arm, i, days)
