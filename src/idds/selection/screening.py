"""The screening trial on virtual patients: a test bolus or a catheter infusion, monitored.

`screen_cohort` screens every patient of a `Cohort` at once (vectorised over patients, the
model's own `step`); `screen_subject` and `screen_archetype` screen one patient and return
a `ScreeningResult`. Pure functions of their inputs: the randomness is the cohort's seeded
streams, the clock is the rule's (`ScreeningRule.dose_at_h` on day 1, the baseline day
before it), never the wall clock.

Course of a screening (docs/screening.md): the patient stays on the prior oral regimen
(taken continuously; no oral rescue, so the relief measured is the test dose's); a baseline
of `baseline_h` hours of pain diary; then the test dose (one intrathecal bolus, or a
constant infusion over 1-3 days) and monitoring for at least `monitoring_h` hours (the
Infumorph label's >= 24 h after a test dose): each hour the lowest respiratory rate, the
highest POSS, the side-effect grades over the hour (CTCAE 0-4, `idds.physiology.symptoms`),
the pain at the hour and the diary entry on the hours the patient is awake. The verdict
and its reasons: `idds.selection.screening_verdict`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from idds.drugs import DrugLibrary
from idds.physiology import (
    DRUGS,
    Cohort,
    Delivery,
    PhysiologyError,
    behaviour,
    initial_state,
    sample_cohort,
    step,
    typical_cohort,
)
from idds.physiology.exposure import site_exposure
from idds.physiology.symptoms import (
    Care,
    IntervalExposure,
    Symptom,
    SymptomState,
    advance,
    grades,
)
from idds.selection.screening_rules import (
    ScreeningDose,
    ScreeningError,
    ScreeningMethod,
    ScreeningRule,
    ScreeningVerdict,
    check_bolus,
    choose_dose,
    entry_key,
)
from idds.selection.screening_subject import ScreeningSubject, subject_cohort
from idds.selection.screening_verdict import ScreeningDecision, decide

Array = NDArray[np.float64]
_MIN_PER_DAY = 1440.0


@dataclass(frozen=True)
class ScreeningCourse:
    """Hour-by-hour course of a screened cohort. hour_h (H,): end of each hour, hours from
    the test dose (<= 0: the baseline); clock_h (H,): clock hour 0-23 at that time; the rest
    (H, n): the drug's lumbar CSF concentration at the hour, ng/mL; perceived pain at the
    hour, NRS 0-10; the diary entry (whole NRS; NaN when no entry is due: asleep); the lowest
    respiratory rate in the hour, breaths/min; the highest POSS (1-4) in the hour; and
    grades (H, N_SYMPTOMS, n), CTCAE 0-4, over the hour."""

    hour_h: Array
    clock_h: Array
    csf_ng_per_ml: Array
    pain_nrs: Array
    diary_nrs: Array
    respiratory_rate_min: Array
    poss_max: NDArray[np.int64]
    grades: NDArray[np.int8]


@dataclass(frozen=True)
class ScreeningHour:
    """One hour of one patient's course (as `ScreeningCourse`, for one patient)."""

    hour_h: float
    clock: str
    csf_ng_per_ml: float
    pain_nrs: float
    diary_nrs: int | None
    respiratory_rate_per_min: float
    sedation_poss: int
    side_effect_grades: dict[str, int]


@dataclass(frozen=True)
class ScreeningResult:
    """One patient's screening: the dose, the rule, the verdict with the reasons naming the
    numbers that decided it, and the hour-by-hour course."""

    dose: ScreeningDose
    rule: ScreeningRule
    reachable_share: float
    decision: ScreeningDecision
    course: tuple[ScreeningHour, ...]

    @property
    def verdict(self) -> ScreeningVerdict:
        return self.decision.verdict

    def as_json(self) -> dict[str, object]:
        d = self.decision
        return {
            "verdict": d.verdict.value,
            "reasons": list(d.reasons),
            "baseline_nrs": d.baseline_nrs,
            "best_relief_percent": d.best_relief_percent,
            "lowest_respiratory_rate_per_min": d.lowest_respiratory_rate_per_min,
            "highest_poss": d.highest_poss,
            "stopped_at_h": d.stopped_at_h,
            "reachable_share": self.reachable_share,
            "dose": {
                "drug": self.dose.drug, "method": self.dose.method.value,
                "opioid_tolerant": self.dose.tolerant, "bolus_mg": self.dose.bolus_mg,
                "daily_dose_mg_per_day": self.dose.daily_dose_mg_per_day,
                "days": self.dose.days, "description": self.dose.describe(),
                "reasons": list(self.dose.reasons),
            },
            "rule": {k: (list(v) if isinstance(v, tuple) else v)
                     for k, v in self.rule.__dict__.items()},
            "course": [h.__dict__ for h in self.course],
        }


