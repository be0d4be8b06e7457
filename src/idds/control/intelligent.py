"""The intelligent controller: the smallest intrathecal dose that controls this patient's pain.

Each evening it
1. recovers the day's own diary mean and boluses given from the windowed observations
   (`idds.control.daily`);
2. updates a Bayesian estimate of the patient's dose-response, tolerance drift and disease
   progression from the diary at the day's IT-equivalent dose (basal + boluses given + oral
   morphine / the library's oral:IT ratio) (`idds.control.estimator`), and of how breathing
   slows with the dose from the lowest respiratory rate (`idds.control.breathing`);
3. finds the smallest dose whose probability of mean pain <= target `horizon_days` ahead (the
   next possible increase after the monitoring window) is at least `confidence`, below the
   breathing cap (predicted rate above the interlock warning limit with 95% probability) and
   below the benefit limit: the dose past which one more mg/day is predicted to lower pain by
   less than `min_benefit_nrs_per_mg` (the flat top of the Emax curve, where drug buys side
   effects rather than relief; docs/control.md);
4. moves toward it by at most one library step up (or `max_cut` down, when the diary already
   shows pain controlled or the dose is past the benefit limit); holds on missing diary;
   reduces on sedation, slow breathing or intolerable side effects (Pasero 2009: POSS 3 ->
   reduce 25-50%);
5. shapes the flex schedule from remote presses by hour (`idds.control.flex`: same daily dose,
   moved ahead of the busy hours) and meets refused presses (unmet need) with one more
   allowed bolus a day rather than a higher basal rate; the patient bolus follows the daily
   dose only in the dose's direction (`idds.control.bolus`);
6. recommends no change any deliverable part of which is predicted to leave pain worse than
   the current plan without a side-effect or safety gain (`idds.control.harm`: it holds,
   `HOLD_PREDICTED_WORSE`). The predicted pain it reports is at the recommended plan's whole
   IT-equivalent dose: basal + the boluses the patient is expected to take + oral.
The supervisor checks everything it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from idds.control import breathing, estimator
from idds.control.bolus import follow_dose, one_more_bolus
from idds.control.breathing import BreathingEstimate, BreathingModel
from idds.control.daily import DailyState, recover
from idds.control.estimator import ResponseEstimate, ResponseModel
from idds.control.flex import FlexShaper
from idds.control.harm import hold_predicted_worse, plan_dose
from idds.control.observations import Observations
from idds.control.prescription import Prescription
from idds.control.reasons import Reason
from idds.control.recommendation import Recommendation
from idds.control.rules import must_reduce

Array = NDArray[np.float64]

#: Candidate daily doses searched, mg/day.
CANDIDATES_MG = np.geomspace(0.05, 30.0, 90)
#: Oral morphine mg per intrathecal mg on the classic ladder (300:1, Krames): the reference drug
#: library's value. The registry (`idds.control.registry`) passes the library's own ratio.
LADDER_ORAL_PER_IT_MG = 300.0


@dataclass(frozen=True)
class DoseTargets:
    """Per patient, mg/day IT: the smallest dose meeting the pain target with `confidence`
    (best) and with `confidence_down` (sure, the floor of any cut), the breathing cap, and the
    benefit limit (the largest dose whose last increment still buys `min_benefit_nrs_per_mg`;
    +inf when that limit is off)."""

    best: Array
    sure: Array
    breathing_cap: Array
    benefit_limit: Array


@dataclass(frozen=True)
class IntelligentState:
    """The controller's carried estimate: recovered days, dose-response and breathing
    posteriors, and the oral dose it saw last (the dose of the day it will next observe)."""

    daily: DailyState
    response: ResponseEstimate
    breathing: BreathingEstimate
    last_oral_mg_per_day: Array
    started: bool


@dataclass(frozen=True)
class IntelligentController:
    """See the module docstring. Doses in mg/day, NRS 0-10, rates in breaths/min.

    max_increase_per_day: largest increase of the daily dose per decision, a fraction per day
    (0.2 = +20%; the supervisor's per-change step, from the clinician's bounds and the library).
    max_cut: largest cut per decision when not forced by side effects, a fraction.
    oral_per_it_mg: oral morphine mg per IT mg, from the drug library's conversion factors
    (`idds.control.registry.oral_to_it_ratio`); the default is the reference library's value
    (`LADDER_ORAL_PER_IT_MG`, 300:1, Krames), for callers without a library.
    baseline_nrs, baseline_sd: pain on the prior systemic regimen (ref, pharmacology: 7.4-7.8),
    used as a first observation at the prior oral dose when `prior_oral_mg_per_day` is given.
    min_benefit_nrs_per_mg: least predicted fall in mean pain (NRS points) that one more mg/day
    of intrathecal morphine must buy (assumption, chosen on the refractory cohort: 0.4 NRS per
    mg/day IT, i.e. per 120 mg/day oral morphine; 0 turns the limit off; docs/control.md shows
    the trade-off between time in control and drug per unit of relief).
    """

    name: str = "intelligent"
    target_nrs: float = 3.0
    confidence: float = 0.5
    confidence_down: float = 0.85
    min_daily_mg: float = 0.0
    min_rate_mg_per_day: float = 0.0
    horizon_days: float = 3.0
    max_increase_per_day: float = 0.2
    max_cut: float = 0.1
    deadband: float = 0.05
    breathing_floor_per_min: float = 10.5
    breathing_z: float = 1.64
    sedation_reduce_poss: float = 3.0
    slow_breathing_per_min: float = 10.0
    burden_hold: float = 4.0
    burden_reduce: float = 6.0
    reduce: float = 0.25
    oral_per_it_mg: float = LADDER_ORAL_PER_IT_MG
    bolus_fraction: float = 0.1
    max_bolus_mg: float = 0.5
    max_boluses_per_day: int = 6
    refused_for_more_boluses: float = 0.5
    min_benefit_nrs_per_mg: float = 0.4
    baseline_nrs: float = 7.6
    baseline_sd: float = 1.5
    prior_oral_mg_per_day: Array | None = None
    model: ResponseModel = field(default_factory=ResponseModel)
    breathing_model: BreathingModel = field(default_factory=BreathingModel)
    flex: FlexShaper = field(default_factory=FlexShaper)
    def initial(self, therapy: Prescription) -> IntelligentState:
        n = therapy.n
        response = ResponseEstimate.prior(n, self.model)
        if self.prior_oral_mg_per_day is not None:
            dose = self.prior_oral_mg_per_day / self.oral_per_it_mg
            entries = np.full(n, (self.model.diary_sd / self.baseline_sd) ** 2)
            response = estimator.update(response, self.model, dose,
                                        np.full(n, self.baseline_nrs), entries)
        return IntelligentState(
            daily=DailyState.start(n),
            response=response,
            breathing=BreathingEstimate.prior(n, self.breathing_model),
            last_oral_mg_per_day=therapy.oral_mg_per_day.copy(),
            started=False,
        )

    def learn(self, state: IntelligentState, obs: Observations, therapy: Prescription
              ) -> IntelligentState:
        """Update the estimates with the day just observed (therapy: the one delivered)."""
        day, daily = recover(state.daily, obs)
        dose = (therapy.it_mg_per_day + day.boluses_given * therapy.bolus_mg
                + state.last_oral_mg_per_day / self.oral_per_it_mg)
        response = state.response
        if state.started:
            response = estimator.predict(response, self.model)
        response = estimator.update(response, self.model, dose, day.diary_mean_nrs,
                                    day.diary_entries)
        no_oral = state.last_oral_mg_per_day <= 0
        breath = breathing.update(state.breathing, self.breathing_model, dose,
                                  obs.respiratory_rate_min, no_oral)
        return IntelligentState(daily, response, breath, therapy.oral_mg_per_day.copy(), True)

    def target_dose(self, state: IntelligentState, therapy: Prescription) -> DoseTargets:
        """The doses this patient's estimate points to (mg/day IT, see `DoseTargets`).
        Tomorrow's oral (in `therapy`) counts toward the dose."""
        n = therapy.n
        oral_eq = therapy.oral_mg_per_day / self.oral_per_it_mg
        doses = np.tile(CANDIDATES_MG, (n, 1)) + oral_eq[:, None]
        prob = estimator.prob_controlled(state.response, self.model, doses, self.horizon_days,
                                         self.target_nrs)
        picks = []
        for level in (self.confidence, self.confidence_down):
            ok = prob >= level
            first = np.where(ok.any(axis=1), np.argmax(ok, axis=1), CANDIDATES_MG.size - 1)
            picks.append(np.maximum(CANDIDATES_MG[first], self.min_daily_mg))
        cap = breathing.dose_cap(state.breathing, self.breathing_floor_per_min,
                                 self.breathing_z)
        benefit = np.full(n, np.inf)
        if self.min_benefit_nrs_per_mg > 0:
            expected = estimator.expected_nrs_at(state.response, self.model, doses,
                                                 self.horizon_days)
            gain = -np.diff(expected, axis=1) / np.diff(CANDIDATES_MG)  # NRS per mg/day
            worth = gain >= self.min_benefit_nrs_per_mg
            last = np.where(worth.any(axis=1),
                            worth.shape[1] - np.argmax(worth[:, ::-1], axis=1), 0)
            benefit = np.maximum(CANDIDATES_MG[last], self.min_daily_mg)
        return DoseTargets(picks[0], picks[1], cap, benefit)

    def recommend(self, state: IntelligentState, obs: Observations, therapy: Prescription
                  ) -> tuple[Recommendation, IntelligentState]:
        state = self.learn(state, obs, therapy)
        cur = therapy.it_mg_per_day
        t = self.target_dose(state, therapy)
        limit = np.minimum(t.breathing_cap, t.benefit_limit)
        goal = np.minimum(t.best, limit)
        floor = np.minimum(np.minimum(t.sure, limit), cur)
        nrs = obs.diary_mean_nrs
        no_data = np.isnan(nrs)
        unsafe = must_reduce(obs, self.sedation_reduce_poss, self.slow_breathing_per_min,
                             self.burden_reduce)
        with np.errstate(invalid="ignore"):
            controlled_now = nrs <= self.target_nrs
        wants_up = t.best > cur * (1 + self.deadband)
        can_up = (goal > cur * (1 + self.deadband)) & (obs.side_effect_burden < self.burden_hold)
        little_benefit = t.benefit_limit <= np.minimum(t.breathing_cap, cur * (1 + self.deadband))
        down = (floor < cur * (1 - self.deadband)) & (controlled_now | (t.breathing_cap < cur))
        past_benefit = t.benefit_limit < cur * (1 - self.deadband)
        reasons = np.select(
            [unsafe, no_data, wants_up & can_up, past_benefit, wants_up & little_benefit,
             wants_up, down],
            [Reason.DECREASE_SIDE_EFFECTS, Reason.HOLD_NO_DATA,
             Reason.INCREASE_UNCONTROLLED, Reason.DECREASE_LITTLE_BENEFIT,
             Reason.HOLD_LITTLE_BENEFIT, Reason.HOLD_SIDE_EFFECTS,
             Reason.DECREASE_OVERCONTROLLED],
            default=Reason.HOLD_CONTROLLED,
        ).astype(np.int64)
        it = np.select(
            [reasons == Reason.DECREASE_SIDE_EFFECTS,
             reasons == Reason.INCREASE_UNCONTROLLED,
             reasons == Reason.DECREASE_OVERCONTROLLED,
             reasons == Reason.DECREASE_LITTLE_BENEFIT],
            [cur * (1 - self.reduce), np.minimum(goal, cur * (1 + self.max_increase_per_day)),
             np.maximum(floor, cur * (1 - self.max_cut)),
             np.maximum(t.benefit_limit, cur * (1 - self.max_cut))],
            default=cur,
        )
        it = np.where(it > 0, np.maximum(it, self.min_daily_mg), it)
        low = self.min_rate_mg_per_day / np.maximum(it, 1e-12)
        flex = self.flex.shape(obs, therapy.flex, low)
        flex = np.where((reasons == Reason.DECREASE_SIDE_EFFECTS)[:, None], 1.0, flex)
        bolus = follow_dose(therapy.bolus_mg, cur, it, self.bolus_fraction, self.max_bolus_mg)
        maxb, more = one_more_bolus(obs, therapy.max_boluses_per_day,
                                    ~unsafe & (reasons != Reason.INCREASE_UNCONTROLLED),
                                    self.refused_for_more_boluses, self.max_boluses_per_day)
        held = reasons == Reason.HOLD_CONTROLLED
        reshaped = held & (np.abs(flex - therapy.flex).max(axis=1) > 0.05)
        reasons = np.where(reshaped, Reason.RESHAPE_FLEX, reasons)
        reasons = np.where(held & more, Reason.ADJUST_BOLUS, reasons).astype(np.int64)
        rec = therapy.with_(it_mg_per_day=it, flex=flex, bolus_mg=bolus,
                            max_boluses_per_day=maxb.astype(np.int64))

        def predict(dose: Array) -> Array:
            return estimator.expected_nrs(state.response, self.model, dose, self.horizon_days)

        rec, reasons, _ = hold_predicted_worse(predict, obs, therapy, rec, reasons,
                                               self.oral_per_it_mg)
        predicted = predict(plan_dose(obs, therapy, rec, self.oral_per_it_mg))
        return Recommendation(rec, reasons, predicted), state
