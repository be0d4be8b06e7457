"""The intelligent controller: the dose of highest expected utility for this patient's pain.

Each evening it
1. recovers the day's own diary mean, boluses given and side-effect burden from the windowed
   observations (`idds.control.daily`);
2. updates a Bayesian estimate of the patient's dose-response (maximal relief and potency,
   both learned), tolerance drift and disease progression from the diary at the day's
   IT-equivalent dose (basal + boluses given + oral morphine / the library's oral:IT ratio)
   (`idds.control.estimator`), of how breathing slows with the dose from the lowest
   respiratory rate (`idds.control.breathing`), and of how the patient's side effects rise
   with the intrathecal and the oral dose from the reported burden (side-effect sensitivity,
   `idds.control.sideeffects`);
3. scores each candidate daily dose by its expected utility per day `horizon_days` ahead (the
   next possible increase after the monitoring window), over the posteriors, at the dose they
   learn from (candidate basal + the boluses taken, `harm.bolus_dose`, + oral): the expected
   share of waking time with pain at or below target on a day no side effect limits (the
   trials' time in target: the pain estimate's share times the probability that the
   side-effect burden stays below moderate at that dose), plus
   `relief_value` per NRS point of mean relief, minus `drug_cost_per_mg` per mg/day IT; only
   doses below the breathing cap count (predicted lowest rate above the interlock's warning
   limit with 95% probability: a bounded risk of respiratory depression); the best of 90
   candidates is found by a coarse-to-fine search (`idds.control.search`);
4. raises the dose by at most one library step when the diary shows pain above target and
   either the best dose is higher or a step is worth trying (`worth_trying`: a step is
   reversible, so its expected gain where it helps, kept `keep_days`, is weighed against its
   expected cost where it does not, paid `trial_days`); at or below target, when the step is
   better with probability `confidence_down` (`surely_better`: part of the day is above
   target, and the step buys more of it back than the drug costs) on a day the flex shape is
   not being moved (presses at a regular hour are the flex's to meet first); cuts by at most
   `max_cut` a day toward the best dose at half the drug cost (a cut must be clearly worth it:
   an increase can be re-tried only after the monitoring window); holds with
   `HOLD_LITTLE_BENEFIT` above target where no step is worth its drug; holds on missing diary;
   reduces on sedation, slow breathing or intolerable side effects (Pasero 2009: POSS 3: -25-50%);
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

from idds.control import breathing, estimator, sideeffects
from idds.control.beliefs import (
    Beliefs,
    Explanation,
    ForecastArrays,
    PlanDoses,
    beliefs_of,
    forecast,
)
from idds.control.bolus import follow_dose, one_more_bolus
from idds.control.breathing import BreathingEstimate, BreathingModel
from idds.control.daily import DailyState, recover
from idds.control.estimator import ResponseEstimate, ResponseModel
from idds.control.flex import FlexShaper, moved
from idds.control.harm import bolus_dose, hold_predicted_worse, plan_dose
from idds.control.observations import Observations
from idds.control.prescription import Prescription
from idds.control.reasons import Reason
from idds.control.recommendation import Recommendation
from idds.control.rules import must_reduce
from idds.control.search import capped, coarse_to_fine
from idds.control.sideeffects import SideEffectEstimate, SideEffectModel

Array = NDArray[np.float64]

#: Candidate daily doses searched, mg/day.
CANDIDATES_MG = np.geomspace(0.05, 30.0, 90)
#: Oral morphine mg per intrathecal mg on the classic ladder (300:1, Krames): the reference drug
#: library's value. The registry (`idds.control.registry`) passes the library's own ratio.
LADDER_ORAL_PER_IT_MG = 300.0
#: Patients whose candidate utilities are computed together (90 doses x 240 grid points each:
#: about 2.8 MB of float64 per array for 16 patients, in the cache, where a batch of 500
#: patients made 86 MB temporaries; 8-32 rows measured alike, 128 slower).
UTILITY_ROWS = 16
#: The reasons of an increase of the daily dose.
INCREASES = [int(Reason.INCREASE_UNCONTROLLED), int(Reason.INCREASE_TIME_IN_TARGET)]


@dataclass(frozen=True)
class DoseTargets:
    """Per patient, mg/day IT: the dose of highest expected utility (best), the dose of highest
    expected utility at half the drug cost (keep: a cut goes no lower, see
    `IntelligentController`), and the breathing cap. Doses are capped at the breathing cap."""

    best: Array
    keep: Array
    breathing_cap: Array


@dataclass(frozen=True)
class IntelligentState:
    """The controller's carried estimate: recovered days, dose-response, breathing and
    side-effect posteriors, and the oral dose it saw last (the dose of the day it will next
    observe)."""

    daily: DailyState
    response: ResponseEstimate
    breathing: BreathingEstimate
    side_effects: SideEffectEstimate
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
    Utility (docs/control.md, "Expected utility"), per day, on the scale of the share of the
    waking day in target (IDDS assumptions, each a clinician's value judgement, none fitted to
    a trial): drug_cost_per_mg 0.02 per mg/day IT: a dose at the consensus ceiling of
    intrathecal morphine (15 mg/day, Deer 2017 PACC, unconfirmed; the library's soft limit)
    is worth giving only if it buys at least 30% of the waking day in target over no drug
    (long-term harms of dose: granuloma, endocrine, oedema, not in the estimate);
    relief_value 0.05 per NRS point of mean relief: where no dose reaches the target, one more
    mg/day must still buy 0.4 NRS (0.02 / 0.05, the earlier benefit limit of this controller;
    drug_cost_per_mg 0 turns the drug's cost off).
    keep_days 28 (a month to the next clinic review: how long a gain found by a trial step is
    kept) and trial_days 5 (the 72 h monitoring window to see a step's effect plus two days of
    `max_cut` to undo a 20% step): the horizon of a trial step.
    confidence_down 0.85: the posterior probability that a step helps before a dose that the
    diary shows at target is raised.
    """

    name: str = "intelligent"
    target_nrs: float = 3.0
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
    drug_cost_per_mg: float = 0.02
    relief_value: float = 0.05
    keep_days: float = 28.0
    trial_days: float = 5.0
    baseline_nrs: float = 7.6
    baseline_sd: float = 1.5
    prior_oral_mg_per_day: Array | None = None
    model: ResponseModel = field(default_factory=ResponseModel)
    breathing_model: BreathingModel = field(default_factory=BreathingModel)
    flex: FlexShaper = field(default_factory=FlexShaper)
    side_effect_model: SideEffectModel = field(default_factory=SideEffectModel)

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
            side_effects=SideEffectEstimate.prior(n, self.side_effect_model),
            last_oral_mg_per_day=therapy.oral_mg_per_day.copy(),
            started=False,
        )

    def learn(self, state: IntelligentState, obs: Observations, therapy: Prescription
              ) -> IntelligentState:
        """Update the estimates with the day just observed (therapy: the one delivered)."""
        exact = state.daily.day == obs.day - 1 and state.daily.window == obs.window_days
        day, daily = recover(state.daily, obs)
        it_mg = therapy.it_mg_per_day + day.boluses_given * therapy.bolus_mg
        dose = it_mg + state.last_oral_mg_per_day / self.oral_per_it_mg
        response, side = state.response, state.side_effects
        if state.started:
            response = estimator.predict(response, self.model)
            side = sideeffects.predict(side, self.side_effect_model)
        # A day recovered exactly is one day's evidence; otherwise (a programmer's first look,
        # a skipped day) the window's mean with all its entries is what was observed.
        nrs = np.where(exact, day.diary_mean_nrs, obs.diary_mean_nrs)
        entries = np.where(exact, day.diary_entries, obs.diary_entries)
        response = estimator.update(response, self.model, dose, nrs, entries)
        burden = np.where(exact, day.side_effect_burden, obs.side_effect_burden)
        side = sideeffects.update(side, self.side_effect_model, it_mg,
                                  state.last_oral_mg_per_day, burden)
        no_oral = state.last_oral_mg_per_day <= 0
        breath = breathing.update(state.breathing, self.breathing_model, dose,
                                  obs.respiratory_rate_min, no_oral)
        return IntelligentState(daily, response, breath, side, therapy.oral_mg_per_day.copy(),
                                True)

    def utility_by_point(self, response: ResponseEstimate, doses: Array, tolerable: Array
                         ) -> Array:
        """Utility per day of each candidate under each grid point of the estimate, before
        the drug's cost, (n, m, K): the expected time in target `horizon_days` ahead (the
        share of waking time with NRS <= target, on a day without a limiting side effect)
        minus `relief_value` per NRS point of mean pain. doses: the whole IT-equivalent dose
        (with oral), (n, m) mg/day; tolerable: P(no limiting side effect) at each candidate
        (n, m) (`idds.control.sideeffects`). The waking-time share is the probability that
        one moment's pain is at or below target: the model's day mean with the spread of one
        waking moment around it (`ResponseModel.waking_spread`)."""
        in_target, pain = estimator.by_point(response, self.model, doses, self.horizon_days,
                                             self.target_nrs, self.model.waking_spread)
        in_target *= tolerable[:, :, None]
        pain *= -self.relief_value  # in place: (n, m, K) arrays
        pain += in_target
        return pain

    def utility(self, state: IntelligentState, doses: Array, tolerable: Array) -> Array:
        """Expected utility per day of each candidate (n, m) before the drug's cost:
        `utility_by_point` averaged over the posterior (subtract the cost per mg/day IT of
        the pump's part). Computed `UTILITY_ROWS` patients at a time: each patient's row is
        independent, and arrays of that size stay in the processor's cache."""
        out = np.empty(doses.shape)
        for a in range(0, doses.shape[0], UTILITY_ROWS):
            part = state.response.rows(a, a + UTILITY_ROWS)
            rows = slice(a, a + UTILITY_ROWS)
            by_k = self.utility_by_point(part, doses[rows], tolerable[rows])
            out[a:a + UTILITY_ROWS] = np.matmul(by_k, part.weights[:, :, None])[..., 0]
        return out

    def step_gain(self, state: IntelligentState, therapy: Prescription, step_mg: Array,
                  bolus_mg_per_day: Array) -> Array:
        """Per grid point k (n, K): utility at the daily dose `step_mg` (n,) mg/day IT minus
        utility at the current dose (both with the boluses), less the change's drug cost."""
        it_doses = np.stack([therapy.it_mg_per_day, step_mg], axis=1)
        whole = self.whole_dose(therapy, it_doses, bolus_mg_per_day)
        u = self.utility_by_point(state.response, whole,
                                  self.tolerable(state, therapy, it_doses, bolus_mg_per_day))
        gain: Array = (u[:, 1, :] - u[:, 0, :]
                       - (self.drug_cost_per_mg * (step_mg - therapy.it_mg_per_day))[:, None])
        return gain

    def worth_trying(self, state: IntelligentState, therapy: Prescription, step_mg: Array,
                     bolus_mg_per_day: Array) -> NDArray[np.bool_]:
        """Whether a step up to `step_mg` (n,) mg/day IT is worth a trial in a patient above
        target: the step is reversible, so a patient in whom it helps keeps the gain for
        `keep_days` while one in whom it does not pays for it for `trial_days`. Try when
        keep_days x E[max(gain, 0)] > trial_days x E[max(-gain, 0)] (`step_gain`)."""
        gain = self.step_gain(state, therapy, step_mg, bolus_mg_per_day)
        w = state.response.weights
        up = np.sum(w * np.maximum(gain, 0.0), axis=1)
        down = np.sum(w * np.maximum(-gain, 0.0), axis=1)
        out: NDArray[np.bool_] = self.keep_days * up > self.trial_days * down
        return out

    def surely_better(self, state: IntelligentState, therapy: Prescription, step_mg: Array,
                      bolus_mg_per_day: Array) -> NDArray[np.bool_]:
        """Whether a step up to `step_mg` (n,) is better with probability `confidence_down`
        (`step_gain` > 0): a dose the diary shows at target is raised only when the estimate
        is sure it buys more time in target than the drug costs."""
        gain = self.step_gain(state, therapy, step_mg, bolus_mg_per_day)
        out: NDArray[np.bool_] = (np.sum(state.response.weights * (gain > 0), axis=1)
                                  >= self.confidence_down)
        return out

    def whole_dose(self, therapy: Prescription, it_doses: Array, bolus_mg_per_day: Array
                   ) -> Array:
        """The whole IT-equivalent dose (`harm.plan_dose`) at each candidate basal (n, m)."""
        out: Array = (it_doses + bolus_mg_per_day[:, None]
                      + (therapy.oral_mg_per_day / self.oral_per_it_mg)[:, None])
        return out

    def tolerable(self, state: IntelligentState, therapy: Prescription, it_doses: Array,
                  bolus_mg_per_day: Array) -> Array:
        """P(no limiting side effect) `horizon_days` ahead at each candidate basal dose (n, m)
        mg/day IT, with the patient's boluses (n,) mg/day IT and tomorrow's oral."""
        return sideeffects.tolerable(state.side_effects, self.side_effect_model,
                                     it_doses + bolus_mg_per_day[:, None],
                                     therapy.oral_mg_per_day[:, None], self.horizon_days)

    def target_dose(self, state: IntelligentState, therapy: Prescription,
                    bolus_mg_per_day: Array) -> DoseTargets:
        """The basal doses this patient's estimate points to (mg/day IT, see `DoseTargets`),
        each scored with tomorrow's oral and the patient's boluses (n,) mg/day IT."""
        cap = breathing.dose_cap(state.breathing, self.breathing_floor_per_min, self.breathing_z)

        def before_cost(i: NDArray[np.int64]) -> Array:
            return self.utility(state, self.whole_dose(therapy, CANDIDATES_MG[i], bolus_mg_per_day),
                                self.tolerable(state, therapy, CANDIDATES_MG[i], bolus_mg_per_day))

        costs = (self.drug_cost_per_mg, 0.5 * self.drug_cost_per_mg)
        found = coarse_to_fine(before_cost, therapy.n, CANDIDATES_MG.size,
                               [capped(CANDIDATES_MG, cap, cost) for cost in costs])
        picks = [np.maximum(CANDIDATES_MG[i], self.min_daily_mg) for i in found]
        return DoseTargets(picks[0], picks[1], cap)

    def recommend(self, state: IntelligentState, obs: Observations, therapy: Prescription
                  ) -> tuple[Recommendation, IntelligentState]:
        state = self.learn(state, obs, therapy)
        cur = therapy.it_mg_per_day
        boluses = bolus_dose(obs, therapy, therapy)
        t = self.target_dose(state, therapy, boluses)
        nrs = obs.diary_mean_nrs
        no_data = np.isnan(nrs)
        unsafe = must_reduce(obs, self.sedation_reduce_poss, self.slow_breathing_per_min,
                             self.burden_reduce)
        with np.errstate(invalid="ignore"):
            above = nrs > self.target_nrs
        step = np.minimum(cur * (1 + self.max_increase_per_day), t.breathing_cap)
        better = t.best > cur * (1 + self.deadband)
        room = step > cur * (1 + self.deadband)
        capped = t.breathing_cap < cur * (1 - self.deadband)
        down = t.keep < cur * (1 - self.deadband)
        low_now = self.min_rate_mg_per_day / np.maximum(cur, 1e-12)
        reshaping = moved(self.flex.shape(obs, therapy.flex, low_now), therapy.flex)
        wants_up = np.where(
            above, better | (room & ~down & self.worth_trying(state, therapy, step, boluses)),
            better & ~reshaping
            & self.surely_better(state, therapy, np.minimum(t.best, step), boluses))
        calm = obs.side_effect_burden < self.burden_hold
        reasons = np.select(
            [unsafe, no_data, capped, wants_up & calm & above, wants_up & calm, wants_up, down,
             above],
            [Reason.DECREASE_SIDE_EFFECTS, Reason.HOLD_NO_DATA, Reason.DECREASE_OVERCONTROLLED,
             Reason.INCREASE_UNCONTROLLED, Reason.INCREASE_TIME_IN_TARGET,
             Reason.HOLD_SIDE_EFFECTS, Reason.DECREASE_LITTLE_BENEFIT,
             Reason.HOLD_LITTLE_BENEFIT],
            default=Reason.HOLD_CONTROLLED,
        ).astype(np.int64)
        it = np.select(
            [reasons == Reason.DECREASE_SIDE_EFFECTS,
             np.isin(reasons, INCREASES),
             reasons == Reason.DECREASE_OVERCONTROLLED,
             reasons == Reason.DECREASE_LITTLE_BENEFIT],
            [cur * (1 - self.reduce),
             np.where(t.best > cur * (1 + self.deadband), np.minimum(t.best, step), step),
             np.maximum(t.breathing_cap, cur * (1 - self.max_cut)),
             np.maximum(t.keep, cur * (1 - self.max_cut))],
            default=cur,
        )
        it = np.where(it > 0, np.maximum(it, self.min_daily_mg), it)
        low = self.min_rate_mg_per_day / np.maximum(it, 1e-12)
        flex = self.flex.shape(obs, therapy.flex, low)
        flex = np.where((reasons == Reason.DECREASE_SIDE_EFFECTS)[:, None], 1.0, flex)
        bolus = follow_dose(therapy.bolus_mg, cur, it, self.bolus_fraction, self.max_bolus_mg)
        maxb, more = one_more_bolus(obs, therapy.max_boluses_per_day,
                                    ~unsafe & ~np.isin(reasons, INCREASES),
                                    self.refused_for_more_boluses, self.max_boluses_per_day)
        held = reasons == Reason.HOLD_CONTROLLED
        reshaped = held & moved(flex, therapy.flex)
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

    def forecast(self, state: IntelligentState, obs: Observations, current: Prescription,
                 plan: Prescription, horizon_days: float) -> ForecastArrays:
        """What the estimate predicts `horizon_days` ahead for `plan` (with the boluses the
        patient is expected to take on it), for each patient (`idds.control.beliefs`), for a
        day's diary mean of as many entries as the patient's days in the window had."""
        it_mg = plan.it_mg_per_day + bolus_dose(obs, current, plan)
        dose = PlanDoses(plan_dose(obs, current, plan, self.oral_per_it_mg), it_mg,
                         plan.oral_mg_per_day)
        entries = obs.diary_entries / max(obs.window_days, 1)
        return forecast(state.response, self.model, state.side_effects,
                        self.side_effect_model, dose, horizon_days, self.target_nrs, entries)

    def beliefs(self, state: IntelligentState) -> list[Beliefs]:
        """What the estimate believes about each patient (`idds.control.beliefs`)."""
        return beliefs_of(state.response, state.breathing, state.side_effects, self.model,
                          self.breathing_floor_per_min, self.breathing_z)

    def explain(self, state: IntelligentState, obs: Observations, current: Prescription,
                proposed: Prescription) -> list[Explanation]:
        """Per patient: beliefs, best dose and forecasts at `current` and `proposed` (state:
        the one `recommend` returned, which has learned today)."""
        beliefs = self.beliefs(state)
        best = self.target_dose(state, proposed, bolus_dose(obs, current, current)).best
        now = self.forecast(state, obs, current, current, self.horizon_days)
        then = self.forecast(state, obs, current, proposed, self.horizon_days)
        return [Explanation(beliefs[i], float(best[i]), now.one(i), then.one(i),
                            self.horizon_days, self.target_nrs) for i in range(current.n)]
