"""A virtual patient at referral goes through the candidacy assessment (issue 15, part 5:
the seed case is assessed before the implant)."""

from __future__ import annotations

import pytest

from idds.physiology.symptoms import Symptom
from idds.selection import CandidacyOutcome, assess, load_criteria
from idds.trial.referral import referral_record

CRITERIA = load_criteria()
NONE = tuple(0 for _ in Symptom)


def _grades(**given: int) -> tuple[int, ...]:
    return tuple(given.get(s.name.lower(), 0) for s in Symptom)


@pytest.mark.parametrize(("nrs", "ome", "grades", "survival", "outcome", "decided_by"), [
    (8.2, 360, _grades(constipation=1), 103, CandidacyOutcome.SCREENING_TRIAL_FIRST,
     "refractory-pain"),
    (3.0, 160, _grades(somnolence=3), 365, CandidacyOutcome.SCREENING_TRIAL_FIRST,
     "intolerable-side-effects"),
    (8.0, 300, NONE, 60, CandidacyOutcome.EXTERNAL_CATHETER, "life-expectancy-route"),
    (3.0, 120, _grades(constipation=1), 365, CandidacyOutcome.NOT_A_CANDIDATE,
     "refractory-pain"),
    (7.0, 0, NONE, None, CandidacyOutcome.NOT_A_CANDIDATE, "refractory-pain"),
])
def test_a_virtual_patient_at_referral_gets_the_verdict_its_record_calls_for(
        nrs: float, ome: float, grades: tuple[int, ...], survival: float | None,
        outcome: CandidacyOutcome, decided_by: str) -> None:
    record = referral_record("virtual", "renal cell carcinoma", ("kidney",), nrs, ome, grades,
                             survival)
    verdict = assess(record, CRITERIA)
    assert verdict.outcome is outcome
    assert decided_by in verdict.deciding
    assert record.regimen.oral_morphine_equivalent.value_in("mg/day") == round(ome)
