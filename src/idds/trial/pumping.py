"""The trial's pumps as a clinic runs them: implant and refill settings, the strength chosen
for each patient, the firmware's device limits checked for every program (through the pump
twin, `idds.pump.twin`), and refills when the low-reservoir alarm is due."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from idds.control.prescription import Prescription
from idds.errors import IddsError
from idds.pump import twin as pump_twin
from idds.pump.twin import PumpArrays

Array = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class PumpSetup:
    """Implant and refill settings of the intrathecal arms (ref, devices): 20 mL reservoir,
    low-reservoir alarm at 2 mL, patient bolus over 10 min; concentrations from the usual
    strengths, never above the library's hard maximum; a refill lasts at least 28 days."""

    reservoir_ml: float = 20.0
    alarm_ml: float = 2.0
    bolus_duration_min: float = 10.0
    strengths_mg_per_ml: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 20.0)
    min_days_per_fill: float = 28.0

    def concentration(self, therapy: Prescription, max_mg_per_ml: float) -> Array:
        """Per patient, the weakest usual strength (never above the library's hard maximum)
        that the device can deliver (basal flow and bolus volume in range) and that lasts
        `min_days_per_fill` with every bolus used; else the strongest deliverable one."""
        usable = self.reservoir_ml - self.alarm_ml
        lowest_basal = therapy.it_mg_per_day * therapy.flex.min(axis=1)
        strengths = [s for s in self.strengths_mg_per_ml if s <= max_mg_per_ml]
        chosen = np.full(therapy.n, np.nan)
        fallback = np.full(therapy.n, strengths[0])
        for strength in strengths:
            deliverable = (
                ((therapy.it_mg_per_day <= 0)
                 | (lowest_basal / strength >= pump_twin.MIN_FLOW_ML_PER_DAY))
                & ((therapy.bolus_mg <= 0)
                   | (therapy.bolus_mg / strength >= pump_twin.MIN_BOLUS_ML))
            )
            lasts = therapy.daily_it_mg() / strength * self.min_days_per_fill <= usable
            chosen = np.where(np.isnan(chosen) & deliverable & lasts, strength, chosen)
            fallback = np.where(deliverable, strength, fallback)
        out: Array = np.where(np.isnan(chosen), fallback, chosen)
        return out


class DeviceLimitError(IddsError):
    """An arm asked for a pump program the firmware would refuse."""


def _problems(pumps: PumpArrays, therapy: Prescription, setup: PumpSetup
              ) -> tuple[NDArray[np.int64], Array]:
    """Per pump, the firmware's refusal code for the program (0: accepted) and the shortest
    bolus duration the device allows (from `PumpSetup.bolus_duration_min`), min."""
    conc = pumps.concentration_mg_per_ml
    program = therapy.pump_program()
    duration = pump_twin.shortest_bolus_duration(program, conc, setup.bolus_duration_min)
    return pump_twin.program_problems(program, conc, duration), duration


def program_pumps(pumps: PumpArrays, therapy: Prescription, setup: PumpSetup, arm: str,
                  max_conc: float) -> tuple[Array, BoolArray]:
    """Check an arm's program against the device limits, as the firmware would: (the bolus
    duration to program, min; the pumps refilled).

    A program the pump cannot deliver at its present strength (a dose cut below the minimum
    flow, say) is what a clinician meets at the programmer: the pump is emptied and refilled
    with a strength that can deliver it (counted as a refill). Only a program no usual
    strength can deliver stops the trial (`DeviceLimitError`)."""
    problems, duration = _problems(pumps, therapy, setup)
    refilled = np.zeros(problems.shape, dtype=bool)
    if problems.any():
        refilled = problems > 0
        pumps.fill(refilled, setup.reservoir_ml, setup.concentration(therapy, max_conc))
        problems, duration = _problems(pumps, therapy, setup)
    if problems.any():
        worst = pump_twin.limit_of(int(problems[problems > 0][0]))
        raise DeviceLimitError(
            f"arm {arm} programmed {int((problems > 0).sum())} pump(s) outside the device "
            f"limits ({worst.name.lower().replace('_', ' ')})"
        )
    return duration, refilled


def refill_due(pumps: PumpArrays, therapy: Prescription, setup: PumpSetup,
               max_conc: float) -> BoolArray:
    """Refill the pumps that would pass the low-reservoir alarm within a day (worst case:
    every bolus used); returns which were refilled."""
    due: BoolArray = pumps.implanted & (
        pump_twin.days_to_alarm(pumps, therapy.pump_program(), setup.alarm_ml) < 1.0
    )
    if due.any():
        pumps.fill(due, setup.reservoir_ml, setup.concentration(therapy, max_conc))
    return due
