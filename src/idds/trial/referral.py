"""A virtual patient at referral, as the candidacy assessment reads one (issue 15).

What the model knows of a patient on the run-in day (day 0, on the prior oral regimen) goes
into an `idds.selection.CandidateRecord`, through the same strict reader as a patient file:
the pain NRS (the day's mean, for rest and movement alike: the model does not tell them
apart), its type and distribution, the oral morphine equivalent, and the side-effect grades
the model keeps (lack of appetite has no field in the record). Life expectancy is the team's
estimate: the patient's own median survival in a trial cohort
(`idds.physiology.survival.prognosis_days`), the archetype's median for a story's typical
patient (None or +inf: no disease hazard, taken as ten years). What
the model does not represent is set to "nothing against it" (`NOTHING_AGAINST`): no
coagulation problem, infection, CSF obstruction, GI obstruction, MAO inhibitor or
psychosocial barrier, and performance status ECOG 2. That is an assumption of every referral
built here, stated wherever it is shown.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from idds.physiology.symptoms import Symptom
from idds.selection import CandidateRecord, parse_candidate

#: The record's side-effect field of each graded symptom (anorexia has none).
SIDE_EFFECT_FIELDS: dict[Symptom, str] = {
    Symptom.CONSTIPATION: "constipation", Symptom.NAUSEA: "nausea",
    Symptom.VOMITING: "vomiting", Symptom.SOMNOLENCE: "sedation",
    Symptom.FATIGUE: "fatigue", Symptom.CONFUSION: "confusion",
    Symptom.PRURITUS: "pruritus", Symptom.URINARY_RETENTION: "urinary_retention",
    Symptom.RESPIRATORY_DEPRESSION: "respiratory_depression",
}
#: What the virtual patient does not represent: an assumption, shown with the record.
NOTHING_AGAINST = ("not represented by the virtual patient, so taken as nothing against "
                   "implant: coagulation, infection, CSF flow, GI obstruction, MAO "
                   "inhibitors, psychosocial factors; performance status taken as ECOG 2")
#: Performance status taken for every virtual patient (the model has none): ECOG 2,
#: ambulatory and capable of self-care (an assumption; it decides nothing in the reference
#: criteria, which show it as a consideration).
ASSUMED_ECOG = 2
#: Life expectancy taken for a patient without a disease hazard, days.
NO_HAZARD_DAYS = 3650


def referral_record(label: str, diagnosis: str, sites: Sequence[str], nrs: float,
                    oral_morphine_mg_per_day: float, grades: Sequence[int],
                    median_survival_days: float | None, pain_type: str = "nociceptive",
                    pain_distribution: str = "localized") -> CandidateRecord:
    """The candidate record of a virtual patient at referral. `nrs`: pain NRS 0-10 on the
    run-in day; `grades`: CTCAE grade of each `Symptom` (in its order) that day;
    `median_survival_days`: the team's estimate of life expectancy (days, at least 1)."""
    days = NO_HAZARD_DAYS if median_survival_days is None or not math.isfinite(
        median_survival_days) else max(1, round(median_survival_days))
    side: dict[str, Any] = {name: int(grades[symptom]) for symptom, name in
                            SIDE_EFFECT_FIELDS.items()}
    score = min(10, max(0, round(nrs)))
    data: dict[str, Any] = {
        "patient": {"label": label, "diagnosis": diagnosis, "sites_of_disease": list(sites),
                    "life_expectancy": f"{days} day", "ecog": ASSUMED_ECOG},
        "pain": {"nrs_rest": score, "nrs_movement": score, "type": pain_type,
                 "distribution": pain_distribution},
        "regimen": {"oral_morphine_equivalent": f"{round(oral_morphine_mg_per_day)} mg/day",
                    "description": "the virtual patient's prior oral regimen"},
        "side_effects": side,
        "coagulation": {"inr": 1, "platelets": 250, "anticoagulant": "none",
                        "bleeding_diathesis_uncontrolled": False},
        "infection": {"at_site": False, "systemic": False},
        "conditions": {"csf_flow_obstruction": False,
                       "epidural_disease_at_catheter_level": False,
                       "vertebral_metastases": False,
                       "significant_respiratory_depression": False, "gi_obstruction": False,
                       "mao_inhibitor_last_dose": "none"},
        "psychosocial": {"untreated_major_psychiatric_disorder": False,
                         "social_support": True, "can_attend_refills": True},
    }
    return parse_candidate(data, source=label)
