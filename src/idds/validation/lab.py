"""The simulations behind the calibration targets, each run once and shared (`Lab`).

Every experiment is a fixed protocol on seeded virtual patients, never a trial's comparison
of arms: single doses in typical patients, cohorts at steady state on their prior regimen,
cohorts started on a fixed dose, and the standard intrathecal arm for the figures the
reference reports from standard care after an implant (Brogan 2020).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from idds.control import Observations
from idds.control.prescription import Prescription
from idds.drugs import DrugLibrary, load_library
from idds.physiology import Regimen, sample_cohort, simulate_patient
from idds.physiology.cohort import Cohort, steady_state_states
from idds.physiology.pk import plasma_ng_per_ml
from idds.trial.arms import Arm, ArmContext, Decision, Reason, StandardIntrathecal
from idds.trial.engine import ArmRun, Baseline, TrialSettings, run_arm, run_in

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Series:
    """One patient's time series after a dose (steps of dt_min from time 0)."""

    t_min: Array
    csf: Array
    plasma: Array
    analgesia: Array
    respiratory_rate: Array
    sedation_poss: Array


def single_dose(archetype: str, route: str, dose_mg: float, hours: float, dt_min: float = 1.0,
                on_prior_regimen: bool = False) -> Series:
    """The typical patient of an archetype after one morphine dose at time 0 (no rescue), by
    `simulate_patient`.

    route: "oral", "iv" or "intrathecal". on_prior_regimen: start at steady state of the prior
    oral regimen and keep taking it (tolerant patients); else drug-free."""
    s = simulate_patient(Regimen("morphine", route, bolus_mg=dose_mg), hours, archetype,
                         dt_min=dt_min, on_prior_regimen=on_prior_regimen)
    return Series(*(np.array(s[k]) for k in (
        "time_min", "csf_ng_per_ml", "plasma_ng_per_ml", "analgesia",
        "respiratory_rate_per_min", "sedation_poss")))


@dataclass(frozen=True)
class FixedRegimen:
    """A fixed dose from day 0, unchanged, no rescue, no patient bolus: oral morphine around
    the clock and / or intrathecal morphine by the pump, mg/day."""

    oral_mg_per_day: float = 0.0
    it_mg_per_day: float = 0.0
    name: str = "fixed-regimen"

    @property
    def uses_pump(self) -> bool:
        return self.it_mg_per_day > 0

    def start(self, context: ArmContext) -> Prescription:
        n = context.prior_oral_mg_per_day.shape[0]
        return Prescription.oral(np.full(n, self.oral_mg_per_day), np.zeros(n)).with_(
            it_mg_per_day=np.full(n, self.it_mg_per_day))

    def decide(self, obs: Observations, therapy: Prescription, context: ArmContext,
               memory: object = None) -> Decision:
        return Decision(therapy, np.zeros(therapy.n, dtype=bool),
                        np.full(therapy.n, Reason.NO_VISIT, dtype=np.int64))


@dataclass(frozen=True)
class FixedIntrathecal(StandardIntrathecal):
    """`it-standard`'s implant, start dose and systemic taper, without titration visits: the
    starting dose (prior oral / the library's start ratio) held for the whole run."""

    name: str = "fixed-intrathecal"

    def decide(self, obs: Observations, therapy: Prescription, context: ArmContext,
               memory: object = None) -> Decision:
        keep = memory if isinstance(memory, np.ndarray) else None
        therapy, keep, reasons = self.tapered(obs, therapy, context, keep)
        return Decision(therapy, np.zeros(therapy.n, dtype=bool), reasons, keep)


@dataclass
class Lab:
    """Seeded experiments, computed when first asked for. `patients` sizes the cohorts."""

    patients: int = 1000
    seed: int = 2026
    library: DrugLibrary = field(default_factory=load_library)

    def _run(self, cohort: Cohort, arm: Arm, days: int) -> ArmRun:
        settings = TrialSettings(days=days)
        start, baseline = run_in(cohort, settings)
        return run_arm(cohort, start, baseline, arm, self.library, settings)

    @cached_property
    def tolerant(self) -> Cohort:
        return sample_cohort(self.patients, seed=self.seed)

    @cached_property
    def baseline(self) -> Baseline:
        """The refractory cohort's run-in day on its stable prior oral regimen."""
        return run_in(self.tolerant, TrialSettings(days=1))[1]

    @cached_property
    def naive(self) -> Cohort:
        return sample_cohort(self.patients, seed=self.seed, archetype_name="opioid-naive")

    @cached_property
    def naive_oral_start(self) -> ArmRun:
        """Opioid-naive patients starting 60 mg/day oral morphine (sustained release q12h),
        for 14 days: a usual strong-opioid start (10 mg every 4 h)."""
        return self._run(self.naive, FixedRegimen(oral_mg_per_day=60.0), 14)

    @cached_property
    def naive_intrathecal_start(self) -> ArmRun:
        """Opioid-naive patients starting 0.5 mg/day IT morphine (label start for the naive:
        0.2-1 mg/day), held for 28 days."""
        return self._run(self.naive, FixedRegimen(it_mg_per_day=0.5), 28)

    @cached_property
    def fixed_intrathecal(self) -> ArmRun:
        """The refractory cohort on its starting intrathecal dose for 28 days."""
        return self._run(self.tolerant, FixedIntrathecal(), 28)

    @cached_property
    def standard_care(self) -> ArmRun:
        """The refractory cohort under `it-standard` for 56 days (Brogan 2020's follow-up)."""
        return self._run(self.tolerant, StandardIntrathecal(), 56)

    def steady_plasma(self, oral_mg_per_day: float, it_mg_per_day: float) -> Array:
        """Steady-state plasma morphine of the refractory cohort at fixed doses, ng/mL."""
        c = self.tolerant
        x = steady_state_states(c.drugs, c.pk, c.sensitivity,
                                {"morphine": (oral_mg_per_day, 0.0, it_mg_per_day)})
        out: Array = plasma_ng_per_ml(x[0], c.pk[0])
        return out
