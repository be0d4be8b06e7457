"""No recommended change may predict worse pain without a side-effect or safety gain (issue 20).

A recommendation changes the basal dose and the patient bolus settings together, and the
supervisor judges the parts apart: it may refuse the basal increase and let a bolus change
through, or the other way round (`idds.control.stages.gate_increases`: the basal dose and the
bolus allowance are gated separately). So each part must be safe to deliver alone. The rule:
unless the decision's reason states a side-effect or safety gain (`GAIN_REASONS`: a cut for
observed side effects, for little predicted benefit, or toward the smallest effective dose
when pain is controlled with room to spare), no plan the supervisor could deliver from the
recommendation (the recommended basal or the current one, with the recommended bolus settings
or the current ones) may be predicted to leave pain worse than the current plan. Where one is,
the controller does not recommend the change: it holds, with `Reason.HOLD_PREDICTED_WORSE`.

A plan's dose, as the estimator learns it (`idds.control.intelligent`): basal + boluses taken
per day x bolus dose + oral / the oral:IT ratio, mg/day IT-equivalent. Boluses taken per day
(`boluses_taken`, assumption: the patient presses as in the observation window): those given
now, plus up to one refused press a day for each extra bolus a day allowed, at most the
plan's boluses a day; none without a bolus dose.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from idds.control.observations import Observations
from idds.control.prescription import Prescription
from idds.control.reasons import Reason

Array = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

#: Reasons that state a side-effect or safety gain: only these may lower predicted relief.
GAIN_REASONS: frozenset[Reason] = frozenset({
    Reason.DECREASE_SIDE_EFFECTS,
    Reason.DECREASE_LITTLE_BENEFIT,
    Reason.DECREASE_OVERCONTROLLED,
})

#: Predicted pain (NRS) a part may exceed the current plan's by before it counts as worse
#: (float noise, not a clinical margin).
TOLERANCE_NRS = 1e-6


def boluses_taken(obs: Observations, current: Prescription, plan: Prescription) -> Array:
    """Patient boluses expected per day under `plan` (n,): see the module docstring."""
    given = np.maximum(obs.presses_per_day - obs.refused_per_day, 0.0)
    extra = np.maximum(plan.max_boluses_per_day - current.max_boluses_per_day, 0)
    taken = np.minimum(given + np.minimum(obs.refused_per_day, extra), plan.max_boluses_per_day)
    out: Array = np.where(plan.bolus_mg > 0, np.nan_to_num(taken), 0.0)
    return out


def bolus_dose(obs: Observations, current: Prescription, plan: Prescription) -> Array:
    """Intrathecal drug the patient is expected to take by bolus under `plan` (n,), mg/day:
    boluses taken (`boluses_taken`) x the plan's bolus dose."""
    out: Array = boluses_taken(obs, current, plan) * plan.bolus_mg
    return out


def plan_dose(obs: Observations, current: Prescription, plan: Prescription,
              oral_per_it_mg: float) -> Array:
    """The IT-equivalent daily dose of `plan` (n,), mg/day: basal + boluses taken x bolus dose
    + oral morphine / `oral_per_it_mg`."""
    out: Array = (plan.it_mg_per_day + bolus_dose(obs, current, plan)
                  + plan.oral_mg_per_day / oral_per_it_mg)
    return out


def deliverable_parts(current: Prescription, plan: Prescription) -> list[Prescription]:
    """The plans the supervisor could deliver from `plan` by refusing one part: the basal
    change alone, the bolus settings' change alone, and both."""
    basal = current.with_(it_mg_per_day=plan.it_mg_per_day)
    bolus = current.with_(bolus_mg=plan.bolus_mg, lockout_min=plan.lockout_min,
                          max_boluses_per_day=plan.max_boluses_per_day)
    return [basal, bolus, plan]


def predicted_worse(predict: Callable[[Array], Array], obs: Observations,
                    current: Prescription, plan: Prescription, oral_per_it_mg: float
                    ) -> BoolArray:
    """Per patient: some deliverable part of `plan` is predicted (`predict`: IT-equivalent
    dose (n,) mg/day -> mean pain (n,) NRS) to leave pain worse than `current`."""
    now = predict(plan_dose(obs, current, current, oral_per_it_mg))
    worst = np.max([predict(plan_dose(obs, current, part, oral_per_it_mg))
                    for part in deliverable_parts(current, plan)], axis=0)
    out: BoolArray = worst > now + TOLERANCE_NRS
    return out


def hold_predicted_worse(predict: Callable[[Array], Array], obs: Observations,
                         current: Prescription, plan: Prescription, reasons: IntArray,
                         oral_per_it_mg: float) -> tuple[Prescription, IntArray, BoolArray]:
    """The rule of the module docstring: where `plan` has no gain reason and a deliverable
    part is predicted worse, the current plan and `Reason.HOLD_PREDICTED_WORSE`. Returns the
    plan, the reasons and who was held."""
    gain = np.isin(reasons, [int(r) for r in GAIN_REASONS])
    held = ~gain & predicted_worse(predict, obs, current, plan, oral_per_it_mg)
    if not held.any():
        return plan, reasons, held
    rows = held[:, None]
    out = plan.with_(
        it_mg_per_day=np.where(held, current.it_mg_per_day, plan.it_mg_per_day),
        flex=np.where(rows, current.flex, plan.flex),
        bolus_mg=np.where(held, current.bolus_mg, plan.bolus_mg),
        lockout_min=np.where(held, current.lockout_min, plan.lockout_min),
        max_boluses_per_day=np.where(held, current.max_boluses_per_day,
                                     plan.max_boluses_per_day).astype(np.int64),
    )
    new_reasons: IntArray = np.where(held, int(Reason.HOLD_PREDICTED_WORSE),
                                     reasons).astype(np.int64)
    return out, new_reasons, held
