"""Bayesian estimate of how this patient's side effects rise with the dose: side-effect
sensitivity, learned from the patient's own reports.

Observation: the day's patient-reported side-effect burden y (0-10: the worst of the
dose-limiting side effects, nausea, vomiting, somnolence, confusion, pruritus, urinary
retention) at the day's intrathecal dose x (basal + boluses given, mg/day IT) and oral
morphine z (mg/day):

    y_d = a_d + b x_d + c z_d / 100 + noise,    a_{d+1} = a_d + w_d

b is the patient's sensitivity to the intrathecal dose (burden points per mg/day IT), c to
systemic morphine (points per 100 mg/day oral), a the burden the patient reports without the
dose: a local level that moves from day to day, because nausea and vomiting adapt within 3-7
days at a constant dose and return after increases (Weissman, Fast Fact #25), the spinal
effects of chronic intrathecal opioid typically resolve with time (Deer 2017 PACC), and part
of the burden is the cancer's. Linear in each dose: no quantitative human model of these side
effects against exposure exists (ref, pharmacology), and over the doses one patient passes
through a line is what a few weeks of reports can identify. The route enters separately
because side effects follow systemic exposure far more than spinal: at the same
IT-equivalent dose oral morphine gives much more nausea, sedation and constipation (the
reason for the implant). Conjugate: a Kalman filter over (a, b, c), vectorised over patients
(`idds.control.kalman`).

A dose-limiting side effect limits the day from "moderate", a rating of 5 of 10 or more
(`LIMITING_BURDEN`: the 1-4 / 5-6 / 7-10 cut-points of Serlin 1995; moderate is CTCAE grade 2,
"limits instrumental activities"), the grade at which the trials' time in target counts a
day out. `tolerable` is the predictive probability that a day's burden stays below it at a
plan. The trials' time in target also counts constipation, vomiting by its episodes and
respiratory depression, which this burden does not hold (constipation is treated rather than
dosed for; breathing has its own estimate, `idds.control.breathing`), so the controller's
expected time in target is a little above the trials' count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr

from idds.control.kalman import independent_prior, linear_update
from idds.physiology.symptoms import Symptom

Array = NDArray[np.float64]

#: Side effects a clinician reduces the opioid for (the others are treated, not dose-limiting):
#: their worst rating of the day is the patient-reported side-effect burden (0-10).
DOSE_LIMITING = (Symptom.NAUSEA, Symptom.VOMITING, Symptom.SOMNOLENCE, Symptom.CONFUSION,
                 Symptom.PRURITUS, Symptom.URINARY_RETENTION)
#: A rating (0-10) for each CTCAE-like grade 0-4 where only the grade was recorded: the middle
#: of the grade's band of ratings (Serlin 1995 cut-points: 1-4 mild, 5-6 moderate, 7-10
#: severe; grade 4, life-threatening, the top of the scale).
RATING_OF_GRADE = (0.0, 2.5, 5.5, 8.5, 10.0)

#: A side-effect rating (0-10) from which it limits the day: moderate, CTCAE grade 2 (Serlin
#: 1995 cut-points 1-4 / 5-6 / 7-10 for 0-10 ratings).
LIMITING_BURDEN = 5.0
#: Oral morphine per unit of the model's oral coefficient, mg/day.
ORAL_UNIT_MG = 100.0


@dataclass(frozen=True)
class SideEffectModel:
    """Priors and noise (IDDS assumptions, wide, as no source quantifies side effects against
    the dose, ref, pharmacology):

    level_mean, level_sd: burden without the opioids, 0-10 (most patients adapted to their
    regimen report little; the cancer's share);
    it_mean, it_sd: points per mg/day IT (small in most: escalation of IT morphine in 159
    cancer patients caused no central side effects, Neurosurgery 1998; but pruritus and
    urinary retention rise with the dose, Gehling 2009, so the prior is wide enough for a
    patient several times as sensitive as most; a negative slope is allowed but unlikely);
    oral_mean, oral_sd: points per 100 mg/day oral morphine (constipation in about 72%,
    nausea in about 25% on oral morphine, Droney 2008, Swegle 2006; weakly related to the
    dose, Roeland 2020, Glare 2006: a wide prior);
    level_step_sd: daily random walk of the level (adaptation over 3-7 days, Fast Fact #25:
    about a point over one to two weeks; a faster walk would also explain a rise that follows
    the dose step by step, and the sensitivity would not be learned);
    noise_sd: one day's rating around the model.
    """

    level_mean: float = 1.0
    level_sd: float = 1.5
    it_mean: float = 0.1
    it_sd: float = 0.3
    oral_mean: float = 0.5
    oral_sd: float = 0.5
    level_step_sd: float = 0.1
    noise_sd: float = 0.7


@dataclass(frozen=True)
class SideEffectEstimate:
    """Posterior of (level, per mg/day IT, per 100 mg/day oral) per patient: mean (n, 3),
    covariance (n, 3, 3)."""

    mean: Array
    cov: Array

    @staticmethod
    def prior(n: int, model: SideEffectModel) -> SideEffectEstimate:
        return SideEffectEstimate(*independent_prior(
            n, (model.level_mean, model.it_mean, model.oral_mean),
            (model.level_sd, model.it_sd, model.oral_sd)))

    def rows(self, start: int, stop: int) -> SideEffectEstimate:
        """The estimate of patients start..stop-1 (views)."""
        return SideEffectEstimate(self.mean[start:stop], self.cov[start:stop])

    @property
    def per_mg_it(self) -> tuple[Array, Array]:
        """Sensitivity to the intrathecal dose: posterior mean and SD (n,), points per mg/day."""
        return self.mean[:, 1], np.sqrt(np.maximum(self.cov[:, 1, 1], 0.0))

    @property
    def per_100mg_oral(self) -> tuple[Array, Array]:
        """Sensitivity to oral morphine: mean and SD (n,), points per 100 mg/day."""
        return self.mean[:, 2], np.sqrt(np.maximum(self.cov[:, 2, 2], 0.0))


def predict(est: SideEffectEstimate, model: SideEffectModel) -> SideEffectEstimate:
    """One day ahead: the level random-walks; the sensitivities stay."""
    cov = est.cov.copy()
    cov[:, 0, 0] += model.level_step_sd**2
    return SideEffectEstimate(est.mean, cov)


def update(est: SideEffectEstimate, model: SideEffectModel, it_mg: Array, oral_mg: Array,
           burden: Array) -> SideEffectEstimate:
    """Condition on one day's burden (n,) 0-10 (NaN: none reported) at the day's IT dose
    (basal + boluses given) and oral morphine, mg/day (n,)."""
    ok = np.isfinite(burden)
    if not ok.any():
        return est
    h = _design(it_mg, oral_mg)  # (n, 3)
    return SideEffectEstimate(*linear_update(est.mean, est.cov, h, np.nan_to_num(burden),
                                             model.noise_sd, ok))


def _design(it_mg: Array, oral_mg: Array) -> Array:
    """Regressors (..., 3): 1, IT mg/day, oral in units of 100 mg/day."""
    it, oral = np.broadcast_arrays(np.asarray(it_mg, dtype=np.float64),
                                   np.asarray(oral_mg, dtype=np.float64))
    out: Array = np.stack([np.ones_like(it), it, oral / ORAL_UNIT_MG], axis=-1)
    return out


def predictive(est: SideEffectEstimate, model: SideEffectModel, it_mg: Array, oral_mg: Array,
               horizon_days: float) -> tuple[Array, Array]:
    """A day's burden `horizon_days` ahead at each plan: mean and SD, with the level's random
    walk over the horizon and one day's noise. it_mg, oral_mg: (n,) or (n, m) mg/day -> the
    same shape."""
    h = _design(it_mg, oral_mg)
    extra = h.ndim - 2  # 0 for (n,), 1 for (n, m)
    mean = est.mean.reshape(est.mean.shape[:1] + (1,) * extra + (3,))
    cov = est.cov.reshape(est.cov.shape[:1] + (1,) * extra + (3, 3))
    mu: Array = np.einsum("...i,...i->...", h, mean)
    var = np.einsum("...i,...ij,...j->...", h, cov, h)
    var += horizon_days * model.level_step_sd**2 + model.noise_sd**2
    return mu, np.sqrt(np.maximum(var, 1e-12))


def tolerable(est: SideEffectEstimate, model: SideEffectModel, it_mg: Array, oral_mg: Array,
              horizon_days: float) -> Array:
    """P(a day's burden stays below `LIMITING_BURDEN`) `horizon_days` ahead at each plan, the
    same shape as it_mg (n,) or (n, m)."""
    mu, sd = predictive(est, model, it_mg, oral_mg, horizon_days)
    out: Array = ndtr((LIMITING_BURDEN - mu) / sd)
    return out



def burden_of_grades(grades: Mapping[str, int]) -> float | None:
    """The side-effect burden (0-10) of an assessment recorded as grades by name (0-4; names
    as `Symptom` labels, "urinary retention" or "urinary_retention"): the rating of the worst
    dose-limiting grade (`RATING_OF_GRADE`); None when the assessment grades none of them (a
    respiratory rate alone, constipation alone: no report of the burden)."""
    names = {s.label for s in DOSE_LIMITING}
    graded = [g for name, g in grades.items()
              if name.strip().lower().replace(" ", "_") in names]
    if not graded:
        return None
    return RATING_OF_GRADE[min(max(max(graded), 0), len(RATING_OF_GRADE) - 1)]
