"""A clinician's first hour, the doses: a calculator or simulator states what it was given and
warns or refuses where the drug library or the device says so. Through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.helpers import assert_clean_refusal, idds

SIMULATE = ("patient", "simulate", "--drug", "morphine", "--hours", "1", "--step-min", "5")


def test_an_intrathecal_bolus_above_the_library_maximum_is_warned_about() -> None:
    done = idds(*SIMULATE, "--route", "intrathecal", "--bolus", "50 mg", "--json")
    assert done.returncode == 0, done.stderr
    warnings = json.loads(done.stdout)["library_warnings"]
    assert any("bolus 50 mg is above" in w and "0.5 mg" in w for w in warnings), warnings
    assert "idds: warning: drug library" in done.stderr and "50 mg" in done.stderr


def test_a_library_limit_is_not_applied_to_another_route() -> None:
    done = idds(*SIMULATE, "--route", "oral", "--bolus", "50 mg", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["library_warnings"] == []
    assert done.stderr == ""


@pytest.mark.parametrize("dose", [("--bolus", "0 mg"), ("--rate", "0 mg/day")])
def test_a_zero_dose_is_refused(dose: tuple[str, str]) -> None:
    done = idds(*SIMULATE, "--route", "intrathecal", *dose)
    assert_clean_refusal(done, "must be above zero")


@pytest.mark.parametrize(("args", "fragment"), [
    (("--length-cm", "5000"), "longer than the 110 cm catheter"),
    (("--trimmed-cm", "120"), "leaves nothing of the 110 cm catheter"),
    (("--length-cm", "٤٨"), "ASCII digits"),
    (("--length-cm", "0 cm"), "must be above zero"),
])
def test_catheter_lengths_beyond_the_catheter_are_refused(args: tuple[str, ...],
                                                          fragment: str) -> None:
    assert_clean_refusal(idds("catheter", *args), fragment)


def test_catheter_takes_units_and_says_what_was_typed() -> None:
    trimmed = idds("catheter", "--trimmed-cm", "40 cm")
    assert trimmed.returncode == 0, trimmed.stderr
    text = " ".join(trimmed.stdout.split())
    assert "110 cm catheter trimmed by 40 cm = 70 cm implanted" in text
    assert "0.182 mL" in text
    for length in ("48 cm", "480 mm", "48"):
        done = idds("catheter", "--length-cm", length, "--json")
        assert json.loads(done.stdout)["volume"] == {"value": 0.1248, "unit": "mL"}, length


CONVERT = ("convert", "--drug", "morphine")


def test_a_converted_dose_that_breaks_a_limit_says_so_beside_the_start() -> None:
    done = idds(*CONVERT, "--dose", "300 g/day", "--from", "oral", "--to", "intrathecal")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if "suggested start" in line)
    assert "breaks a library limit" in " ".join(lines[start:start + 2])
    first_note = next(i for i, line in enumerate(lines) if line.lstrip().startswith("1."))
    breach = next(i for i, line in enumerate(lines)
                  if line.startswith(("HARD library limit", "soft library limit")))
    assert breach < first_note  # the breach is read before the notes, not after them


def test_a_start_below_the_usual_range_is_flagged() -> None:
    data = json.loads(idds(*CONVERT, "--dose", "10 mg/day", "--from", "oral", "--to",
                           "intrathecal", "--json").stdout)
    assert data["suggested_start"] == {"value": 0.1, "unit": "mg/day"}
    assert data["below_start_range"] is True
    assert any("below the usual starting range" in r for r in data["reasons"])


def test_converting_back_to_oral_suggests_no_start() -> None:
    done = idds(*CONVERT, "--dose", "3 mg/day", "--from", "intrathecal", "--to", "oral",
                "--json")
    data = json.loads(done.stdout)
    assert data["suggested_start"] is None
    assert data["equianalgesic"] == {"value": 900.0, "unit": "mg/day"}
    assert any("no start is suggested" in r for r in data["reasons"])
    shown = idds(*CONVERT, "--dose", "3 mg/day", "--from", "intrathecal", "--to", "oral")
    assert "none: no practice rule" in shown.stdout


def test_units_are_read_whatever_their_case() -> None:
    done = idds("rate", "--concentration", "10 MG/ML", "--dose", "1 MG/DAY", "--json")
    assert json.loads(done.stdout)["rate_per_day"] == {"value": 0.1, "unit": "mL/day"}
    assert_clean_refusal(idds("rate", "--concentration", "10 mg/mL", "--dose", "1 MG/KG"),
                         "unknown unit 'KG'")


PROGRAM = """[pump]
reservoir = "20 mL"
catheter_trimmed_cm = 40
low_reservoir_alarm = "2 mL"
[drug]
name = "{drug}"
concentration = "10 mg/mL"
fill = "18 mL"
[therapy]
mode = "continuous"
dose = "{dose}"
"""


@pytest.mark.parametrize(("drug", "dose", "days", "fragment"), [
    ("morphne", "1 mg/day", "1", "drug 'morphne' is not in the library"),
    ("morphine", "40 mg/day", "1", "above the hard limit"),
    ("morphine", "1 mg/day", "100000", "simulate 1 to 3650 days"),
])
def test_pump_simulate_checks_the_library_and_the_length(tmp_path: Path, drug: str, dose: str,
                                                         days: str, fragment: str) -> None:
    program = tmp_path / "p.toml"
    program.write_text(PROGRAM.format(drug=drug, dose=dose))
    done = idds("pump", "simulate", "--program", str(program), "--days", days)
    assert_clean_refusal(done, fragment)


def test_a_long_pump_run_is_tabled_by_week(tmp_path: Path) -> None:
    program = tmp_path / "p.toml"
    program.write_text(PROGRAM.format(drug="morphine", dose="1 mg/day"))
    done = idds("pump", "simulate", "--program", str(program), "--days", "70")
    assert done.returncode == 0, done.stderr
    assert "by week" in done.stdout and "│   10 │" in done.stdout.replace("┃", "│")


ADVICE = (Path(__file__).parents[2] / "examples" / "advice" / "patient.toml").read_text()


@pytest.mark.parametrize(("old", "new", "fragment"), [
    ('max_daily_dose = "6 mg/day"', 'max_daily_dose = "6 mg/h"',
     "bounds.max_daily_dose = '6 mg/h' is not per day"),
    ('min_daily_dose = "0.5 mg/day"', 'min_daily_dose = "8 mg/day"',
     "bounds.min_daily_dose must not be above bounds.max_daily_dose"),
])
def test_an_observations_file_says_what_is_wrong_in_its_own_words(
        tmp_path: Path, old: str, new: str, fragment: str) -> None:
    from idds.programmer.advisory.clinical import load_observations
    from idds.programmer.advisory.common import AdvisoryError

    assert old in ADVICE
    path = tmp_path / "obs.toml"
    path.write_text(ADVICE.replace(old, new))
    with pytest.raises(AdvisoryError) as caught:
        load_observations(path)
    assert fragment in str(caught.value)
    assert "_mg" not in str(caught.value)  # no internal field names
