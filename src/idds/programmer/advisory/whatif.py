"""What-if: the predicted course of pain on the program in force and on a proposed one, from
this patient's own estimate: the intelligent controller's estimator (`idds.control`), fitted
to the patient's record (diary, respiratory rates, the pump's log of presses and program
changes), forecasting `HORIZONS` days ahead with its 80% interval, and the next refill date
of each program. No programmer offers this (users fake entries to get it: docs/console.md).
Pure: nothing is sent, nothing is stored; the controller's state is fitted afresh from the
record each time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from idds.control.beliefs import Beliefs, Forecast
from idds.control.intelligent import IntelligentController
from idds.control.registry import build_controller
from idds.drugs import DrugLibrary
from idds.programmer.advisory.clinical import ClinicalInput
from idds.programmer.advisory.run import setup
from idds.programmer.api import LogDownload
from idds.programmer.status import PumpStatus
from idds.programmer.therapyform import to_prescription
from idds.pump import Therapy

#: The forecast horizons, days (issue 17: the next 7-14 days).
HORIZONS = (7.0, 14.0)
#: The estimator whose forecast this is (`idds.control.registry`).
ESTIMATOR = "intelligent"


@dataclass(frozen=True)
class Outlook:
    """At `horizon_days`: the forecast on the program in force and on the proposed one."""

    horizon_days: float
    current: Forecast
    proposed: Forecast


@dataclass(frozen=True)
class WhatIf:
    beliefs: Beliefs
    outlooks: tuple[Outlook, ...]
    target_nrs: float
    notes: tuple[str, ...]


def what_if(status: PumpStatus, log: LogDownload, clinical: ClinicalInput,
            library: DrugLibrary, now: dt.datetime, proposed: Therapy) -> WhatIf:
    """The estimate's outlook for the therapy in force (`status.therapy`) and `proposed`."""
    s = setup(status, log, clinical, library, now)
    controller = build_controller(ESTIMATOR, s.settings)
    assert isinstance(controller, IntelligentController)
    _, fitted = controller.recommend(controller.initial(s.current), s.observations, s.current)
    plan = to_prescription(proposed, clinical.oral_mg_per_day, clinical.oral_rescue_mg)
    outlooks = tuple(Outlook(
        h, controller.forecast(fitted, s.observations, s.current, s.current, h).one(0),
        controller.forecast(fitted, s.observations, s.current, plan, h).one(0))
        for h in HORIZONS)
    return WhatIf(controller.beliefs(fitted)[0], outlooks, controller.target_nrs, s.notes)
