"""Prescriptions per patient as arrays: what every arm prescribes, in the units clinicians use.

One `Prescription` holds a whole cohort's prescriptions (arrays of shape (n,)): oral morphine around
the clock, oral rescue, and the intrathecal pump program (daily dose, flex shape, patient
bolus settings). Arms return a new `Prescription`; the engine applies it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from idds.pump.twin import HOURS as HOURS  # hours in a flex day, re-exported for the arrays
from idds.pump.twin import TwinProgram

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]



@dataclass(frozen=True)
class Prescription:
    """Prescriptions for n patients.

    oral_mg_per_day: around-the-clock oral morphine, mg/day, taken as two equal doses at 08:00
        and 20:00 (sustained release, q12h).
    oral_rescue_mg: oral morphine per rescue dose, mg (0: none); the patient decides when.
    it_mg_per_day: intrathecal morphine basal dose, mg/day (0: pump stopped or not implanted).
    flex: (n, 24) hourly multipliers of the basal rate, mean 1 over the day (flex dosing:
        the daily dose is unchanged, its timing is shaped).
    bolus_mg: patient demand bolus dose, mg (0: no patient bolus).
    lockout_min: minimum time from the start of one patient bolus to the next, min.
    max_boluses_per_day: patient boluses allowed in any rolling 24 h.
    """

    oral_mg_per_day: Array
    oral_rescue_mg: Array
    it_mg_per_day: Array
    flex: Array
    bolus_mg: Array
    lockout_min: Array
    max_boluses_per_day: IntArray

    @property
    def n(self) -> int:
        return int(self.oral_mg_per_day.shape[0])

    @staticmethod
    def oral(mg_per_day: Array, rescue_mg: Array) -> Prescription:
        """Oral morphine only."""
        n = mg_per_day.shape[0]
        return Prescription(
            oral_mg_per_day=mg_per_day.astype(np.float64),
            oral_rescue_mg=rescue_mg.astype(np.float64),
            it_mg_per_day=np.zeros(n),
            flex=np.ones((n, HOURS)),
            bolus_mg=np.zeros(n),
            lockout_min=np.full(n, 60.0),
            max_boluses_per_day=np.zeros(n, dtype=np.int64),
        )

    def with_(self, **changes: Array | IntArray) -> Prescription:
        return replace(self, **changes)  # type: ignore[arg-type]

    def pump_program(self) -> TwinProgram:
        """The intrathecal pump program as the pump twin reads it (`idds.pump.twin`): the one
        conversion from a prescription to the pump's array program (the same arrays)."""
        return TwinProgram(
            basal_mg_per_day=self.it_mg_per_day,
            flex=self.flex,
            bolus_mg=self.bolus_mg,
            lockout_min=self.lockout_min,
            max_per_24h=self.max_boluses_per_day,
        )

    def daily_it_mg(self) -> Array:
        """Intrathecal drug per day if every allowed bolus is used, mg/day (the pump's rule,
        `TwinProgram.daily_mg`)."""
        return self.pump_program().daily_mg()

    def check(self) -> None:
        """Refuse (ValueError) a therapy with negative doses or a flex shape not averaging 1."""
        for name in ("oral_mg_per_day", "oral_rescue_mg", "it_mg_per_day", "bolus_mg",
                     "lockout_min"):
            values = getattr(self, name)
            if values.shape != (self.n,) or np.any(values < 0) or not np.all(np.isfinite(values)):
                raise ValueError(f"therapy {name} must be finite, >= 0 and one per patient")
        if self.flex.shape != (self.n, HOURS) or np.any(self.flex < 0):
            raise ValueError("flex must be (n, 24) non-negative multipliers")
        if not np.allclose(self.flex.mean(axis=1), 1.0, atol=1e-9):
            raise ValueError("flex multipliers must average 1 over the day")
        if np.any(self.max_boluses_per_day < 0):
            raise ValueError("max boluses per day must be >= 0")
