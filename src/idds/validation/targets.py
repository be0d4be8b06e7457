"""Every calibration target the model represents: its source, the target, the model's value.

A `Target` names the reference figure, the pass interval the model's value must fall in, and
whether a parameter was calibrated to it ("calibrated": the docs name the parameter) or it is
an independent check of a consequence ("check"), or a figure of this model with no source
("assumption"). `evaluate(lab)` computes every value from the shared experiments of `Lab`.
Known disagreements stay listed and fail: `KNOWN_FAILURES` says why.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import cache

import numpy as np
from numpy.typing import NDArray

from idds.physiology.parameters import SYMPTOMS
from idds.physiology.survival import cohort_survival, typical_hazard
from idds.physiology.symptoms import Symptom
from idds.validation.lab import Lab, Series, single_dose

Array = NDArray[np.float64]


class Basis(Enum):
    CALIBRATED = "calibrated"
    CHECK = "check"
    ASSUMPTION = "assumption"


@dataclass(frozen=True)
class Target:
    key: str
    what: str
    source: str
    target: str
    low: float
    high: float
    unit: str
    basis: Basis
    compute: Callable[[Lab], float]


@dataclass(frozen=True)
class Result:
    target: Target
    value: float

    @property
    def passed(self) -> bool:
        return self.target.low <= self.value <= self.target.high

    def as_json(self) -> dict[str, object]:
        t = self.target
        return {"key": t.key, "what": t.what, "source": t.source, "target": t.target,
                "pass_range": [t.low, t.high], "unit": t.unit, "basis": t.basis.value,
                "value": None if math.isnan(self.value) else self.value, "passed": self.passed}


# -- single doses ---------------------------------------------------------------------------

def _half_life_min(t: Array, c: Array, start_min: float, end_min: float) -> float:
    sel = (t >= start_min) & (t <= end_min)
    return float(np.log(2) / -np.polyfit(t[sel], np.log(c[sel]), 1)[0])


@cache
def _it_bolus() -> Series:
    """The typical opioid-naive patient after one 0.5 mg IT dose, 1-min steps, 24 h."""
    return single_dose("opioid-naive", "intrathecal", 0.5, 24.0)


def _relief_hours(s: Series) -> float:
    """Hours from a dose until analgesia last falls below half its peak."""
    above = s.t_min[s.analgesia >= 0.5 * s.analgesia.max()]
    return float(above[-1] / 60.0)


def _auc_ratio(route: str, dose: float) -> float:
    po = single_dose("opioid-naive", route, dose, 48.0, dt_min=5.0).plasma.sum()
    iv = single_dose("opioid-naive", "iv", dose, 48.0, dt_min=5.0).plasma.sum()
    return float(po / iv)


def _equianalgesic_ratio(lab: Lab) -> float:
    from idds.physiology import typical_cohort
    from idds.physiology.cohort import steady_state_states
    from idds.physiology.exposure import site_exposure
    from idds.physiology.pd import effects, occupancy

    cohort = typical_cohort("typical-tolerant")

    def analgesia(routes: tuple[float, float, float]) -> float:
        x = steady_state_states(cohort.drugs, cohort.pk, cohort.sensitivity,
                                {"morphine": routes})
        exp = site_exposure(x, cohort.drug_params, cohort.pk)
        tol_supra, tol_spinal = occupancy(exp, cohort.sensitivity)
        return float(effects(exp, cohort.sensitivity, tol_supra, tol_spinal,
                             tol_supra).analgesia[0])

    goal = analgesia((300.0, 0.0, 0.0))
    lo, hi = 0.01, 100.0
    for _ in range(60):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if analgesia((0.0, 0.0, mid)) < goal else (lo, mid)
    return 300.0 / mid


@cache
def _gehling() -> tuple[float, float]:
    """Share with a rate below 8/min within 24 h after one IT dose, opioid-naive: doses 0.3-0.5
    mg and 0.1-0.29 mg (Gehling 2009's groups), 1500 patients each."""
    from idds.physiology import Delivery, initial_state, sample_cohort, step

    n = 3000
    cohort = sample_cohort(n, seed=2009, archetype_name="opioid-naive")
    u = (np.arange(n) % 1000) / 1000.0
    low = np.arange(n) < n // 2
    dose = np.where(low, 0.1 + 0.19 * u, 0.3 + 0.2 * u)
    state = initial_state(cohort, on_prior_regimen=False)
    min_rr = np.full(n, np.inf)
    for i in range(288):
        state, out = step(state, cohort, [Delivery("morphine", csf_mg=dose if i == 0 else 0.0)],
                          5.0)
        min_rr = np.minimum(min_rr, out.effects.respiratory_rate_per_min)
    event = min_rr < 8.0
    return float(event[~low].mean()), float(event[low].mean())


# -- symptoms -------------------------------------------------------------------------------

def _share(grades: NDArray[np.int8], symptom: Symptom, at_least: int) -> float:
    g = grades[symptom] if grades.ndim == 2 else grades[:, symptom]
    return float(100.0 * (g[g >= 0] >= at_least).mean())


def _constipation_dose_correlation(lab: Lab) -> float:
    from scipy.stats import spearmanr

    g = lab.baseline.grades[Symptom.CONSTIPATION]
    return float(spearmanr(lab.tolerant.prior_oral_morphine_mg_per_day, g).statistic)


def _ever(lab_run: NDArray[np.int8], symptom: Symptom, at_least: int, days: slice) -> float:
    return float(100.0 * (lab_run[days, symptom] >= at_least).any(axis=0).mean())


def _week_prevalence(grades: NDArray[np.int8], symptom: Symptom, week: int) -> float:
    g = grades[7 * (week - 1): 7 * week, symptom]
    return float(100.0 * (g[g >= 0] >= 1).mean())


def _resolution(lab: Lab, symptom: Symptom, naive: bool = False) -> float:
    """Prevalence in week 4 as a share of week 1 on a steady IT dose (the refractory cohort's
    starting dose, or 0.5 mg/day in opioid-naive patients), %."""
    g = (lab.naive_intrathecal_start if naive else lab.fixed_intrathecal).grades
    first = _week_prevalence(g, symptom, 1)
    return 100.0 * _week_prevalence(g, symptom, 4) / first if first > 0 else math.nan


def _brogan(lab: Lab, week: int, what: str) -> float:
    """Standard care after the implant, assessed on the last day of week `week` (day 7w - 1)
    in the patients alive then: "off" = no systemic opioid prescribed (around the clock or
    rescue); "undetectable" = the day's mean plasma morphine below 2 ng/mL."""
    h = lab.standard_care.history
    day = 7 * week - 1
    alive = np.isfinite(h["pain_mean"][day])
    if what == "off":
        values = (h["oral_programmed_mg_per_day"][day] <= 0) & (h["rescue_prescribed_mg"][day]
                                                                <= 0)
    else:
        values = h["plasma_mean"][day] < SYMPTOMS.detectable_plasma_ng_per_ml
    return float(100.0 * values[alive].mean())


def _detectable_at(lab: Lab, it_mg_per_day: float) -> float:
    plasma = lab.steady_plasma(0.0, it_mg_per_day)
    return float(100.0 * (plasma >= SYMPTOMS.detectable_plasma_ng_per_ml).mean())


def _central_on_it(lab: Lab) -> float:
    """Somnolence or confusion at grade >= 2 in weeks 3-8 of standard IT care, % of days."""
    g = lab.standard_care.grades[14:]
    both = np.maximum(g[:, Symptom.SOMNOLENCE], g[:, Symptom.CONFUSION])
    return float(100.0 * (both[both >= 0] >= 2).mean())


def _survival_median(lab: Lab) -> float:
    from idds.trial.survival import trial_survival

    return trial_survival(lab.tolerant.death_day, 10_000).median_days()


def _dead_in_a_year(lab: Lab) -> float:
    from idds.physiology.parameters import SURVIVAL

    h = typical_hazard(103.0, SURVIVAL.omega)
    return 100.0 * (1.0 - cohort_survival(365.0, h, SURVIVAL.omega))


_NORDBERG = "Nordberg 1984, Anesthesiology 60:448"
_BROGAN = "Brogan, Anesth Analg 2020;130:1035 (51 cancer patients)"
C, K, A = Basis.CALIBRATED, Basis.CHECK, Basis.ASSUMPTION

TARGETS: tuple[Target, ...] = (
    Target("csf_half_life", "CSF elimination half-life after 0.5 mg IT (naive)", _NORDBERG,
           "175-196 min", 175, 196, "min", C,
           lambda lab: _half_life_min(_it_bolus().t_min, _it_bolus().csf, 120, 480)),
    Target("csf_at_1h", "CSF concentration 1 h after 0.5 mg IT", _NORDBERG,
           "about 10,000 ng/mL (+-20%)", 8000, 12000, "ng/mL", C,
           lambda lab: float(_it_bolus().csf[59])),
    Target("plasma_after_it", "highest plasma concentration in 24 h after 0.5 mg IT",
           _NORDBERG, "< 1 ng/mL", 0, 1, "ng/mL", K,
           lambda lab: float(_it_bolus().plasma.max())),
    Target("oral_bioavailability", "oral bioavailability (AUC oral / AUC iv)",
           "Hoskin 1989", "0.24 (+-2%)", 0.2352, 0.2448, "-", C,
           lambda lab: _auc_ratio("oral", 10.0)),
    Target("plasma_half_life", "plasma half-life of morphine", "Stanski 1978", "2.2-2.9 h",
           2.2, 2.9, "h", C,
           lambda lab: _half_life_min(*(lambda s: (s.t_min, s.plasma))(
               single_dose("opioid-naive", "iv", 10.0, 12.0, 5.0)), 60, 600) / 60.0),
    Target("oral_to_it_ratio", "oral:IT equianalgesic ratio, typical tolerant patient",
           "Krames; MASCC guidance", "100-300 : 1", 100, 300, ": 1", C, _equianalgesic_ratio),
    Target("gehling_high", "respiratory rate < 8/min within 24 h, IT 0.3-0.5 mg, naive",
           "Gehling 2009, Anaesthesia (7/80 = 8.8%)", "8.8% (4-15%)", 4, 15, "%", C,
           lambda lab: 100 * _gehling()[0]),
    Target("gehling_low", "respiratory rate < 8/min within 24 h, IT 0.1-0.29 mg, naive",
           "Gehling 2009, Anaesthesia (2/247 = 0.8%)", "0.8% (<= 2.5%)", 0, 2.5, "%", C,
           lambda lab: 100 * _gehling()[1]),
    Target("delayed_respiratory_depression", "time of the lowest respiratory rate after 0.5 mg"
           " IT, naive", "rostral spread (Bernards 2006; label boxed warning)", "4-12 h",
           4, 12, "h", K,
           lambda lab: float(_it_bolus().t_min[np.argmin(_it_bolus().respiratory_rate)]
                             / 60.0)),
    Target("single_dose_duration", "analgesia above half its peak after one 0.5 mg IT dose, "
           "naive", "Duramorph / Infumorph labels; clinical experience (unconfirmed)",
           "12-24 h", 12, 24, "h", C, lambda lab: _relief_hours(_it_bolus())),
    Target("overdose_tolerant", "lowest respiratory rate after 50 mg IT in the typical "
           "tolerant patient on his regimen", "ISMP 2004 (refill-size amounts in CSF killed "
           "patients)", "life-threatening: < 4/min", 0, 4, "/min", C,
           lambda lab: float(single_dose("typical-tolerant", "intrathecal", 50.0, 24.0, 5.0, True)
                             .respiratory_rate.min())),
    Target("overdose_naive", "lowest respiratory rate after 50 mg IT, naive", "ISMP 2004",
           "life-threatening: < 4/min", 0, 4, "/min", K,
           lambda lab: float(single_dose("opioid-naive", "intrathecal", 50.0, 24.0, 5.0)
                             .respiratory_rate.min())),
    Target("stable_regimen_breathing", "respiratory depression (< 8/min) onsets on the stable "
           "prior regimen", "assumption of this model (rare in tolerant patients)",
           "< 1 per 100 patient-days", 0, 1, "/100 patient-days", A,
           lambda lab: float(100 * lab.baseline.row["respiratory_events"].mean())),
    Target("stable_regimen_lowest_rate", "5th percentile of the day's lowest respiratory rate "
           "on the stable prior regimen", "assumption of this model (tolerant patients breathe "
           "normally on their regimen)", ">= 10/min", 10, 30, "/min", A,
           lambda lab: float(np.percentile(lab.baseline.row["respiratory_rate_min"], 5))),
    Target("constipation_on_oral", "constipation (grade >= 1) on the prior oral regimen",
           "Droney, Support Care Cancer 2008", "about 72%", 64, 80, "%", C,
           lambda lab: _share(lab.baseline.grades, Symptom.CONSTIPATION, 1)),
    Target("constipation_dose_relation", "Spearman r of constipation grade and oral dose",
           "Roeland, Support Care Cancer 2020 (r = 0.01-0.27)", "weak or none: r <= 0.27",
           -0.1, 0.27, "r", K, _constipation_dose_correlation),
    Target("sedation_or_constipation", "somnolence or constipation (grade >= 1), stable oral",
           "Glare, Am J Hosp Palliat Med 2006", "point prevalence 88%", 80, 95, "%", C,
           lambda lab: float(100 * ((lab.baseline.grades[Symptom.CONSTIPATION] >= 1)
                                    | (lab.baseline.grades[Symptom.SOMNOLENCE] >= 1)).mean())),
    Target("nausea_starting_oral", "nausea on any of days 1-3 of 60 mg/day oral, naive",
           "Swegle, Am Fam Physician 2006", "about 25%", 18, 32, "%", C,
           lambda lab: _ever(lab.naive_oral_start.grades, Symptom.NAUSEA, 1, slice(0, 3))),
    Target("nausea_tolerance", "nausea on day 7 at the same dose, % of its day-2 prevalence",
           "Fast Fact #25 (tolerance within 3-7 days)", "mostly gone: <= 10%", 0, 10, "%", C,
           lambda lab: 100 * _share(lab.naive_oral_start.grades[6], Symptom.NAUSEA, 1)
           / max(_share(lab.naive_oral_start.grades[1], Symptom.NAUSEA, 1), 1e-9)),
    Target("it_nausea_resolves", "nausea on a steady 0.5 mg/day IT dose, opioid-naive: week 4 "
           "as % of week 1 (rare in the model: about 1% of week-1 days)",
           "PACC, Deer 2017 ('typically resolve with time')", "resolves: <= 25%",
           0, 25, "%", K, lambda lab: _resolution(lab, Symptom.NAUSEA, naive=True)),
    Target("pruritus_resolves", "pruritus on a steady IT dose: week 4 as % of week 1",
           "PACC, Deer 2017 ('typically resolve with time')", "resolves: <= 25%", 0, 25, "%",
           C, lambda lab: _resolution(lab, Symptom.PRURITUS)),
    Target("urinary_retention_mild", "urinary retention ever at grade >= 1 in 4 weeks of the "
           "starting IT dose", "case-series review 2021 (about 42%)", "about 42%", 32, 52, "%",
           C, lambda lab: _ever(lab.fixed_intrathecal.grades, Symptom.URINARY_RETENTION, 1,
                                slice(None))),
    Target("urinary_retention_severe", "urinary retention ever at grade >= 2 (catheter or "
           "drugs)", "case-series review 2021 (about 2.6%)", "about 2.6% (<= 6%)", 0, 6, "%",
           C, lambda lab: _ever(lab.fixed_intrathecal.grades, Symptom.URINARY_RETENTION, 2,
                                slice(None))),
    Target("urinary_retention_resolves", "urinary retention on a steady IT dose: week 4 as % "
           "of week 1", "PACC 2017; case-series review 2021", "resolves: <= 25%", 0, 25, "%",
           K, lambda lab: _resolution(lab, Symptom.URINARY_RETENTION)),
    Target("it_escalation_central", "somnolence or confusion at grade >= 2 in weeks 3-8 of "
           "standard IT care, % of patient-days", "Neurosurgery 1998 (159 patients: no central "
           "side effects with escalation)", "rare: <= 5%", 0, 5, "%", K, _central_on_it),
    Target("off_systemic_4w", "off systemic opioids (none prescribed) 4 weeks after implant",
           _BROGAN,
           "87.5%", 77.5, 97.5, "%", K, lambda lab: _brogan(lab, 4, "off")),
    Target("off_systemic_8w", "off systemic opioids (none prescribed) 8 weeks after implant",
           _BROGAN,
           "92%", 82, 100, "%", K, lambda lab: _brogan(lab, 8, "off")),
    Target("undetectable_4w", "plasma opioid < 2 ng/mL at 4 weeks after implant", _BROGAN,
           "53%", 41, 65, "%", K, lambda lab: _brogan(lab, 4, "undetectable")),
    Target("undetectable_8w", "plasma opioid < 2 ng/mL at 8 weeks after implant", _BROGAN,
           "59%", 47, 71, "%", K, lambda lab: _brogan(lab, 8, "undetectable")),
    Target("detectable_above_4_2", "plasma >= 2 ng/mL at steady state of 4.2 mg/day IT",
           _BROGAN + " (> 4.2 mg/day always detectable)", "always: >= 90%", 90, 100, "%", C,
           lambda lab: _detectable_at(lab, 4.2)),
    Target("survival_median", "median survival from day 0, refractory cohort",
           "Smith & Coyne, J Palliat Med 2005 (103 days after implant)", "103 days (+-10%)",
           93, 113, "days", C, _survival_median),
    Target("dead_within_a_year", "share of the cohort dead within a year",
           "Stearns, Anesth Analg 2020 (87% followed until death)", "about 87%", 80, 93, "%",
           K, lambda lab: _dead_in_a_year(lab)),
)

#: Targets the model is known to miss, and why (the validation report shows them failing).
KNOWN_FAILURES: dict[str, str] = {
    "off_systemic_4w": (
        "the model's standard arm leaves more patients above NRS 4 at the weekly reviews of "
        "weeks 1-3 than Brogan's cohort, and the taper keeps an oral rescue while pain is "
        "uncontrolled (an assumption, not tuned to this figure); by week 8 the share agrees"),
    "undetectable_4w": (
        "the standard arm titrates to a median of about 5.3 mg/day IT by week 4 (start: prior "
        "oral / 100, median prior 300 mg/day), above the 4.2 mg/day beyond which plasma is "
        "always detectable; Brogan's cohort (prior median 240 mg/day) must have been on lower "
        "IT doses. The PK side agrees: see detectable_above_4_2"),
    "undetectable_8w": "as undetectable_4w",
    "off_systemic_8w": (
        "the default cohort is every referred patient, unscreened: about 4 in 10 have pain "
        "intrathecal opioid reaches only in part (neuropathic, widespread, or far from the "
        "catheter tip; `idds.physiology.reach`, assumed shares) and keep an oral opioid; "
        "Brogan's patients were implanted, after a screening trial. It passed before the "
        "reachable share was modelled; 51% with it"),
}


def evaluate(lab: Lab) -> list[Result]:
    """Every target's model value (the experiments run once, shared through `lab`)."""
    return [Result(t, float(t.compute(lab))) for t in TARGETS]
