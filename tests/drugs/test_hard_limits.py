"""Issue 13, finding 1: 200 mg/day morphine went through with override_reason "x". Every drug
now has a hard maximum daily dose and a hard maximum bolus (signed library data), and a
soft-limit override needs a coded reason or free text of stated minimum content."""

from __future__ import annotations

import pytest

from idds.drugs import (
    REASON_CODES,
    HardLimitError,
    Proposal,
    SoftLimitError,
    check_therapy,
    enforce,
    load_library,
    reason_problem,
)
from idds.drugs.library import LimitKind
from idds.units import parse_quantity as q

LIBRARY = load_library()


@pytest.mark.parametrize("drug", sorted(LIBRARY.drugs))
def test_every_drug_has_a_hard_daily_and_bolus_maximum_with_a_source(drug: str) -> None:
    entry = LIBRARY.drug(drug)
    for limit in (entry.hard_max_daily_dose, entry.hard_max_bolus):
        assert limit.kind is LimitKind.HARD and limit.source.strip()
    for usual, hard in ((entry.max_daily_dose, entry.hard_max_daily_dose),
                        (entry.max_bolus, entry.hard_max_bolus)):
        assert usual is None or usual.value <= hard.value


def test_two_hundred_mg_a_day_of_morphine_cannot_be_overridden() -> None:
    result = check_therapy(LIBRARY.drug("morphine"), Proposal(
        concentration=q("10 mg/mL"), daily_dose=q("200 mg/day"), opioid_tolerant=True))
    assert "hard_max_daily_dose" in [b.limit_name for b in result.hard]
    for reason in ("x", "opioid-tolerant", "palliative, agreed with the patient and the team"):
        with pytest.raises(HardLimitError, match="above the hard limit 15 mg/day"):
            enforce(result, reason)


def test_a_bolus_above_the_hard_maximum_is_refused_whatever_the_reason() -> None:
    result = check_therapy(LIBRARY.drug("morphine"), Proposal(bolus=q("0.6 mg")))
    assert [b.limit_name for b in result.hard] == ["hard_max_bolus"]
    with pytest.raises(HardLimitError):
        enforce(result, "titration-agreed")


@pytest.mark.parametrize("reason", ["x", "ok", "ok ok ok ok", "tolerant", "titration agreed",
                                    "OPIOID-TOLERANT", "1234567890 1234567890 12345", "a" * 301])
def test_a_reason_without_content_does_not_override(reason: str) -> None:
    result = check_therapy(LIBRARY.drug("bupivacaine"), Proposal(
        daily_dose=q("16 mg/day"), current_daily_dose=q("15 mg/day")))
    assert result.soft and not result.hard
    assert reason_problem(reason) is not None
    with pytest.raises(SoftLimitError, match="needs an override"):
        enforce(result, reason)


@pytest.mark.parametrize("reason", [*REASON_CODES, "palliative, agreed with the family"])
def test_a_coded_reason_or_a_real_sentence_overrides_a_soft_limit(reason: str) -> None:
    result = check_therapy(LIBRARY.drug("bupivacaine"), Proposal(
        daily_dose=q("16 mg/day"), current_daily_dose=q("15 mg/day")))
    enforce(result, reason)
