"""The clinician calculators through the real command line."""

from __future__ import annotations

import pytest

from tests.cli.helpers import assert_clean_refusal, idds, idds_json

CONVERT = ["convert", "--drug", "morphine", "--dose", "300 mg/day", "--from", "oral",
           "--to", "intrathecal"]
REFILL = ["refill", "--volume", "18 mL", "--alarm-volume", "2 mL", "--concentration",
          "10 mg/mL", "--dose", "1 mg/day", "--from", "2026-12-01"]


def test_convert_json_contract() -> None:
    data = idds_json(*CONVERT)
    assert data["equianalgesic"] == {"value": 1.0, "unit": "mg/day"}
    assert data["suggested_start"] == {"value": 3.0, "unit": "mg/day"}
    assert isinstance(data["reasons"], list) and len(data["reasons"]) >= 3
    assert data["start_range"]["high"] == {"value": 10.0, "unit": "mg/day"}
    assert data["limits"]["concentration_max"]["kind"] == "hard"


def test_convert_table_shows_mcg_never_micro_sign() -> None:
    done = idds("convert", "--drug", "hydromorphone", "--dose", "2000 ug/day", "--from",
                "oral", "--to", "intrathecal")
    assert done.returncode == 0, done.stderr
    assert "suggested start" in done.stdout
    assert "µ" not in done.stdout and "μ" not in done.stdout


def test_refill_json_contract() -> None:
    data = idds_json(*REFILL, "--bolus", "0.05 mg", "--max-boluses", "4")
    assert data["days_to_alarm"] == pytest.approx(400 / 3)
    assert data["alarm_date"] == "2027-04-13"
    assert data["total_rate"] == {"value": 0.12, "unit": "mL/day"}


def test_refill_checks_the_library_when_given_the_drug() -> None:
    ok = idds_json(*REFILL, "--drug", "morphine")
    assert ok["library_checked_for"].startswith("Morphine")
    done = idds(*REFILL, "--concentration", "25 mg/mL", "--drug", "morphine")
    assert_clean_refusal(done, "concentration 25 mg/mL is above the hard limit 20 mg/mL")


def test_refill_date_is_held_by_the_drug_stability_not_only_the_alarm() -> None:
    """0.5 mg/day from 16 usable mL at 10 mg/mL lasts 320 days; morphine stays in the
    reservoir at most 90 days, so the refill is due on day 90, and says why."""
    slow = idds_json(*REFILL, "--dose", "0.5 mg/day", "--drug", "morphine")
    assert slow["days_to_alarm"] == pytest.approx(320)
    assert slow["refill_by"] == "2027-03-01"
    assert "stability" in slow["refill_by_reason"]
    fast = idds_json(*REFILL, "--dose", "3 mg/day", "--drug", "morphine")
    assert fast["refill_by"] == fast["alarm_date"] == "2027-01-23"
    assert fast["refill_by_reason"] == "the low-reservoir alarm"
    shown = idds(*REFILL, "--dose", "0.5 mg/day", "--drug", "morphine")
    assert "Refill by 2027-03-01: at most 90 days: Morphine (preservative-free) stability" in (
        " ".join(shown.stdout.split())), shown.stdout


def test_refill_checks_every_library_limit_not_only_the_concentration() -> None:
    done = idds(*REFILL, "--bolus", "5 mg", "--max-boluses", "4", "--drug", "morphine")
    assert_clean_refusal(done, "bolus 5 mg is above the hard limit 0.5 mg")
    done = idds(*REFILL, "--dose", "14 mg/day", "--bolus", "0.5 mg", "--max-boluses", "4",
                "--drug", "morphine")
    assert_clean_refusal(done, "daily dose with every allowed bolus 16 mg/day is above the "
                               "hard limit 15 mg/day")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["convert", "--drug", "morphine", "--dose", "300", "--from", "oral", "--to",
          "intrathecal"], "has no unit"),
        (["convert", "--drug", "morphine", "--dose", "300 U/day", "--from", "oral", "--to",
          "intrathecal"], "unknown unit 'U'"),
        (["convert", "--drug", "morphine", "--dose", "3 cc", "--from", "oral", "--to",
          "intrathecal"], "unknown unit 'cc'"),
        (["convert", "--drug", "morphine", "--dose", "300 mg", "--from", "oral", "--to",
          "intrathecal"], "dose must be a dose rate"),
        (["convert", "--drug", "morphine", "--dose", "-3 mg/day", "--from", "oral", "--to",
          "intrathecal"], "above zero"),
        (["convert", "--drug", "morphine", "--dose", "3 mg/day", "--from", "rectal", "--to",
          "intrathecal"], "route 'rectal' is unknown"),
        (["convert", "--drug", "aspirin", "--dose", "3 mg/day", "--from", "oral", "--to",
          "intrathecal"], "'aspirin' is not in the library"),
        (["convert", "--drug", "morphine", "--dose", "3 mg/day", "--from", "oral"],
         "Missing option '--to'"),
        ([*REFILL[:2], "-18 mL", *REFILL[3:]], "above zero"),
        ([*REFILL, "--bolus", "0.05 mg"], "give both"),
        (["refill", "--volume", "18 mL"], "Missing option"),
        ([*REFILL[:-2], "--from", "2026-13-01"], "not a date"),
        (["rate", "--concentration", "10 mg/kg", "--dose", "1 mg/day"], "unknown unit 'kg'"),
        (["rate", "--concentration", "10 mg/mL"], "exactly one of --dose or --flow"),
        (["catheter", "--length-cm", "abc"], "is not a number"),
        (["convert", "--nonsense"], "No such option"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], fragment: str) -> None:
    assert_clean_refusal(idds(*args), fragment)


def test_rate_and_catheter() -> None:
    rate = idds_json("rate", "--concentration", "1 mg/mL", "--dose", "60 mcg/h")
    assert rate["dose_per_day"] == {"value": 1440.0, "unit": "mcg/day"}
    assert rate["rate_per_day"] == {"value": 1.44, "unit": "mL/day"}
    catheter = idds_json("catheter", "--trimmed-cm", "62")
    assert catheter["volume"] == {"value": 0.1248, "unit": "mL"}


def test_rate_checks_the_named_drug_against_the_library() -> None:
    done = idds("rate", "--concentration", "10 mg/mL", "--dose", "16 mg/day", "--drug",
                "morphine")
    assert_clean_refusal(done, "daily dose 16 mg/day is above the hard limit 15 mg/day")
    ok = idds_json("rate", "--concentration", "10 mg/mL", "--dose", "12 mg/day", "--drug",
                   "morphine")
    assert ok["rate_per_day"] == {"value": 1.2, "unit": "mL/day"}
    assert ok["library_checked_for"] == "morphine" and ok["library_warnings"] == []
