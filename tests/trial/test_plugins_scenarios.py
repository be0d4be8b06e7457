"""A researcher's own controller (module:factory, file.py:factory, an entry point) runs as a
trial arm behind the same supervisor, and scenario files schedule breakthrough pain and
missing diaries; every mistake in either is one line and exit status 2."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from idds.control.bounds import ClinicianBounds
from idds.control.plugins import GuardedController, PluginError
from idds.control.registry import build_controller, settings_for
from idds.drugs import load_library
from idds.trial import TrialConfig, run_trial
from idds.trial.scenario import ScenarioError, load_scenario
from tests.cli.helpers import assert_clean_refusal, idds

ROOT = Path(__file__).parents[2]
EXAMPLE = "examples/controllers/night_aware.py:build"
GREEDY = f"controller:{Path(__file__).with_name('greedy_plugin.py')}:greedy"


def test_the_worked_example_runs_as_an_arm_through_the_cli(tmp_path: Path) -> None:
    done = idds("trial", "--patients", "4", "--days", "3", "--arms",
                f"it-standard,controller:{ROOT / EXAMPLE}", "--out", str(tmp_path), "--json")
    assert done.returncode == 0, done.stderr
    arms = json.loads(done.stdout)["arms"]
    assert set(arms) == {"it-standard", f"controller:{ROOT / EXAMPLE}"}
    assert "own controller (a plug-in)" in (tmp_path / "report.html").read_text()


def test_a_greedy_plugin_cannot_talk_past_the_supervisor() -> None:
    result = run_trial(TrialConfig(patients=6, days=6, arms=(GREEDY,), seed=2))
    programmed = result.arms[GREEDY].history["it_programmed_mg_per_day"].astype(np.float64)
    alive = np.isfinite(programmed[1:]) & np.isfinite(programmed[:-1]) & (programmed[:-1] > 0)
    growth = programmed[1:][alive] / programmed[:-1][alive]
    assert growth.max() <= 1.2 + 1e-6  # the morphine entry's largest step, never x10
    limit = load_library().drug("morphine").max_daily_dose
    assert limit is not None
    assert np.nanmax(programmed) <= float(limit.value.value_in("mg/day")) + 1e-9


def test_a_plugin_is_guarded_in_the_advisory_mode_too() -> None:
    settings = settings_for(load_library().drug("morphine"), ClinicianBounds())
    controller = build_controller(str(ROOT / EXAMPLE), settings)
    assert isinstance(controller, GuardedController) and controller.name == "night-aware"


GENEROUS = "controller:examples/controllers/generous_boluses.py:build"


def test_the_generous_bolus_check_gives_more_boluses_on_the_same_basal_rule() -> None:
    """docs/control.md's sensitivity check: the daily clinician's basal rule with the bounds'
    shortest lockout and most boluses a day gives more of the presses it is asked for."""
    result = run_trial(TrialConfig(patients=30, days=8, arms=("it-daily-target", GENEROUS),
                                   seed=1))
    daily, generous = (result.arms[a].history for a in ("it-daily-target", GENEROUS))
    assert np.nansum(generous["given"]) > 1.1 * np.nansum(daily["given"])
    assert np.nansum(generous["refused"]) < np.nansum(daily["refused"])
    assert np.nanmax(generous["it_programmed_mg_per_day"]) <= 15.0 + 1e-9  # library ceiling


@pytest.mark.parametrize(("spec", "fragment"), [
    ("examples/controllers/nope.py:build", "no file"),
    ("idds_no_such_module:build", "cannot import 'idds_no_such_module'"),
    ("json:no_such_factory", "has no callable 'no_such_factory'"),
    (f"{Path(__file__).with_name('greedy_plugin.py')}:raising", "its factory failed"),
    (f"{Path(__file__).with_name('greedy_plugin.py')}:not_a_controller",
     "which has no name, initial, recommend"),
    (f"{Path(__file__).with_name('greedy_plugin.py')}:crashing",
     "failed in recommend on day 0: ZeroDivisionError: on purpose"),
])
def test_a_broken_plugin_is_one_line_and_exit_2(spec: str, fragment: str,
                                                tmp_path: Path) -> None:
    done = idds("trial", "--patients", "2", "--days", "2", "--arms", f"controller:{spec}",
                "--out", str(tmp_path / "out"))
    assert_clean_refusal(done, fragment)


def test_an_installed_entry_point_is_found_by_name(tmp_path: Path) -> None:
    site = tmp_path / "site"
    info = site / "idds_example_plugin-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: idds-example-plugin\n"
                                   "Version: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[idds.controllers]\nnight-aware = night_aware:build\n")
    (site / "night_aware.py").write_text((ROOT / EXAMPLE.split(":")[0]).read_text())
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(site), *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = idds("trial", "--patients", "2", "--days", "2", "--arms", "controller:night-aware",
                "--out", str(tmp_path / "out"), "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert "controller:night-aware" in json.loads(done.stdout)["arms"]
    missing = idds("trial", "--patients", "2", "--days", "2", "--arms", "controller:nobody",
                   "--out", str(tmp_path / "out2"), env=env)
    assert_clean_refusal(missing, "unknown controller 'nobody'; choose one of: intelligent, "
                         "rule-based, an installed plug-in (night-aware)")


def _scenario(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.toml"
    path.write_text(text)
    return path


def test_scheduled_breakthrough_pain_brings_presses_at_that_hour(tmp_path: Path) -> None:
    path = _scenario(tmp_path, 'name = "evening"\n[[breakthrough]]\ntime = "03:10"\n')
    plain = run_trial(TrialConfig(patients=10, days=3, arms=("it-standard",), seed=4))
    scheduled = run_trial(TrialConfig(patients=10, days=3, arms=("it-standard",), seed=4,
                                      scenario=path))
    before = plain.arms["it-standard"].presses_by_hour
    after = scheduled.arms["it-standard"].presses_by_hour
    assert after[3] > before[3]  # at night the model alone rarely starts an episode
    empty = _scenario(tmp_path, 'name = "nothing scheduled"\n')
    same = run_trial(TrialConfig(patients=10, days=3, arms=("it-standard",), seed=4,
                                 scenario=empty))
    for field, values in plain.arms["it-standard"].history.items():  # no events: no change
        assert np.array_equal(values, same.arms["it-standard"].history[field],
                              equal_nan=True), field


def test_missing_diaries_are_missing_for_those_patients_on_those_days(tmp_path: Path) -> None:
    path = _scenario(tmp_path, 'name = "gaps"\n[[missing_diary]]\ndays = [2, 3]\n'
                               'patients = [1, 4]\n')
    result = run_trial(TrialConfig(patients=6, days=4, arms=("cmm",), seed=4, scenario=path))
    counts = result.arms["cmm"].history["diary_count"]
    assert (counts[1:3][:, [1, 4]] == 0).all()
    assert (counts[0][[1, 4]] > 0).all() and (counts[1:3][:, [0, 2, 3, 5]] > 0).all()


@pytest.mark.parametrize(("text", "fragment"), [
    ('name = "x"\n[[breakthrough]]\ntime = "25:00"\n', "must be HH:MM"),
    ('name = "x"\n[[breakthrough]]\ntime = "1٨:30"\n', "must be HH:MM"),
    ('name = "x"\n[[missing_diary]]\ndays = [0]\n', "trial days, 1 or more"),
    ('name = "x"\nsurprise = 1\n', "surprise: Extra inputs are not permitted"),
    ('name = "x"\n[[breakthrough]]\ntime = "18:30"\npatients = "some"\n', "breakthrough.0"),
    ("name = \n", "is not a TOML file"),
])
def test_a_bad_scenario_file_is_one_line_and_exit_2(tmp_path: Path, text: str,
                                                    fragment: str) -> None:
    path = _scenario(tmp_path, text)
    with pytest.raises(ScenarioError, match=r"scenario\.toml"):
        load_scenario(path)
    done = idds("trial", "--patients", "2", "--days", "2", "--scenario", str(path),
                "--out", str(tmp_path / "out"))
    assert_clean_refusal(done, fragment)
    assert not (tmp_path / "out").exists()


def test_the_example_scenario_loads() -> None:
    scenario = load_scenario(ROOT / "examples/scenarios/evening-pain-weekend-diary.toml")
    assert scenario.breakthrough[0].minute == 18 * 60 + 30
    assert scenario.missing_diary[0].days == frozenset({6, 7, 13, 14})


def test_plugin_error_is_an_idds_error() -> None:
    assert issubclass(PluginError, Exception)
