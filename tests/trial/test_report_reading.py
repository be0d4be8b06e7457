"""The report as a reader meets it: every section and figure on the rendered PDF pages, words
that follow the numbers, numbers written for people, and the per-patient-day CSV."""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idds.trial import TrialConfig, run_trial
from idds.trial.export import COLUMNS
from idds.trial.history import DAILY_FIELDS
from idds.trial.metrics import Estimate, count_ci
from idds.trial.narrative import interpretation
from idds.trial.report import write_report
from idds.trial.runner import TrialResult
from idds.trial.tables import fmt
from tests.cli.helpers import assert_clean_refusal, idds

SECTIONS = ("Methods", "Interpretation", "Checks against published findings", "The seed case",
            "Survival", "Baseline characteristics", "Outcomes", "Side effects in week",
            "Distance from the oracle")
FIGURE_TITLES = ("Pain over time", "Dose over time", "Side effects over time",
                 "Side effects by week", "Survival", "Weekly symptom inventory",
                 "The arms side by side", "Pain and remote presses by hour of day",
                 "Distance from the oracle", "Patient 2, day by day")


@pytest.fixture(scope="module")
def result() -> TrialResult:
    return run_trial(TrialConfig(patients=8, days=9, arms=("cmm", "it-standard", "oracle"),
                                 seed=5))


def _pages(path: Path) -> list[tuple[str, np.ndarray]]:
    """(text, greyscale pixels) of every page, rendered as a reader's viewer would."""
    pdf = pdfium.PdfDocument(path)
    out = []
    for index in range(len(pdf)):
        page = pdf[index]
        text = page.get_textpage().get_text_range()
        pixels = np.asarray(page.render(scale=0.6, grayscale=True).to_pil().convert("L"))
        out.append((text, pixels))
    return out


def test_rendered_pdf_pages_show_every_section_and_figure(result: TrialResult,
                                                          tmp_path: Path) -> None:
    files = write_report(result, tmp_path, patient=2)
    assert files.pdf is not None
    pages = _pages(files.pdf)
    text = "\n".join(t for t, _ in pages)
    for heading in SECTIONS:
        assert heading in text, heading
    for title in FIGURE_TITLES:
        found = [pixels for t, pixels in pages if title in t]
        assert found, title
        ink = max(float((p < 200).mean()) for p in found)
        assert ink > 0.02, f"{title}: the page is nearly blank ({ink:.3f} inked)"
    assert "not a medical device" in pages[0][0]
    assert f"--seed {result.config.seed}" in text.replace("\r", "").replace("\n", " ")


def test_every_page_is_readable_size_and_not_blank(result: TrialResult, tmp_path: Path) -> None:
    files = write_report(result, tmp_path, csv=False)
    assert files.pdf is not None
    for index, (_, pixels) in enumerate(_pages(files.pdf)):
        assert float((pixels < 200).mean()) > 0.005, f"page {index + 1} is blank"


def test_the_interpretation_follows_the_numbers(result: TrialResult) -> None:
    words = " ".join(interpretation(result))
    pump = result.arms["it-standard"]
    ratio = pump.metrics["prior_oral_per_it"].mean
    assert f"1/{ratio:.0f} of the same patients' prior oral dose" in words
    refused = pump.metrics["refused_per_day"].mean
    assert f"refused {fmt(refused)} of them" in words
    # the same arm against itself: every comparison is "no clear difference" or not estimable
    twin = TrialResult(result.config, {"cmm": result.arms["cmm"],
                                       "it-standard": result.arms["cmm"]}, result.it_to_oral)
    against = interpretation(twin)[0]
    assert "more relief" not in against and "less relief" not in against
    assert "more time controlled" not in against and "fewer side effects" not in against


@pytest.mark.parametrize(("value", "text"), [(1550.0, "1,550"), (0.012, "0.012"),
                                             (12.345, "12.3"), (2.0, "2"), (1.5, "1.5"),
                                             (0.0, "0"), (math.nan, "-"), (-0.00004, "-0.00004")])
def test_numbers_are_written_for_people(value: float, text: str) -> None:
    assert fmt(value) == text
    assert "e+" not in fmt(value) and "e-" not in fmt(value)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=2, max_size=60))
def test_a_count_interval_never_goes_below_zero(counts: list[int]) -> None:
    est: Estimate = count_ci(np.array(counts, dtype=np.float64), seed=1)
    assert est.low >= 0 and est.low <= est.mean <= est.high


def test_csv_holds_every_patient_day_of_every_arm(result: TrialResult, tmp_path: Path) -> None:
    files = write_report(result, tmp_path, pdf=False)
    assert files.csv is not None
    with files.csv.open() as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == len(result.arms) * result.config.patients * result.config.days
    pick = next(r for r in rows if r["arm"] == "it-standard" and r["patient"] == "3"
                and r["day"] == "4")
    for field in DAILY_FIELDS:
        value = float(result.arms["it-standard"].history[field][3, 3])
        cell = pick[field]
        assert (cell == "" and not math.isfinite(value)) or float(cell) == pytest.approx(
            value, rel=1e-5, abs=1e-9), field


def test_patient_outside_the_cohort_is_refused_before_running(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = idds("trial", "--patients", "4", "--days", "1", "--patient", "4", "--out", str(out))
    assert_clean_refusal(done, "--patient 4 is not in the cohort: choose 0 to 3")
    assert not out.exists()


def test_progress_is_shown_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "idds", "trial", "--patients", "4", "--days", "1",
         "--batch-size", "2", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "TERM": "dumb"})
    assert done.returncode == 0, done.stderr
    assert "trial: 2 of 2 batches done" in done.stderr
