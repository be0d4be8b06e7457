"""A screened arm's analyses: the flow of patients, intention to treat against as treated,
and the predictive value of the screening result.

- Flow (CONSORT style): referred; excluded at candidacy with the reasons; sent to an external
  catheter; screened, with each result; implanted; continued `cmm`; died during the trial;
  analysed.
- Intention to treat: every referred patient, in the arm they were referred in, whatever they
  received: the arm's ordinary metrics (`ArmResult.metrics`).
- As treated: the same metrics over those who received intrathecal therapy and over those who
  continued `cmm` (`as_treated`).
- Predictive value of the screen for success at 4 weeks (`idds.trial.screened.success_at`):
  screen-positive against screen-negative (including stopped for safety), among the screened
  patients alive at day 28; success for the screen-negative is their counterfactual course on
  the inner arm. Positive and negative predictive value, sensitivity and specificity with
  Wilson intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from idds.selection.screening_rules import ScreeningVerdict
from idds.trial.intake import NOT_EVALUABLE, VERDICT_CODES, Pathway, Selection
from idds.trial.metrics import Estimate, PatientOutcomes, arm_metrics, share_ci
from idds.trial.screened import SUCCESS_DAY

#: As-treated groups.
INTRATHECAL_GROUP = "intrathecal"
CMM_GROUP = "cmm"


@dataclass(frozen=True)
class Flow:
    """Counts of patients at each step (a CONSORT-style diagram)."""

    referred: int
    excluded: dict[str, int]
    external_catheter: int
    implanted_without_screening: int
    screened: int
    screen_results: dict[str, int]
    implanted_after_screening: int
    not_implanted_after_screening: int
    received: dict[str, int]
    died: dict[str, int]
    analysed_itt: int
    analysed_as_treated: dict[str, int]

    def as_json(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class PredictiveValue:
    """The screen against success on intrathecal therapy at 4 weeks, among `evaluable`
    screened patients: counts of positive screens that succeeded (true positive) and failed
    (false positive), negative screens that would have succeeded (false negative) and would
    have failed (true negative); the four shares in percent with Wilson intervals."""

    evaluable: int
    not_evaluable: int
    true_positive: int
    false_positive: int
    false_negative: int
    true_negative: int
    positive_predictive_value: Estimate
    negative_predictive_value: Estimate
    sensitivity: Estimate
    specificity: Estimate

    def as_json(self) -> dict[str, object]:
        return {k: (v.as_json() if isinstance(v, Estimate) else v)
                for k, v in self.__dict__.items()}


def flow(selection: Selection, death_day: np.ndarray, days: int,
         outcomes: PatientOutcomes) -> Flow:
    intake = selection.intake
    route = intake.route
    it = intake.intrathecal
    screen = intake.screen

    def count(r: Pathway) -> int:
        return int(np.sum(route == r))

    died = death_day < days
    return Flow(
        referred=int(route.size),
        excluded=intake.referral_reasons(frozenset({Pathway.NOT_A_CANDIDATE, Pathway.DEFERRED})),
        external_catheter=count(Pathway.EXTERNAL_CATHETER),
        implanted_without_screening=count(Pathway.IMPLANTED_WITHOUT_SCREENING),
        screened=int(intake.screened.sum()),
        screen_results={v.value: int(np.sum(screen == i)) for i, v in enumerate(VERDICT_CODES)},
        implanted_after_screening=count(Pathway.SCREENED_IMPLANTED),
        not_implanted_after_screening=count(Pathway.SCREENED_NOT_IMPLANTED),
        received={INTRATHECAL_GROUP: int(it.sum()), CMM_GROUP: int((~it).sum())},
        died={INTRATHECAL_GROUP: int((died & it).sum()), CMM_GROUP: int((died & ~it).sum())},
        analysed_itt=int(outcomes.has_outcome.sum()),
        analysed_as_treated={INTRATHECAL_GROUP: int((outcomes.has_outcome & it).sum()),
                             CMM_GROUP: int((outcomes.has_outcome & ~it).sum())},
    )


def as_treated(selection: Selection, outcomes: PatientOutcomes,
               seed: int) -> dict[str, dict[str, Estimate]]:
    """The arm's metrics over those who received intrathecal therapy and over the rest."""
    it = selection.intake.intrathecal
    return {INTRATHECAL_GROUP: arm_metrics(outcomes.take(it), seed),
            CMM_GROUP: arm_metrics(outcomes.take(~it), seed)}


