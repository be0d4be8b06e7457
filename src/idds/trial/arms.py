"""Arms: named dosing strategies, each a pure function of what can be observed.

An arm starts a therapy on day 0 from the patient's current regimen and the drug library's
rules, then decides each evening (`decide`) from `Observations` (never the virtual patient's
hidden state) whether today was a clinic visit and what the therapy is tomorrow, with one
reason code per patient (`idds.control.reasons.Reason`, the vocabulary the controllers use
too). An arm's memory between decisions travels in `Decision.memory`: each decision returns a
new value and never changes the one it was given. The closed-loop arms
(`idds.trial.controlled_arms`) plug in through the same interface; the systemic taper and the
oral rescue rule of every arm live in `idds.trial.taper`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from idds.control import Observations
from idds.control.prescription import HOURS, Prescription
from idds.control.reasons import Reason as Reason  # the one vocabulary, re-exported
from idds.control.rules import Titration
from idds.drugs import ConversionPolicy, DrugEntry
from idds.physiology import Cohort
from idds.trial.calibration import ControllerCheck
from idds.trial.taper import RESCUE_FRACTION, Taper, rescue_mg

Array = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class ArmContext:
    """What an arm may know at the start: the current regimen and the drug library's rules.

    prior_oral_mg_per_day: each patient's oral morphine equivalent before day 0, mg/day.
    policy: the library's conversion policy; morphine: the library's morphine entry.
    hidden_cohort: the virtual patients themselves. Only the evaluation-only `oracle` arm may
        read it; every real arm decides from `Observations` alone.
    """

    prior_oral_mg_per_day: Array
    policy: ConversionPolicy
    morphine: DrugEntry
    hidden_cohort: Cohort


@dataclass(frozen=True)
class Decision:
    """Tomorrow's therapy, whether today was a clinic visit, a `Reason` per patient, the
    arm's own memory to be handed back at the next decision (None for memoryless arms; a new
    value each time, the memory passed in is left as it was), and the patients rotated today
    to another systemic opioid (None: nobody), and on check evenings an estimating
    controller's forecast of tomorrow's diary on that therapy and its beliefs (None: none;
    `idds.trial.calibration`)."""

    therapy: Prescription
    visit: BoolArray
    reasons: IntArray
    memory: object = None
    rotate: BoolArray | None = None
    check: ControllerCheck | None = None


class Arm(Protocol):
    """A dosing strategy. `uses_pump`: the patient has an implanted pump from day 0."""

    @property
    def name(self) -> str: ...

    @property
    def uses_pump(self) -> bool: ...

    def start(self, context: ArmContext) -> Prescription: ...

    def decide(self, obs: Observations, therapy: Prescription, context: ArmContext,
               memory: object) -> Decision:
        """Tomorrow's therapy. `memory` is what the previous decision returned (None first);
        it is not changed: the decision carries the new memory."""
        ...


def is_visit_day(day: int, first: tuple[int, ...], every: int) -> bool:
    """Clinic visit at the end of 0-based `day`: on the listed days, then every `every` days."""
    done = day + 1
    return done in first or (done > max(first) and done % every == 0)


#: The controller and titration-rule reasons an arm reports as they are; the others a
#: controller gives (dose held, flex reshaped, bolus settings changed, still learning) take the
#: caller's default: the arm's own account of the day.
REPORTED: frozenset[Reason] = frozenset({
    Reason.INCREASE_UNCONTROLLED,
    Reason.DECREASE_OVERCONTROLLED,
    Reason.DECREASE_SIDE_EFFECTS,
    Reason.HOLD_SIDE_EFFECTS,
    Reason.HOLD_NO_DATA,
    Reason.HOLD_LITTLE_BENEFIT,
    Reason.DECREASE_LITTLE_BENEFIT,
    Reason.HOLD_PREDICTED_WORSE,
    Reason.HOLD_INTERVAL,
    Reason.INCREASE_TIME_IN_TARGET,
})


def from_control(reasons: IntArray, default: Reason) -> IntArray:
    """A controller's `Reason` codes (n,) as an arm reports them: those in `REPORTED` as
    they are, any other as `default`."""
    lookup = np.full(len(Reason), int(default), dtype=np.int64)
    for reason in REPORTED:
        lookup[reason] = reason
    out: IntArray = lookup[reasons]
    return out


def visit_decision(titration: Titration, obs: Observations) -> tuple[Array, IntArray]:
    """A clinic visit's dose multiplier and `Reason` per patient."""
    factor, reasons = titration.decide(obs)
    return factor, from_control(reasons, Reason.HOLD_CONTROLLED)