@dataclass(frozen=True)
class CohortScreening:
    """Every patient's screening, in cohort order: doses, decisions and the course."""

    cohort_indices: NDArray[np.int64]
    reachable_share: Array
    doses: tuple[ScreeningDose, ...]
    decisions: tuple[ScreeningDecision, ...]
    course: ScreeningCourse
    rule: ScreeningRule

    @property
    def verdicts(self) -> tuple[ScreeningVerdict, ...]:
        return tuple(d.verdict for d in self.decisions)

    def counts(self) -> dict[str, int]:
        """Patients per verdict."""
        return {v.value: sum(d.verdict is v for d in self.decisions) for v in ScreeningVerdict}

    def result(self, i: int) -> ScreeningResult:
        """The screening of the patient at position i, with its course."""
        c = self.course
        names = [s.label for s in Symptom]
        hours = tuple(
            ScreeningHour(
                hour_h=float(c.hour_h[h]),
                clock=f"{int(c.clock_h[h]):02d}:00",
                csf_ng_per_ml=round(float(c.csf_ng_per_ml[h, i]), 3),
                pain_nrs=round(float(c.pain_nrs[h, i]), 2),
                diary_nrs=None if math.isnan(c.diary_nrs[h, i]) else int(c.diary_nrs[h, i]),
                respiratory_rate_per_min=round(float(c.respiratory_rate_min[h, i]), 2),
                sedation_poss=int(c.poss_max[h, i]),
                side_effect_grades={n: int(c.grades[h, k, i]) for k, n in enumerate(names)},
            )
            for h in range(c.hour_h.shape[0])
        )
        return ScreeningResult(self.doses[i], self.rule, float(self.reachable_share[i]),
                               self.decisions[i], hours)


def _hours_after(dose: ScreeningDose, rule: ScreeningRule) -> int:
    """Monitored hours after the test dose: the rule's, or the whole infusion if longer."""
    infusion_h = 24 * dose.days if dose.method is ScreeningMethod.INFUSION else 0
    return math.ceil(max(rule.monitoring_h, infusion_h))


def modelled_drug(library: DrugLibrary, drug: str) -> str:
    """The library key of `drug` if the virtual patients model it, else ScreeningError."""
    key = entry_key(library, drug)
    if key not in DRUGS:
        raise ScreeningError(f"the virtual patients cannot be given {key}: they model "
                             f"{', '.join(sorted(DRUGS))}")
    return key


def screen_cohort(cohort: Cohort, library: DrugLibrary, *, drug: str = "morphine",
                  method: ScreeningMethod = ScreeningMethod.BOLUS, days: int = 1,
                  rule: ScreeningRule | None = None,
                  bolus_mg: float | None = None) -> CohortScreening:
    """Screen every patient of `cohort` with `drug` by `method` (infusion: over `days`).

    Each patient's dose comes from the library and the patient's prior oral morphine
    (`choose_dose`); bolus_mg replaces the bolus for everyone (never above the library's
    hard maximum bolus). The cohort must simulate the drug (`sample_cohort(drugs=...)`).
    """
    rule = rule or ScreeningRule()
    key = entry_key(library, drug)
    try:
        cohort.drug_index(key)
    except PhysiologyError as exc:
        raise ScreeningError(f"the virtual patients cannot be given {key}: {exc}") from None
    if bolus_mg is not None:
        if method is not ScreeningMethod.BOLUS:
            raise ScreeningError("a bolus dose is for the bolus method only")
        check_bolus(library.drug(key), bolus_mg)
    doses = []
    for ome in cohort.prior_oral_morphine_mg_per_day:
        dose = choose_dose(library, key, method, float(ome), rule, days)
        if bolus_mg is not None:
            dose = ScreeningDose(dose.drug, method, dose.tolerant, float(bolus_mg), 0.0, 0,
                                 (*dose.reasons, f"Test bolus given as asked: {bolus_mg:g} mg "
                                  "(within the library's hard maximum bolus)."))
        doses.append(dose)
    hours_after = _hours_after(doses[0], rule) if doses else int(rule.monitoring_h)
    course = _simulate(cohort.with_oral_rescue(0.0), key, doses, hours_after, rule)
    decisions = decide(course.hour_h, course.diary_nrs, course.respiratory_rate_min,
                       course.poss_max, course.grades, rule)
    return CohortScreening(cohort.indices, cohort.sensitivity.reachable_share.copy(),
                           tuple(doses), decisions, course, rule)


def screen_subject(subject: ScreeningSubject, library: DrugLibrary, *, seed: int | None = None,
                   drug: str = "morphine", method: ScreeningMethod = ScreeningMethod.BOLUS,
                   days: int = 1, rule: ScreeningRule | None = None,
                   bolus_mg: float | None = None) -> ScreeningResult:
    """Screen one patient described by `subject` (seed None: the archetype's typical patient
    otherwise; else patient 0 of that seed)."""
    rule = rule or ScreeningRule()
    cohort = subject_cohort(subject, modelled_drug(library, drug), seed, rule)
    return screen_cohort(cohort, library, drug=drug, method=method, days=days, rule=rule,
                         bolus_mg=bolus_mg).result(0)


