"""examples/waking_spread.py: the within-day spread of pain fitted from a trial's days (issue
20, the margin `ResponseModel.waking_sd` is measured against it), unit and end to end."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from scipy.special import ndtr

from tests.trial.example_scripts import EXAMPLES, load

SCRIPT = EXAMPLES / "waking_spread.py"


def _script() -> ModuleType:
    return load("waking_spread")


def _days(spread: float, offset: float, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    mean = np.random.default_rng(1).uniform(1.0, 5.0, n)
    return mean, ndtr((3.0 + offset - mean) / spread)


@pytest.mark.parametrize(("spread", "offset"), [(0.1, 0.0), (0.4, 0.2), (1.2, -0.1)])
def test_the_fit_recovers_the_spread_of_days_made_with_it(spread: float, offset: float) -> None:
    mean, share = _days(spread, offset)
    r = _script().fit("arm", mean, share)
    assert r.spread_nrs == pytest.approx(spread, rel=0.02)
    assert r.offset_nrs == pytest.approx(offset, abs=0.02)
    assert r.fitted == int(np.sum((mean >= 2) & (mean <= 4)))


def test_too_few_days_in_the_fitted_range_is_an_error_naming_the_arm() -> None:
    with pytest.raises(ValueError, match="it-standard: fewer than 3 days"):
        _script().fit("it-standard", np.array([5.0, 6.0, 2.5]), np.array([0.0, 0.0, 0.9]))


def test_the_script_reads_a_patient_days_file_and_prints_each_arm(tmp_path: Path) -> None:
    path = tmp_path / "patient_days.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["arm", "patient", "alive", "pain_mean", "waking_controlled_fraction"])
        for arm, spread in (("narrow", 0.1), ("wide", 0.8)):
            for i, (m, s) in enumerate(zip(*_days(spread, 0.0, 200), strict=True)):
                w.writerow([arm, i, 1, m, s])
            w.writerow([arm, 999, 0, 3.0, 0.0])  # a day after death is not counted
        w.writerow(["cmm", 0, 1, 7.0, 0.0])  # no day near the target: said, not a traceback
    out = subprocess.run([sys.executable, str(SCRIPT), str(path)], capture_output=True,
                         text=True, check=True).stdout
    assert "narrow: spread 0.10 NRS" in out and "wide: spread 0.80 NRS" in out
    assert "of 200 days" in out
    assert "cmm: fewer than 3 days with a mean NRS in (2.0, 4.0): not fitted" in out


def test_a_missing_file_is_one_line_and_exit_status_2(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "none.csv")],
                         capture_output=True, text=True)
    assert run.returncode == 2 and run.stderr.strip().count("\n") == 0
    assert "no such file" in run.stderr
    assert "Traceback" not in run.stderr
