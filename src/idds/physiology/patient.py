"""A readable single-patient wrapper over the vectorised model (used by `idds patient`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from idds.physiology.archetypes import DEFAULT_ARCHETYPE
from idds.physiology.cohort import sample_cohort, typical_cohort
from idds.physiology.errors import PhysiologyError, UnknownRouteError
from idds.physiology.exposure import site_exposure
from idds.physiology.model import Delivery, initial_state, step
from idds.physiology.parameters import drug_pk
from idds.physiology.symptoms import (
    Care,
    IntervalExposure,
    Symptom,
    SymptomState,
    advance,
    composite,
    grades,
)

#: Symptom series of `simulate_patient` (intensity 0-10 each step).
SERIES_SYMPTOMS = (Symptom.NAUSEA, Symptom.VOMITING, Symptom.SOMNOLENCE, Symptom.CONFUSION,
                   Symptom.CONSTIPATION, Symptom.PRURITUS, Symptom.URINARY_RETENTION)

#: Route names and their aliases -> input column (gut, plasma, lumbar CSF).
ROUTES: dict[str, str] = {
    "oral": "gut",
    "po": "gut",
    "iv": "plasma",
    "intravenous": "plasma",
    "intrathecal": "csf",
    "it": "csf",
}


@dataclass(frozen=True)
class Regimen:
    """One drug by one route: a bolus at time 0 (mg) or a constant rate (mg/min), not both."""

    drug: str
    route: str
    bolus_mg: float | None = None
    rate_mg_per_min: float | None = None

    def validate(self) -> str:
        """The input column for the route; raises PhysiologyError on bad input."""
        pk = drug_pk(self.drug)
        site = ROUTES.get(self.route.lower())
        if site is None:
            raise UnknownRouteError(f"unknown route {self.route!r}; known: oral, iv, intrathecal")
        if site == "gut" and pk.oral_bioavailability <= 0:
            raise UnknownRouteError(f"{pk.name} has no oral route")
        if (self.bolus_mg is None) == (self.rate_mg_per_min is None):
            raise PhysiologyError("give exactly one of a bolus or a rate")
        amount = self.bolus_mg if self.bolus_mg is not None else self.rate_mg_per_min
        if amount is None or not np.isfinite(amount) or amount < 0:
            raise PhysiologyError("dose must be a finite, non-negative amount")
        return site


def simulate_patient(
    regimen: Regimen,
    hours: float,
    archetype_name: str = DEFAULT_ARCHETYPE,
    seed: int | None = None,
    dt_min: float = 1.0,
    on_prior_regimen: bool = False,
) -> dict[str, list[float]]:
    """Simulate one patient for `hours` hours given one drug by one route.

    on_prior_regimen False: from a drug-free start (prior regimen stopped); True: from steady
    state on the archetype's prior oral morphine, still taken (continuously) throughout, with
    the symptoms adapted to it. seed None: the typical patient of the archetype; otherwise
    patient 0 of a cohort with that seed. Returns time series (lists, one value per step end)
    keyed with units in the names.
    Symptoms (0-10 intensities) are evaluated over each step from the step's exposures, with
    their adaptation carried from step to step; `toxicity_composite` is the sum of the CTCAE
    grades of that step's symptoms.
    """
    site = regimen.validate()
    if not (np.isfinite(hours) and hours > 0):
        raise PhysiologyError(f"hours must be positive, got {hours}")
    drug = drug_pk(regimen.drug).name
    if seed is None:
        cohort = typical_cohort(archetype_name, drugs=(drug,))
    else:
        cohort = sample_cohort(1, seed, archetype_name, drugs=(drug,))
    cohort = cohort.with_oral_rescue(0.0)
    d = cohort.drug_index(drug)
    state = initial_state(cohort, on_prior_regimen=on_prior_regimen)
    regular_mg = float(cohort.prior_oral_morphine_mg_per_day[0]) * dt_min / 1440.0 \
        if on_prior_regimen else 0.0
    n_steps = max(1, round(hours * 60.0 / dt_min))
    series: dict[str, list[float]] = {
        k: []
        for k in (
            "time_min",
            "csf_ng_per_ml",
            "plasma_ng_per_ml",
            "analgesia",
            "pain_nrs",
            "respiratory_rate_per_min",
            "sedation_poss",
            *(sym.label for sym in SERIES_SYMPTOMS),
            "toxicity_composite",
            "withdrawal",
        )
    }
    start = site_exposure(state.pk, cohort.drug_params, cohort.pk)
    symptoms = SymptomState.adapted_to(start.supraspinal, start.spinal)
    care = Care.usual(1)
    for i in range(n_steps):
        if regimen.bolus_mg is not None:
            amount = regimen.bolus_mg if i == 0 else 0.0
        else:
            amount = float(regimen.rate_mg_per_min or 0.0) * dt_min
        deliveries = [Delivery(drug, **{f"{site}_mg": amount})]
        if regular_mg:
            deliveries.append(Delivery("morphine", gut_mg=regular_mg))
        state, out = step(state, cohort, deliveries, dt_min)
        e = out.effects
        x = out.exposure
        exposure = IntervalExposure(
            supraspinal=x.supraspinal, spinal=x.spinal, plasma=x.plasma, gut_mg=x.gut_mg,
            sedation=e.sedation, respiratory_rate_min=e.respiratory_rate_per_min,
            woken_night=np.zeros(1),
        )
        symptoms, felt = advance(symptoms, exposure, cohort.sensitivity, cohort.symptoms, care,
                                 dt_min)
        grade = grades(felt, e.respiratory_rate_per_min)
        values = {
            "time_min": out.t_min,
            "csf_ng_per_ml": out.csf_ng_per_ml[d, 0],
            "plasma_ng_per_ml": out.plasma_ng_per_ml[d, 0],
            "analgesia": e.analgesia[0],
            "pain_nrs": out.pain_nrs[0],
            "respiratory_rate_per_min": e.respiratory_rate_per_min[0],
            "sedation_poss": e.sedation_poss[0],
            **{sym.label: felt.intensity[sym, 0] for sym in SERIES_SYMPTOMS},
            "toxicity_composite": composite(grade)[0],
            "withdrawal": e.withdrawal[0],
        }
        for k, v in values.items():
            series[k].append(float(v))
    return series
