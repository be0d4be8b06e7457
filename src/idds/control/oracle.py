"""The oracle controller, for evaluation only: it reads the virtual patients' hidden state.

It predicts each patient's steady-state pain and breathing at candidate intrathecal doses from
the physiology itself (`idds.physiology`: steady-state PK, site exposure, tolerance at its
steady state, analgesia, background pain with the disease progression of that day plus the
mean breakthrough contribution) and recommends the smallest dose whose predicted mean pain is
at or below the same target the real controllers use, with the predicted respiratory rate
kept above the interlock warning limit plus a margin. It moves toward that dose by the same
steps and goes through the same supervisor as every other controller, so the gap between a
real controller and the oracle is the cost of not knowing the patient. Never a real arm.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from idds.control.flex import FlexShaper
from idds.control.observations import Observations
from idds.control.prescription import Prescription
from idds.control.reasons import Reason
from idds.control.recommendation import Recommendation
from idds.physiology import Cohort
from idds.physiology.cohort import steady_state_states
from idds.physiology.exposure import site_exposure
from idds.physiology.pain import background_drive
from idds.physiology.pd import SiteExposure, effects, occupancy

Array = NDArray[np.float64]

#: Candidate daily doses, mg/day (log-spaced; the supervisor's limits apply on top).
CANDIDATES_MG = np.geomspace(0.05, 30.0, 120)


@dataclass(frozen=True)
class SteadyPrediction:
    """Predicted steady state at each candidate dose: arrays (m, n)."""

    pain_nrs: Array
    respiratory_rate_per_min: Array


def predict_steady(cohort: Cohort, doses_mg_per_day: Array, day: float) -> SteadyPrediction:
    """Steady-state mean pain (NRS) and respiratory rate (/min) at intrathecal morphine doses
    (m,) mg/day, continuous, no systemic opioid, on `day` (disease progression included).

    PK is linear, so the steady state at 1 mg/day is scaled; tolerance sits at its steady
    state (the occupancy, Ekblom 1993 via `idds.physiology.pd`). Mean breakthrough drive =
    episodes/day x amplitude x duration / 2 (a triangle) / 1440 (episodes do not overlap).
    """
    x1 = steady_state_states(cohort.drugs, cohort.pk, cohort.sensitivity,
                             {"morphine": (0.0, 0.0, 1.0)})
    e1 = site_exposure(x1, cohort.drug_params, cohort.pk)
    d = doses_mg_per_day[:, None]
    exp = SiteExposure(
        supraspinal=d * e1.supraspinal, spinal=d * e1.spinal, plasma=d * e1.plasma,
        gut_mg=d * e1.gut_mg,
        ziconotide_spinal=np.zeros_like(d * e1.spinal),
        ziconotide_brainstem=np.zeros_like(d * e1.spinal),
    )
    tol_supra, tol_spinal = occupancy(exp, cohort.sensitivity)
    eff = effects(exp, cohort.sensitivity, tol_supra, tol_spinal, tol_supra)
    traits = cohort.pain
    drive = background_drive(traits, day * 1440.0, np.full(cohort.n, np.inf))
    bt = traits.breakthrough_per_day * traits.amplitude_nrs * traits.duration_min / 2 / 1440.0
    pain = np.clip((drive + bt)[None, :] * (1.0 - eff.relief), 0.0, 10.0)
    return SteadyPrediction(pain_nrs=pain, respiratory_rate_per_min=eff.respiratory_rate_per_min)


@dataclass(frozen=True)
class OracleState:
    day: int


@dataclass(frozen=True)
class OracleController:
    """Smallest dose meeting the pain target, from the hidden physiology (evaluation only).

    target_nrs: predicted mean pain target; breathing_floor_per_min: predicted steady-state
    respiratory rate to stay above (interlock warning 10/min + 2 margin); horizon_days: the
    disease progression is planned this far ahead; max_increase_per_day, max_cut: relative
    change per decision, a fraction per day (same as the intelligent controller).
    """

    cohort: Cohort
    name: str = "oracle"
    target_nrs: float = 3.0
    breathing_floor_per_min: float = 12.0
    horizon_days: float = 3.0
    max_increase_per_day: float = 0.2
    max_cut: float = 0.15
    deadband: float = 0.05
    bolus_fraction: float = 0.1
    max_bolus_mg: float = 0.5
    min_daily_mg: float = 0.0
    min_rate_mg_per_day: float = 0.0
    flex: FlexShaper = field(default_factory=FlexShaper)

    def initial(self, therapy: Prescription) -> OracleState:
        return OracleState(day=-1)

    def safe_prediction(self, day: float) -> tuple[SteadyPrediction, NDArray[np.bool_]]:
        """The steady state at each of `CANDIDATES_MG` on `day`, and where its breathing stays
        above the floor (m, n)."""
        pred = predict_steady(self.cohort, CANDIDATES_MG, day)
        return pred, pred.respiratory_rate_per_min >= self.breathing_floor_per_min

    def best_dose(self, day: float) -> Array:
        """The smallest candidate dose meeting the target within the breathing floor, per
        patient, mg/day (the largest safe one if none meets it)."""
        pred, safe = self.safe_prediction(day)
        ok = safe & (pred.pain_nrs <= self.target_nrs)
        first_ok = np.where(ok.any(axis=0), np.argmax(ok, axis=0), -1)
        last_safe = np.where(safe.any(axis=0), safe.shape[0] - 1 - np.argmax(safe[::-1], axis=0),
                             0)
        pick = np.where(first_ok >= 0, first_ok, last_safe)
        out: Array = np.maximum(CANDIDATES_MG[pick], self.min_daily_mg)
        return out

    def recommend(self, state: OracleState, obs: Observations, therapy: Prescription
                  ) -> tuple[Recommendation, OracleState]:
        cur = therapy.it_mg_per_day
        best = self.best_dose(obs.day + self.horizon_days)
        up = best > cur * (1 + self.deadband)
        down = best < cur * (1 - self.deadband)
        it = np.where(up, np.minimum(best, cur * (1 + self.max_increase_per_day)),
                      np.where(down, np.maximum(best, cur * (1 - self.max_cut)), cur))
        reasons = np.select(
            [up, down], [Reason.INCREASE_UNCONTROLLED,
                         Reason.DECREASE_OVERCONTROLLED],
            default=Reason.HOLD_CONTROLLED).astype(np.int64)
        flex = self.flex.shape(obs, therapy.flex, self.min_rate_mg_per_day / np.maximum(it, 1e-12))
        bolus = np.minimum(it * self.bolus_fraction, self.max_bolus_mg)
        rec = therapy.with_(it_mg_per_day=it, flex=flex, bolus_mg=bolus)
        return Recommendation(rec, reasons, np.full(therapy.n, np.nan)), OracleState(obs.day)