def predictive_value(selection: Selection) -> PredictiveValue | None:
    """The screen's predictive value for success at 4 weeks (None: nobody was screened, or
    the trial is shorter than 4 weeks)."""
    screen, success = selection.intake.screen, selection.it_success
    screened = selection.intake.screened
    if not screened.any() or not (success[screened] != NOT_EVALUABLE).any():
        return None
    ok = screened & (success != NOT_EVALUABLE)
    positive = screen == VERDICT_CODES.index(ScreeningVerdict.POSITIVE)
    good = success == 1
    tp, fp = ok & positive & good, ok & positive & ~good
    fn, tn = ok & ~positive & good, ok & ~positive & ~good
    return PredictiveValue(
        evaluable=int(ok.sum()), not_evaluable=int((screened & ~ok).sum()),
        true_positive=int(tp.sum()), false_positive=int(fp.sum()),
        false_negative=int(fn.sum()), true_negative=int(tn.sum()),
        positive_predictive_value=share_ci(good[ok & positive]),
        negative_predictive_value=share_ci(~good[ok & ~positive]),
        sensitivity=share_ci(positive[ok & good]),
        specificity=share_ci(~positive[ok & ~good]),
    )


def flow_lines(name: str, f: Flow) -> list[str]:
    """The flow as indented lines of text (the diagram's boxes, top to bottom)."""
    def reasons(counts: dict[str, int]) -> str:
        return "; ".join(f"{why}: {n}" for why, n in counts.items()) or "none"

    excluded = sum(f.excluded.values())
    results = ", ".join(f"{v.lower().replace('_', ' ')} {n}" for v, n in f.screen_results.items())
    return [
        f"{name}: referred {f.referred}",
        f"  excluded at candidacy: {excluded} ({reasons(f.excluded)})",
        f"  external catheter, short life expectancy (no screening): {f.external_catheter}",
        *([f"  implanted without screening (the criteria allow it): "
           f"{f.implanted_without_screening}"] if f.implanted_without_screening else []),
        f"  screened: {f.screened} ({results})",
        f"    implanted: {f.implanted_after_screening}; not implanted, continued cmm: "
        f"{f.not_implanted_after_screening}",
        f"  received intrathecal therapy: {f.received[INTRATHECAL_GROUP]} (died during the "
        f"trial {f.died[INTRATHECAL_GROUP]}); continued cmm: {f.received[CMM_GROUP]} (died "
        f"{f.died[CMM_GROUP]})",
        f"  analysed: by intention to treat {f.analysed_itt}; as treated "
        f"{f.analysed_as_treated[INTRATHECAL_GROUP]} intrathecal, "
        f"{f.analysed_as_treated[CMM_GROUP]} cmm",
    ]


def predictive_lines(p: PredictiveValue | None) -> list[str]:
    """The screen's predictive value for success at 4 weeks, in words."""
    if p is None:
        return [f"Predictive value of the screen: needs screened patients and a trial of at "
                f"least {SUCCESS_DAY} days."]

    def share(e: Estimate) -> str:
        return "-" if e.n == 0 else f"{e.mean:.0f}% [{e.low:.0f}, {e.high:.0f}] (n={e.n})"

    return [
        f"Screen against success on intrathecal therapy at 4 weeks ({p.evaluable} screened "
        f"patients alive at day {SUCCESS_DAY}; {p.not_evaluable} not evaluable): positive and "
        f"succeeded {p.true_positive}, positive and failed {p.false_positive}, negative but "
        f"would have succeeded {p.false_negative}, negative and would have failed "
        f"{p.true_negative}.",
        f"Positive predictive value {share(p.positive_predictive_value)}; negative predictive "
        f"value {share(p.negative_predictive_value)}; sensitivity {share(p.sensitivity)}; "
        f"specificity {share(p.specificity)}.",
    ]
