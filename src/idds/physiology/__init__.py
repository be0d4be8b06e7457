"""Virtual cancer-pain patients: PK, PD, pain, behaviour and cohorts (research software).

Public API for the trial engine (see docs/physiology.md):

- `sample_cohort(n, seed, archetype_name, drugs=...)`, `typical_cohort(...)` -> `Cohort`
- `initial_state(cohort, t0_min, on_prior_regimen)` -> `CohortState`
- `step(state, cohort, deliveries, dt_min)` -> `(CohortState, StepOutputs)`, with
  `Delivery(drug, gut_mg, plasma_mg, csf_mg)` (mg during the step per patient)
- `start_radiotherapy(state, cohort, mask)`
- `symptoms.advance`, `symptoms.grades`: symptoms over a day, graded 0-4 (CTCAE)
- `simulate_patient(...)` single-patient readable wrapper.
"""

from idds.physiology.archetypes import ARCHETYPES, DEFAULT_ARCHETYPE, Archetype, archetype
from idds.physiology.cohort import Cohort, sample_cohort, typical_cohort
from idds.physiology.errors import (
    PhysiologyError,
    UnknownArchetypeError,
    UnknownDrugError,
    UnknownRouteError,
)
from idds.physiology.model import (
    CohortState,
    Delivery,
    StepOutputs,
    initial_state,
    start_radiotherapy,
    step,
)
from idds.physiology.parameters import DRUGS, drug_pk
from idds.physiology.patient import ROUTES, Regimen, simulate_patient

__all__ = [
    "ARCHETYPES",
    "DEFAULT_ARCHETYPE",
    "DRUGS",
    "ROUTES",
    "Archetype",
    "Cohort",
    "CohortState",
    "Delivery",
    "PhysiologyError",
    "Regimen",
    "StepOutputs",
    "UnknownArchetypeError",
    "UnknownDrugError",
    "UnknownRouteError",
    "archetype",
    "drug_pk",
    "initial_state",
    "sample_cohort",
    "simulate_patient",
    "start_radiotherapy",
    "step",
    "typical_cohort",
]
