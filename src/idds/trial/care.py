"""Supportive care in every arm: co-analgesics and active treatment of side effects, and which
side effects limit the opioid dose (the others are treated, not dose-limiting)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from idds.control import Observations
from idds.physiology import CohortState
from idds.physiology.model import start_coanalgesics
from idds.physiology.symptoms import Care, Symptom


@dataclass(frozen=True)
class SupportiveCare:
    """Co-analgesics and active treatment of side effects, the same in every arm
    (comprehensive medical management, ref; the pump arms of the trials were pump plus CMM):

    - every patient on opioids has a prophylactic laxative; a symptom that reaches
      `treat_from_grade` on a day is treated from the next day on (a second laxative, an
      antiemetic, a psychostimulant for somnolence): `SymptomParams`'s
      `laxative_intensified_relief`, `antiemetic_relief` and `psychostimulant_relief`;
    - at the end of week 1 (`coanalgesic_review_day`) a pain specialist adds an optimised
      co-analgesic for the patients whose diary pain is still above `coanalgesic_above_nrs`
      (`PainParams.coanalgesic_relief_fraction` of the background drive).
    Assumption: the reference names the treatments, not their timing or effect."""

    treat_from_grade: int = 2
    coanalgesic_review_day: int = 7
    coanalgesic_above_nrs: float = 3.0

    def coanalgesics(self, state: CohortState, obs: Observations) -> CohortState:
        """The state with co-analgesics started after today's review (unchanged on other
        days); `obs` are the observations at the end of today."""
        if obs.day + 1 != self.coanalgesic_review_day:
            return state
        return start_coanalgesics(state, obs.diary_mean_nrs > self.coanalgesic_above_nrs)

    def update(self, care: Care, grades: NDArray[np.int8]) -> Care:
        """The care in force tomorrow after today's grades (N_SYMPTOMS, n)."""
        g = grades >= self.treat_from_grade
        return replace(
            care,
            laxative_intensified=care.laxative_intensified | g[Symptom.CONSTIPATION],
            antiemetic=care.antiemetic | g[Symptom.NAUSEA] | g[Symptom.VOMITING],
            psychostimulant=care.psychostimulant | g[Symptom.SOMNOLENCE],
        )
