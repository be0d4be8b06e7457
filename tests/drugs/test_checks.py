"""Dose error reduction against the library, including the 60 mcg/day -> 60 mcg/hour slip."""

from __future__ import annotations

import pytest

from idds.drugs import (
    HardLimitError,
    LimitKind,
    Proposal,
    SoftLimitError,
    check_therapy,
    enforce,
    load_library,
)
from idds.errors import IddsError
from idds.units import parse_quantity as q

LIBRARY = load_library()


def test_within_limits_is_clear() -> None:
    result = check_therapy(
        LIBRARY.drug("morphine"),
        Proposal(concentration=q("10 mg/mL"), daily_dose=q("1.1 mg/day"), bolus=q("0.1 mg"),
                 current_daily_dose=q("1 mg/day")),
    )
    assert result.clear
    enforce(result, None)


def test_concentration_over_hard_limit_blocks() -> None:
    result = check_therapy(LIBRARY.drug("morphine"), Proposal(concentration=q("25 mg/mL")))
    assert [b.limit_name for b in result.hard] == ["concentration_max"]
    with pytest.raises(HardLimitError, match="concentration 25 mg/mL is above the hard limit"):
        enforce(result, "a reason cannot override a hard limit")


def test_soft_limit_needs_a_reason() -> None:
    # bupivacaine: soft maximum 15 mg/day, hard 20 mg/day (PACC 15-20 mg)
    result = check_therapy(LIBRARY.drug("bupivacaine"), Proposal(
        daily_dose=q("16 mg/day"), current_daily_dose=q("15 mg/day")))
    assert [b.limit_name for b in result.soft] == ["max_daily_dose"]
    with pytest.raises(SoftLimitError, match="needs an override"):
        enforce(result, None)
    with pytest.raises(SoftLimitError):
        enforce(result, "   ")
    enforce(result, "palliative, agreed with the family and the team")


@pytest.mark.parametrize("drug", ["morphine", "hydromorphone", "fentanyl", "sufentanil",
                                  "bupivacaine", "clonidine", "ziconotide", "baclofen"])
def test_sixty_mcg_per_hour_meant_per_day_is_caught(drug: str) -> None:
    """ISMP: a flex dose meant as 60 mcg/day programmed as 60 mcg/hour (24-fold)."""
    entry = LIBRARY.drug(drug)
    intended = q("60 mcg/day")
    entered = q("60 mcg/h")
    current = intended  # the patient is already on the intended dose
    result = check_therapy(entry, Proposal(daily_dose=entered, current_daily_dose=current))
    assert not result.clear, f"{drug}: a 24-fold increase passed the library"
    with pytest.raises((HardLimitError, SoftLimitError)):
        enforce(result, None)
    # ... while the intended entry raises nothing about the size of the change
    same = check_therapy(entry, Proposal(daily_dose=intended, current_daily_dose=current))
    assert all(b.limit_name not in ("max_increase_percent", "max_increase") for b in same.breaches)


def test_sixty_per_hour_as_a_new_start_is_caught_too() -> None:
    for drug in ("hydromorphone", "fentanyl", "sufentanil", "clonidine", "ziconotide"):
        result = check_therapy(LIBRARY.drug(drug), Proposal(daily_dose=q("60 mcg/h")))
        assert not result.clear, drug


def test_ziconotide_step_and_interval_are_hard() -> None:
    result = check_therapy(
        LIBRARY.drug("ziconotide"),
        Proposal(daily_dose=q("6 mcg/day"), current_daily_dose=q("2.4 mcg/day"),
                 time_since_last_increase=q("12 h")),
    )
    names = {b.limit_name: b.kind for b in result.breaches}
    assert names["max_increase"] is LimitKind.HARD
    assert names["min_interval_between_increases"] is LimitKind.HARD


def test_a_decrease_is_never_a_step_breach() -> None:
    result = check_therapy(LIBRARY.drug("morphine"),
                           Proposal(daily_dose=q("0.5 mg/day"), current_daily_dose=q("5 mg/day"),
                                    time_since_last_increase=q("1 h")))
    assert result.clear


def test_boundary_values_are_within() -> None:
    entry = LIBRARY.drug("morphine")
    result = check_therapy(entry, Proposal(concentration=q("20 mg/mL"),
                                           daily_dose=q("1.2 mg/day"),
                                           current_daily_dose=q("1 mg/day"), bolus=q("0.5 mg")))
    assert result.clear


def test_zero_or_negative_is_refused() -> None:
    with pytest.raises(IddsError, match="daily dose must be above zero"):
        check_therapy(LIBRARY.drug("morphine"), Proposal(daily_dose=q("0 mg/day")))
    with pytest.raises(IddsError, match="concentration must be above zero"):
        check_therapy(LIBRARY.drug("morphine"), Proposal(concentration=q("-1 mg/mL")))


def test_the_daily_maximum_counts_every_allowed_bolus() -> None:
    entry = LIBRARY.drug("bupivacaine")  # soft maximum 15 mg/day, hard 20 mg/day
    basal_only = check_therapy(entry, Proposal(daily_dose=q("14 mg/day"),
                                               current_daily_dose=q("14 mg/day")))
    assert basal_only.clear
    with_boluses = check_therapy(entry, Proposal(daily_dose=q("14 mg/day"), bolus=q("0.5 mg"),
                                                 boluses_per_day=4,
                                                 current_daily_dose=q("14 mg/day")))
    [breach] = with_boluses.breaches
    assert breach.limit_name == "max_daily_dose"
    assert "daily dose with every allowed bolus 16 mg/day" in breach.message
    over_hard = check_therapy(entry, Proposal(daily_dose=q("14 mg/day"), bolus=q("2 mg"),
                                              boluses_per_day=4,
                                              current_daily_dose=q("14 mg/day")))
    assert [b.limit_name for b in over_hard.hard] == ["hard_max_daily_dose"]
