"""Bounded closed loop: a controller acts alone inside the clinician's bounds.

One pure step: the controller recommends, the supervisor decides, and whatever the supervisor
held (outside the clinician's bounds, a soft limit, a restart) or latched (an alarm) is flagged
for a clinician. The delivered therapy is always the supervisor's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
from numpy.typing import NDArray

from idds.control.bounds import ClinicianBounds, LibraryLimits
from idds.control.controller import Controller
from idds.control.observations import Observations
from idds.control.prescription import Prescription
from idds.control.recommendation import Recommendation
from idds.control.supervisor import SupervisorDecision, SupervisorState, supervise

S = TypeVar("S")
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class LoopState(Generic[S]):
    """The controller's carried estimate and the supervisor's memory."""

    controller: S
    supervisor: SupervisorState


@dataclass(frozen=True)
class LoopStep:
    """One closed-loop decision: what was recommended, what the supervisor decided, and which
    patients need a clinician (a hold or an alarm)."""

    recommendation: Recommendation
    decision: SupervisorDecision
    needs_clinician: BoolArray


def start_loop(controller: Controller[S], therapy: Prescription) -> LoopState[S]:
    """Loop state for patients starting on `therapy`."""
    return LoopState(controller.initial(therapy), SupervisorState.start(therapy))


def closed_loop_step(
    controller: Controller[S],
    state: LoopState[S],
    obs: Observations,
    therapy: Prescription,
    bounds: ClinicianBounds,
    library: LibraryLimits,
) -> tuple[LoopStep, LoopState[S]]:
    """Recommend, supervise, flag what needs a clinician."""
    rec, ctl = controller.recommend(state.controller, obs, therapy)
    decision, sup = supervise(state.supervisor, obs, therapy, rec, bounds, library)
    return LoopStep(rec, decision, decision.needs_clinician), LoopState(ctl, sup)
