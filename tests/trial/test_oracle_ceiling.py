"""examples/oracle_ceiling.py: the oracles that measure how much time in target knowing each
patient can buy under the supervisor (issue 20), and the script end to end."""

from __future__ import annotations

import subprocess
import sys
from types import ModuleType

import numpy as np

from idds.control.oracle import CANDIDATES_MG, OracleController, predict_steady
from idds.drugs import load_library
from idds.physiology import sample_cohort
from idds.trial.arms import ArmContext
from tests.trial.example_scripts import EXAMPLES, load

SCRIPT = EXAMPLES / "oracle_ceiling.py"
LIBRARY = load_library()


def _script() -> ModuleType:
    return load("oracle_ceiling")


def _context(n: int) -> ArmContext:
    cohort = sample_cohort(n, seed=4)
    return ArmContext(prior_oral_mg_per_day=cohort.prior_oral_morphine_mg_per_day.copy(),
                      policy=LIBRARY.conversion, morphine=LIBRARY.drug("morphine"),
                      hidden_cohort=cohort)


def test_the_oracles_differ_only_in_the_dose_they_aim_at() -> None:
    ceiling = _script()
    context = _context(60)
    cohort = context.hidden_cohort
    arm = ceiling.TargetOracleArm(name="x", target_nrs=3.0)
    plain = arm.controller(context, arm.run_bounds(context))
    assert isinstance(plain, OracleController)
    lean = ceiling.TargetOracleArm(name="y", lean=True).controller(context,
                                                                    arm.run_bounds(context))
    lower = ceiling.TargetOracleArm(name="z", target_nrs=2.0).controller(
        context, arm.run_bounds(context))
    day = 30.0
    pred = predict_steady(cohort, CANDIDATES_MG, day)
    reachable = ((pred.pain_nrs <= 3.0)
                 & (pred.respiratory_rate_per_min >= plain.breathing_floor_per_min)).any(axis=0)
    assert reachable.any() and (~reachable).any()  # both kinds of patient in the sample
    # Lean: the oracle's dose where the target is reached, never more drug where it is not.
    assert np.array_equal(lean.best_dose(day)[reachable], plain.best_dose(day)[reachable])
    assert np.all(lean.best_dose(day) <= plain.best_dose(day))
    assert np.any(lean.best_dose(day)[~reachable] < plain.best_dose(day)[~reachable])
    # A lower target never asks for less drug.
    assert np.all(lower.best_dose(day) >= plain.best_dose(day))
    # Dose by marginal relief: the dearer the drug, the less of it.
    cheap, dear = (ceiling.TargetOracleArm(name=str(p), nrs_per_mg=p).controller(
        context, arm.run_bounds(context)).best_dose(day) for p in (0.1, 0.4))
    assert np.all(dear <= cheap) and np.any(dear < cheap)


def test_the_script_prints_a_row_per_arm() -> None:
    out = subprocess.run([sys.executable, str(SCRIPT), "--patients", "6", "--days", "3",
                          "--workers", "1"], capture_output=True, text=True, check=True,
                         cwd=EXAMPLES.parent, timeout=600)
    rows = [line.split(" | ") for line in out.stdout.splitlines()[1:]]
    names = [row[0] for row in rows]
    assert names[:3] == ["it-standard", "it-daily-target", "oracle"]
    assert {"oracle-nrs-2.5", "it-daily-target-nrs-2.5", "oracle-lean-nrs-2.5",
            "oracle-marginal-0.2"} <= set(names)
    for row in rows:
        time_in_target = float(row[1])
        assert 0.0 <= time_in_target <= 100.0
