"""One patient to screen, from the values a candidate record gives: a one-patient `Cohort`.

A caller (e.g. a candidate file reader) gives the pain type and distribution, the oral
morphine equivalent the patient takes (0: opioid-naive) and the baseline pain; the rest of
the virtual patient (PK, sensitivity, symptoms) comes from an archetype: `opioid-naive`
below the rule's tolerance threshold, `typical-tolerant` at or above it, unless one is
named. The pain drive is set so that the patient's pain on the prior regimen is the given
baseline, as `sample_cohort` does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from idds.physiology import Cohort, PhysiologyError, sample_cohort, typical_cohort
from idds.physiology.cohort import steady_relief
from idds.physiology.reach import pain_distribution, pain_type, reachable_share
from idds.selection.record import CandidateRecord
from idds.selection.screening_rules import ScreeningError, ScreeningRule, is_tolerant


@dataclass(frozen=True)
class ScreeningSubject:
    """What a screening needs to know of one patient.

    oral_morphine_mg_per_day: the systemic opioid regimen as oral morphine equivalent, mg/day
    (0: opioid-naive; it continues during the screening). baseline_nrs: background pain on
    it, NRS 0-10. pain_type: nociceptive, mixed or neuropathic; pain_distribution: localized
    or widespread. tip_distance_cm: planned distance from the catheter tip to the painful
    segments, cm. reachable_share: the share of the pain drive intrathecal opioid can act on,
    0-1 (None: from type, distribution and distance, `idds.physiology.reach`). archetype: the
    virtual patient's other parameters (None: by tolerance).
    """

    oral_morphine_mg_per_day: float
    baseline_nrs: float
    pain_type: str = "nociceptive"
    pain_distribution: str = "localized"
    tip_distance_cm: float = 2.0
    reachable_share: float | None = None
    archetype: str | None = None

    def archetype_name(self, rule: ScreeningRule) -> str:
        if self.archetype is not None:
            return self.archetype
        tolerant = is_tolerant(self.oral_morphine_mg_per_day, rule)
        return "typical-tolerant" if tolerant else "opioid-naive"


def subject_from_record(record: CandidateRecord) -> ScreeningSubject:
    """The screening subject of a candidate record (`idds.selection.record`): its oral
    morphine equivalent, its pain at rest as the background baseline (the model adds the
    pain of movement as incident breakthrough episodes), its pain type and distribution; the
    catheter tip is taken as aimed at the painful segments (the default distance)."""
    return ScreeningSubject(
        oral_morphine_mg_per_day=float(record.regimen.oral_morphine_equivalent
                                       .value_in("mg/day")),
        baseline_nrs=float(record.pain.nrs_rest),
        pain_type=record.pain.type.value,
        pain_distribution=record.pain.distribution.value,
    )


def subject_cohort(subject: ScreeningSubject, drug: str, seed: int | None = None,
                   rule: ScreeningRule | None = None) -> Cohort:
    """The one-patient cohort of a subject (seed None: the archetype's typical patient; else
    patient 0 of a cohort with that seed), simulating morphine and `drug`."""
    rule = rule or ScreeningRule()
    s = subject
    if not (math.isfinite(s.oral_morphine_mg_per_day) and 0 <= s.oral_morphine_mg_per_day
            <= 10_000):
        raise ScreeningError("the oral morphine equivalent must be 0-10000 mg/day")
    if not (math.isfinite(s.baseline_nrs) and 0 < s.baseline_nrs <= 10):
        raise ScreeningError(f"the baseline pain must be NRS above 0 and at most 10, not "
                             f"{s.baseline_nrs:g}")
    if not (math.isfinite(s.tip_distance_cm) and 0 <= s.tip_distance_cm <= 60):
        raise ScreeningError("the tip-to-dermatome distance must be 0-60 cm")
    if s.reachable_share is not None and not 0 <= s.reachable_share <= 1:
        raise ScreeningError(f"the reachable share must be 0-1, not {s.reachable_share:g}")
    try:
        kind, extent = pain_type(s.pain_type), pain_distribution(s.pain_distribution)
        name = s.archetype_name(rule)
        base = typical_cohort(name, 1, drugs=(drug,)) if seed is None \
            else sample_cohort(1, seed, name, drugs=(drug,))
    except PhysiologyError as exc:
        raise ScreeningError(str(exc)) from None
    share = reachable_share([int(kind)], [int(extent)], [s.tip_distance_cm]) \
        if s.reachable_share is None else np.array([float(s.reachable_share)])
    sens = replace(base.sensitivity, reachable_share=share)
    prior = np.array([float(s.oral_morphine_mg_per_day)])
    relief = steady_relief(base.drugs, base.pk, sens, prior)
    baseline = np.array([float(s.baseline_nrs)])
    pain = replace(base.pain, baseline_nrs=baseline, drive0_nrs=baseline / (1.0 - relief),
                   pain_type=np.array([int(kind)]), pain_distribution=np.array([int(extent)]),
                   tip_distance_cm=np.array([float(s.tip_distance_cm)]))
    return replace(base, sensitivity=sens, pain=pain, prior_oral_morphine_mg_per_day=prior,
                   oral_rescue_mg=np.zeros(1), _cache={})