def screen_archetype(archetype: str, library: DrugLibrary, *, seed: int | None = None,
                     drug: str = "morphine", method: ScreeningMethod = ScreeningMethod.BOLUS,
                     days: int = 1, rule: ScreeningRule | None = None,
                     bolus_mg: float | None = None) -> ScreeningResult:
    """Screen the typical patient of an archetype (seed None) or patient 0 of a cohort of it
    sampled with `seed`."""
    key = modelled_drug(library, drug)
    try:
        cohort = typical_cohort(archetype, 1, drugs=(key,)) if seed is None \
            else sample_cohort(1, seed, archetype, drugs=(key,))
    except PhysiologyError as exc:
        raise ScreeningError(str(exc)) from None
    return screen_cohort(cohort, library, drug=key, method=method, days=days, rule=rule,
                         bolus_mg=bolus_mg).result(0)


def _diary_due(clock_h: float, rule: ScreeningRule) -> bool:
    """A diary entry is due at this whole clock hour (awake hours, every diary_every_h)."""
    if not rule.diary_from_h <= clock_h <= rule.diary_to_h:
        return False
    return (clock_h - rule.diary_from_h) % rule.diary_every_h == 0


def _simulate(cohort: Cohort, drug: str, doses: list[ScreeningDose], hours_after: int,
              rule: ScreeningRule) -> ScreeningCourse:
    """Run the baseline hours and the monitored hours; see `ScreeningCourse`."""
    n, dt = cohort.n, rule.step_min
    baseline_h = math.ceil(rule.baseline_h)
    t_dose = (rule.dose_at_h + 24.0 * math.ceil(baseline_h / 24.0)) * 60.0
    state = initial_state(cohort, t0_min=t_dose - 60.0 * baseline_h)
    d = cohort.drug_index(drug)
    bolus = np.array([x.bolus_mg for x in doses], dtype=np.float64)
    infusion = np.array([x.daily_dose_mg_per_day for x in doses]) * (dt / _MIN_PER_DAY)
    infusion_end = t_dose + _MIN_PER_DAY * max((x.days for x in doses), default=0)
    oral = cohort.prior_oral_morphine_mg_per_day * (dt / _MIN_PER_DAY)
    start = site_exposure(state.pk, cohort.drug_params, cohort.pk)
    symptoms = SymptomState.adapted_to(start.supraspinal, start.spinal)
    care = Care.usual(n)
    steps = round(60.0 / dt)
    total = baseline_h + hours_after
    csf, pain, diary, rr = (np.empty((total, n)) for _ in range(4))
    poss = np.empty((total, n), dtype=np.int64)
    graded = np.empty((total, len(Symptom), n), dtype=np.int8)
    for h in range(total):
        acc = np.zeros((5, n))
        rr_low = np.full(n, np.inf)
        poss_high = np.zeros(n, dtype=np.int64)
        for _ in range(steps):
            t = state.t_min
            it = np.zeros(n)
            if t <= t_dose < t + dt:
                it = it + bolus
            if t_dose <= t < infusion_end:
                it = it + infusion
            deliveries = [Delivery(drug, csf_mg=it)] if it.any() else []
            if oral.any():
                deliveries.append(Delivery("morphine", gut_mg=oral))
            state, out = step(state, cohort, deliveries, dt)
            x, e = out.exposure, out.effects
            acc += (x.supraspinal, x.spinal, x.plasma, x.gut_mg, e.sedation)
            np.minimum(rr_low, e.respiratory_rate_per_min, out=rr_low)
            np.maximum(poss_high, e.sedation_poss, out=poss_high)
        acc /= steps
        exposure = IntervalExposure(supraspinal=acc[0], spinal=acc[1], plasma=acc[2],
                                    gut_mg=acc[3], sedation=acc[4],
                                    respiratory_rate_min=rr_low, woken_night=np.zeros(n))
        symptoms, felt = advance(symptoms, exposure, cohort.sensitivity, cohort.symptoms, care,
                                 60.0)
        graded[h] = grades(felt, rr_low)
        csf[h], pain[h], rr[h], poss[h] = out.csf_ng_per_ml[d], out.pain_nrs, rr_low, poss_high
        clock = (state.t_min / 60.0) % 24.0
        diary[h] = behaviour.diary_entry(out.pain_nrs, cohort.keys, state.step_index) \
            if _diary_due(round(clock), rule) else np.nan
    hour_h = np.arange(1, total + 1, dtype=np.float64) - baseline_h
    clock_h = np.round((t_dose / 60.0 + hour_h) % 24.0)
    return ScreeningCourse(hour_h, clock_h, csf, pain, diary, rr, poss, graded)
