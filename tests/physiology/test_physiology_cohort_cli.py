"""Cohorts, archetypes and the `patient simulate` CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from idds.cli.patient import app
from idds.physiology import (
    ARCHETYPES,
    PhysiologyError,
    UnknownArchetypeError,
    UnknownDrugError,
    sample_cohort,
    typical_cohort,
)


def test_every_archetype_samples() -> None:
    for name in ARCHETYPES:
        cohort = sample_cohort(20, seed=1, archetype_name=name)
        assert cohort.n == 20 and np.all(cohort.pain.drive0_nrs > 0)


def test_seed_case_is_the_article_patient() -> None:
    arch = ARCHETYPES["seed-case"]
    assert arch.age_years == 47 and "kidney cancer" in arch.description
    cohort = typical_cohort("seed-case")
    assert cohort.pain.baseline_nrs[0] >= 7.5 and cohort.sensitivity.tolerance_factor[0] > 1


def test_naive_are_untolerant_and_tolerant_are_scaled() -> None:
    naive = sample_cohort(100, seed=2, archetype_name="opioid-naive")
    tolerant = sample_cohort(100, seed=2)
    assert np.all(naive.sensitivity.tolerance_factor == 1.0)
    assert np.median(tolerant.sensitivity.tolerance_factor) > 4


def test_typed_errors() -> None:
    with pytest.raises(UnknownArchetypeError):
        sample_cohort(1, archetype_name="nobody")
    with pytest.raises(UnknownDrugError):
        sample_cohort(1, drugs=("aspirin",))
    with pytest.raises(PhysiologyError):
        typical_cohort().propagators(0.0)


runner = CliRunner()


def test_cli_json_bolus() -> None:
    result = runner.invoke(
        app,
        [
            "simulate",
            "--drug",
            "morphine",
            "--route",
            "intrathecal",
            "--bolus",
            "0.5 mg",
            "--hours",
            "3",
            "--archetype",
            "opioid-naive",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    for key in (
        "time_min",
        "csf_ng_per_ml",
        "plasma_ng_per_ml",
        "pain_nrs",
        "respiratory_rate_per_min",
        "sedation_poss",
    ):
        assert len(doc[key]) == 180
    assert doc["csf_ng_per_ml"][59] == pytest.approx(10_000, rel=0.2)
    assert max(doc["plasma_ng_per_ml"]) < 1.0


def test_cli_rate_and_plot(tmp_path: Path) -> None:
    png = tmp_path / "p.png"
    result = runner.invoke(
        app,
        [
            "simulate",
            "--drug",
            "hydromorphone",
            "--route",
            "iv",
            "--rate",
            "20 mcg/h",
            "--hours",
            "2",
            "--seed",
            "4",
            "--plot",
            str(png),
        ],
    )
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "args",
    [
        ["--drug", "aspirin", "--route", "iv", "--bolus", "1 mg", "--hours", "1"],
        ["--drug", "morphine", "--route", "nasal", "--bolus", "1 mg", "--hours", "1"],
        [
            "--drug",
            "morphine",
            "--route",
            "iv",
            "--bolus",
            "1 mg",
            "--hours",
            "1",
            "--archetype",
            "nobody",
        ],
        ["--drug", "morphine", "--route", "iv", "--bolus", "1 U", "--hours", "1"],
        ["--drug", "morphine", "--route", "iv", "--bolus", "1 mg/h", "--hours", "1"],
        ["--drug", "morphine", "--route", "iv", "--bolus", "1 mg", "--hours", "-2"],
        ["--drug", "morphine", "--route", "iv", "--hours", "1"],
        [
            "--drug",
            "morphine",
            "--route",
            "iv",
            "--bolus",
            "1 mg",
            "--rate",
            "1 mg/day",
            "--hours",
            "1",
        ],
        ["--drug", "ziconotide", "--route", "oral", "--rate", "2.4 mcg/day", "--hours", "1"],
    ],
)
def test_cli_bad_input_exit_2_one_line(args: list[str]) -> None:
    result = runner.invoke(app, ["simulate", *args])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("idds: error:")


def _simulate(rate: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """`simulate` of the patient CLI in its own process: 1 h of oral morphine at `rate`."""
    code = "from idds.cli.patient import app; app()"
    args = ["simulate", "--drug", "morphine", "--route", "oral", "--rate", rate, "--hours", "1",
            *extra]
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          check=False)


def test_cli_subprocess() -> None:
    ok = _simulate("300 mg/day", "--json")
    assert ok.returncode == 0, ok.stderr
    assert "plasma_ng_per_ml" in json.loads(ok.stdout)
    bad = _simulate("300 mg")
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr
