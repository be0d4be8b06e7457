"""Drug-library checks of a therapy, the same on the programmer and on the pump emulator.

Builds the `Proposal` for `idds.drugs.check_therapy` from a therapy: the concentration, the
basal dose per day (continuous rate, or the most a flex schedule gives in any 24 h), the patient
bolus dose, and the pump's current dose per day for the size-of-change check (ref, devices:
"60 mcg/day programmed as 60 mcg/hour" is a 24-fold increase, held by the increase limit).
Pure: no clock, no I/O.
"""

from __future__ import annotations

from idds.drugs import CheckResult, DrugEntry, Proposal, check_therapy
from idds.pump import Therapy
from idds.pump.program import peak_daily_dose
from idds.units import Quantity


def proposal_for(
    entry: DrugEntry,
    therapy: Therapy,
    concentration: Quantity,
    current: Therapy | None,
    *,
    opioid_tolerant: bool = False,
    since_last_increase: Quantity | None = None,
) -> Proposal:
    """The proposal a therapy makes; `current` is the therapy running now for the same drug
    (None for a first program or after a change of drug); `since_last_increase` is the time
    since the pump last raised the dose (None: never, or unknown to the caller)."""
    unit = entry.dose_unit
    new = peak_daily_dose(therapy.basal, unit)
    old = peak_daily_dose(current.basal, unit) if current is not None else None
    if old is not None and not old.is_positive():
        old = None
    return Proposal(
        concentration=concentration,
        daily_dose=new if new is not None and new.is_positive() else None,
        bolus=therapy.demand.dose if therapy.demand is not None else None,
        current_daily_dose=old,
        time_since_last_increase=since_last_increase if old is not None else None,
        opioid_tolerant=opioid_tolerant,
        boluses_per_day=therapy.demand.max_per_24h if therapy.demand is not None else 0,
    )


def check(
    entry: DrugEntry,
    therapy: Therapy,
    concentration: Quantity,
    current: Therapy | None,
    *,
    opioid_tolerant: bool = False,
    since_last_increase: Quantity | None = None,
) -> CheckResult:
    """Every library limit the therapy breaks (hard and soft)."""
    return check_therapy(
        entry,
        proposal_for(entry, therapy, concentration, current, opioid_tolerant=opioid_tolerant,
                     since_last_increase=since_last_increase),
    )
