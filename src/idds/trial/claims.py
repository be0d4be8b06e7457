"""The seed's claims checked against a trial: at a small fraction of the oral dose, the pump
controls pain as well or better, with far fewer systemic side effects.

Each claim compares an intrathecal arm with `cmm` on the same patients (paired differences,
95% t intervals) and says plainly whether it holds in the model and why. Nothing here decides
an outcome: it reads the trial's results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from idds.physiology.symptoms import Symptom
from idds.trial.metrics import Estimate, paired_difference
from idds.trial.runner import TrialResult
from idds.trial.summary import ArmResult

#: The symptoms of systemic opioid exposure the seed names (constipation, nausea and vomiting,
#: drowsiness, fatigue, loss of appetite).
SYSTEMIC = (Symptom.CONSTIPATION, Symptom.NAUSEA, Symptom.VOMITING, Symptom.SOMNOLENCE,
            Symptom.FATIGUE, Symptom.ANOREXIA)


@dataclass(frozen=True)
class Claim:
    statement: str
    holds: bool
    evidence: str


def _ci(e: Estimate) -> str:
    return f"{e.mean:+.2g} [{e.low:+.2g}, {e.high:+.2g}]"


def _last_week(arm: ArmResult, symptom: Symptom) -> str:
    """Prevalence at grade >= 1 (and >= 2) in the trial's last week, %."""
    w = arm.weekly
    g1 = 100.0 * float(w["prevalence_grade1"][symptom.label][-1])
    g2 = 100.0 * float(w["prevalence_grade2"][symptom.label][-1])
    return f"{g1:.0f}% (G2 {g2:.0f}%)"


def check(result: TrialResult, it_arm: str = "it-standard") -> list[Claim]:
    """The three claims for `it_arm` against `cmm` (empty if either arm did not run)."""
    if it_arm not in result.arms or "cmm" not in result.arms:
        return []
    it, cmm = result.arms[it_arm], result.arms["cmm"]
    pain = paired_difference(cmm.outcomes, it.outcomes, "pain_change_percent")
    relief = Claim(
        "same or better relief",
        holds=pain.low <= 0,  # not worse: the paired interval reaches 0 or lies below it
        evidence=f"pain change {it.metrics['pain_change_percent'].mean:+.0f}% on {it_arm} vs "
                 f"{cmm.metrics['pain_change_percent'].mean:+.0f}% on cmm; paired difference "
                 f"{_ci(pain)} percentage points")
    tox = paired_difference(cmm.outcomes, it.outcomes, "toxicity_composite")
    base = cmm.metrics["toxicity_composite"].mean
    relative = 100.0 * tox.mean / base if base > 0 else math.nan
    systemic = "; ".join(f"{s.label} {_last_week(it, s)} vs {_last_week(cmm, s)}"
                         for s in SYSTEMIC)
    fewer = Claim(
        "far fewer systemic side effects",
        holds=tox.high < 0,
        evidence=f"composite toxicity at the end {it.metrics['toxicity_composite'].mean:.1f} vs "
                 f"{base:.1f} (paired difference {_ci(tox)}, {relative:+.0f}%); last week at "
                 f"grade >= 1, {it_arm} vs cmm: {systemic}")
    ratio = it.metrics["prior_oral_per_it"]
    fraction = Claim(
        "at about 1/100-1/300 of the oral dose",
        holds=bool(np.isfinite(ratio.mean) and 100.0 * 0.9 <= ratio.mean <= 300.0 * 1.1),
        evidence=f"the IT dose delivered is 1/{ratio.mean:.0f} of the same patients' prior "
                 f"oral dose (95% CI 1/{ratio.high:.0f} to 1/{ratio.low:.0f}); it starts at "
                 "1/100 and is titrated up while pain stays above NRS 3")
    return [relief, fewer, fraction]