#: Oral escalation at reviews: +30% (WHO-ladder practice of 25-50% steps; assumption within
#: that range), -25% on limiting side effects.
ORAL_TITRATION = Titration(target_nrs=3.0, increase=0.30, decrease=0.25, burden_hold=4.0,
                           burden_reduce=6.0)


@dataclass(frozen=True)
class ComprehensiveMedicalManagement:
    """`cmm`: comprehensive medical management by pain specialists, each part simply:

    - titration: oral morphine around the clock plus rescue (1/6 of the daily dose), reviewed
      after 1 and 2 weeks, then every 2 weeks: +30% when the diary mean is above NRS 3 without
      limiting side effects (burden < 4), held when side effects limit, -25% on sedation
      (POSS >= 3), slow breathing (< 10/min) or burden >= 6 (assumptions within practice:
      WHO-ladder steps of 25-50%);
    - opioid rotation when side effects limit (a hold or a cut for side effects): once per
      patient, to another opioid at an equianalgesic dose (the morphine equivalent is kept);
      the patient then has that opioid's own susceptibility to nausea, somnolence and
      confusion (`SymptomTraits.*_rotated`), which is why rotation helps some patients;
    - co-analgesics and active treatment of side effects: `care.SupportiveCare`, the same
      in every arm (the pump arms of the trials were pump plus CMM).
    The arm's memory is who has been rotated.
    """

    name: str = "cmm"
    uses_pump: bool = False
    titration: Titration = ORAL_TITRATION
    first_visits: tuple[int, ...] = (7, 14)
    visit_every_days: int = 14
    rescue_fraction: float = RESCUE_FRACTION

    def start(self, context: ArmContext) -> Prescription:
        oral = context.prior_oral_mg_per_day
        return Prescription.oral(oral.copy(), rescue_mg(oral, self.rescue_fraction))

    def decide(self, obs: Observations, therapy: Prescription, context: ArmContext,
               memory: object = None) -> Decision:
        n = therapy.n
        rotated = memory if isinstance(memory, np.ndarray) else np.zeros(n, dtype=bool)
        if not is_visit_day(obs.day, self.first_visits, self.visit_every_days):
            return Decision(therapy, np.zeros(n, dtype=bool),
                            np.full(n, Reason.NO_VISIT, dtype=np.int64), rotated.copy())
        factor, reasons = visit_decision(self.titration, obs)
        limited = (reasons == Reason.HOLD_SIDE_EFFECTS) | (reasons == Reason.DECREASE_SIDE_EFFECTS)
        rotate = limited & ~rotated
        factor = np.where(rotate, 1.0, factor)
        reasons = np.where(rotate, Reason.ROTATE_SIDE_EFFECTS, reasons).astype(np.int64)
        oral = therapy.oral_mg_per_day * factor
        return Decision(
            therapy.with_(oral_mg_per_day=oral,
                          oral_rescue_mg=rescue_mg(oral, self.rescue_fraction)),
            np.ones(n, dtype=bool),
            reasons,
            rotated | rotate,
            rotate,
        )


