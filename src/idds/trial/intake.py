"""From referral to treatment: candidacy, the screening trial, and who gets intrathecal therapy.

A trial that starts from referral (an arm `it-screened` or `ARM+screened`,
`idds.trial.screened`) takes every virtual patient through the workflow before day 0, as an
expert team would (docs/screening.md, "Trials by intention to treat"):

1. referral: the patient's record on the run-in day (`idds.trial.referral.referral_record`:
   pain, regimen, side-effect grades, pain type and distribution, the team's estimate of life
   expectancy) is assessed against the signed candidacy criteria (`idds.selection.assess`);
2. those the criteria send to a screening trial are screened (`idds.selection.screening`:
   `IntakeSettings.method`, over `days` for an infusion), on their own virtual patient from
   the prior regimen;
3. the screening result goes into the record and the criteria decide again: an implanted pump
   after a positive screen, not a candidate after a negative one.

Those the criteria send to an external (tunnelled) catheter (life expectancy below about
3 months) receive intrathecal therapy without a screening trial; the delivery model is the
same as a pump's. Everyone else continues comprehensive medical management. Day 0 of the
trial is the day the decision is taken; the hours of screening are not part of the trial's
record (a simplification: the test dose's own effect on the following days is not carried).
Pure: the same cohort, criteria and settings give the same intake.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from enum import IntEnum
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from idds.drugs import DrugLibrary
from idds.physiology import Cohort
from idds.physiology.reach import PainExtent, PainMechanism
from idds.selection import CandidacyCriteria, CandidacyOutcome, assess
from idds.selection.screening import screen_cohort
from idds.selection.screening_rules import ScreeningMethod, ScreeningRule, ScreeningVerdict
from idds.trial.referral import referral_record

Array = NDArray[np.float64]


class Pathway(IntEnum):
    """Where the workflow led a patient (one code per patient; the flow's boxes)."""

    NOT_A_CANDIDATE = 0
    DEFERRED = 1
    EXTERNAL_CATHETER = 2
    IMPLANTED_WITHOUT_SCREENING = 3
    SCREENED_IMPLANTED = 4
    SCREENED_NOT_IMPLANTED = 5


#: Routes that receive intrathecal therapy (by implanted pump or external catheter).
INTRATHECAL = frozenset({Pathway.EXTERNAL_CATHETER, Pathway.IMPLANTED_WITHOUT_SCREENING,
                         Pathway.SCREENED_IMPLANTED})
#: Screening verdict codes per patient (-1: not screened).
VERDICT_CODES: tuple[ScreeningVerdict, ...] = tuple(ScreeningVerdict)
NOT_SCREENED = -1
#: Codes of `Selection.it_success`: not evaluable (not screened, or died before day 28).
NOT_EVALUABLE = -1


@dataclass(frozen=True)
class IntakeSettings:
    """How referral is handled: the screening method and its length in days (an infusion:
    1-3), the candidacy criteria file (None: the reference criteria, verified with the shipped
    keys), and the screening's success rule.

    Default method, catheter infusion over 1 day: its dose is the conversion the pump arm
    starts from (the library's practice ratio from the oral morphine equivalent), so the screen
    tests the therapy the patient would receive; a single test bolus is capped at the
    library's hard maximum bolus (0.5 mg morphine), far below that dose for most tolerant
    patients (docs/screening.md). One day is the label's shortest monitoring (>= 24 h).
    """

    method: ScreeningMethod = ScreeningMethod.INFUSION
    days: int = 1
    criteria: Path | None = None
    rule: ScreeningRule = field(default_factory=ScreeningRule)


@dataclass(frozen=True)
class Intake:
    """Every referred patient's path, in cohort order (arrays (n,)).

    route: `Pathway` codes; referral: the candidacy summary at
    referral (the reason a patient was excluded or sent on); screen: `VERDICT_CODES` position
    of the screening verdict (-1: not screened); screen_relief_percent: the sustained fall in
    pain on the screen (NaN: not screened).
    """

    route: NDArray[np.int8]
    referral: tuple[str, ...]
    screen: NDArray[np.int8]
    screen_relief_percent: Array

    @property
    def intrathecal(self) -> NDArray[np.bool_]:
        """Who receives intrathecal therapy."""
        out: NDArray[np.bool_] = np.isin(self.route, [int(r) for r in INTRATHECAL])
        return out

    @property
    def screened(self) -> NDArray[np.bool_]:
        out: NDArray[np.bool_] = self.screen != NOT_SCREENED
        return out

    def referral_reasons(self, routes: frozenset[Pathway]) -> dict[str, int]:
        """Patients per candidacy summary at referral, among those on `routes`."""
        on = np.isin(self.route, [int(r) for r in routes])
        return dict(Counter(s for s, keep in zip(self.referral, on, strict=True) if keep)
                    .most_common())

    @staticmethod
    def concatenate(parts: list[Intake]) -> Intake:
        return Intake(np.concatenate([p.route for p in parts]),
                      tuple(s for p in parts for s in p.referral),
                      np.concatenate([p.screen for p in parts]),
                      np.concatenate([p.screen_relief_percent for p in parts]))


@dataclass(frozen=True)
class Selection:
    """A screened arm's intake and, per patient, whether intrathecal therapy succeeded at 4
    weeks (1 yes, 0 no, -1 not evaluable): for the implanted from their own course, for the
    screened but not implanted from their counterfactual course on the inner arm."""

    intake: Intake
    it_success: NDArray[np.int8]

    @staticmethod
    def concatenate(parts: list[Selection]) -> Selection:
        return Selection(Intake.concatenate([p.intake for p in parts]),
                         np.concatenate([p.it_success for p in parts]))


def _pathway(outcome: CandidacyOutcome, screened: bool) -> Pathway:
    if outcome is CandidacyOutcome.EXTERNAL_CATHETER:
        return Pathway.EXTERNAL_CATHETER
    if outcome is CandidacyOutcome.IMPLANTED_PUMP:
        return Pathway.SCREENED_IMPLANTED if screened else Pathway.IMPLANTED_WITHOUT_SCREENING
    if screened:
        return Pathway.SCREENED_NOT_IMPLANTED
    return Pathway.DEFERRED if outcome is CandidacyOutcome.DEFERRED else Pathway.NOT_A_CANDIDATE


def refer(cohort: Cohort, pain_nrs: Array, grades: NDArray[np.int8], library: DrugLibrary,
          criteria: CandidacyCriteria, settings: IntakeSettings) -> Intake:
    """The intake of every patient of `cohort`, from the run-in day: pain NRS (n,) and the
    CTCAE grade of each symptom (N_SYMPTOMS, n)."""
    records = [
        referral_record(f"patient {int(index)}", "advanced cancer", ("not recorded",),
                        float(pain_nrs[i]), float(cohort.prior_oral_morphine_mg_per_day[i]),
                        [int(g) for g in grades[:, i]], float(cohort.prognosis_days[i]),
                        PainMechanism(int(cohort.pain.pain_type[i])).label,
                        PainExtent(int(cohort.pain.pain_distribution[i])).label)
        for i, index in enumerate(cohort.indices)
    ]
    first = [assess(record, criteria) for record in records]
    n = cohort.n
    screen = np.full(n, NOT_SCREENED, dtype=np.int8)
    relief = np.full(n, np.nan)
    final = list(first)
    chosen = np.flatnonzero([v.outcome is CandidacyOutcome.SCREENING_TRIAL_FIRST for v in first])
    if chosen.size:
        screening = screen_cohort(cohort.take(chosen), library, method=settings.method,
                                  days=settings.days, rule=settings.rule)
        for i, decision in zip(chosen, screening.decisions, strict=True):
            screen[i] = VERDICT_CODES.index(decision.verdict)
            relief[i] = decision.sustained_relief_percent
            final[i] = assess(replace(records[i], screen=decision.as_prior_screen()), criteria)
    route = np.array([_pathway(v.outcome, screen[i] != NOT_SCREENED) for i, v in enumerate(final)],
                     dtype=np.int8)
    return Intake(route, tuple(v.summary for v in first), screen, relief)