@dataclass(frozen=True)
class StandardIntrathecal:
    """`it-standard`: implant on day 0, conversion by the library's rule, systemic taper,
    patient remote boluses, clinician titration at scheduled visits, refills when due.

    Start: intrathecal morphine = oral morphine equivalent / the library's start ratio (near
    100:1, MASCC). Systemic taper: `Taper` (1/2 of the prior oral dose, then 1/4 from day 3,
    none from day 7; rescue follows it, and is kept after day 7 only while pain is not
    controlled). Patient bolus: 10% of the daily dose (never above the library's
    bolus limit), 10 min, lockout 2 h, at most 4 a day (assumption; PTM practice). Visits on
    days 3, 7, 14, 21, 28, then every 4 weeks: +the library's maximum step (20% for morphine)
    when the diary mean is above NRS 3 without sedation or intolerable side effects, -20% on
    sedation (POSS >= 3), slow breathing (< 10/min) or burden >= 6. The arm's memory is who
    keeps an oral rescue after the taper.
    """

    name: str = "it-standard"
    uses_pump: bool = True
    first_visits: tuple[int, ...] = (3, 7, 14, 21, 28)
    visit_every_days: int = 28
    bolus_fraction: float = 0.10
    lockout_min: float = 120.0
    max_boluses_per_day: int = 4
    taper: Taper = field(default_factory=Taper)
    decrease: float = 0.20
    burden_hold: float = 4.0
    burden_reduce: float = 6.0

    def _titration(self, context: ArmContext) -> Titration:
        step = context.morphine.max_increase_percent
        increase = 0.2 if step is None else step.value / 100.0
        return Titration(target_nrs=3.0, increase=increase, decrease=self.decrease,
                         burden_hold=self.burden_hold, burden_reduce=self.burden_reduce)

    def _bolus_mg(self, it_mg_per_day: Array, context: ArmContext) -> Array:
        bolus = it_mg_per_day * self.bolus_fraction
        limit = context.morphine.max_bolus
        if limit is not None:
            bolus = np.minimum(bolus, float(limit.value.value_in("mg")))
        return bolus

    def start(self, context: ArmContext) -> Prescription:
        prior = context.prior_oral_mg_per_day
        n = prior.shape[0]
        ratio = float(context.policy.start_ratio_oral_to_intrathecal)
        it = prior / ratio
        implant = Prescription(
            oral_mg_per_day=prior,
            oral_rescue_mg=prior,
            it_mg_per_day=it,
            flex=np.ones((n, HOURS)),
            bolus_mg=self._bolus_mg(it, context),
            lockout_min=np.full(n, self.lockout_min),
            max_boluses_per_day=np.full(n, self.max_boluses_per_day, dtype=np.int64),
        )
        return self.taper.therapy(implant, prior, 0, self.taper.start(n))

    def tapered(self, obs: Observations, therapy: Prescription, context: ArmContext,
                keep: BoolArray | None) -> tuple[Prescription, BoolArray, IntArray]:
        """Tomorrow's taper (`Taper.step`): the therapy, who keeps a rescue (a new array), and
        a reason per patient; `keep` None: everyone yet."""
        before = self.taper.start(therapy.n) if keep is None else keep
        return self.taper.step(obs, therapy, context.prior_oral_mg_per_day, before)

    def decide(self, obs: Observations, therapy: Prescription, context: ArmContext,
               memory: object = None) -> Decision:
        n = therapy.n
        keep = memory if isinstance(memory, np.ndarray) else None
        therapy, keep, taper_reasons = self.tapered(obs, therapy, context, keep)
        if not is_visit_day(obs.day, self.first_visits, self.visit_every_days):
            return Decision(therapy, np.zeros(n, dtype=bool), taper_reasons, keep)
        factor, reasons = visit_decision(self._titration(context), obs)
        it = therapy.it_mg_per_day * factor
        return Decision(
            therapy.with_(it_mg_per_day=it, bolus_mg=self._bolus_mg(it, context)),
            np.ones(n, dtype=bool),
            reasons,
            keep,
        )
