"""One patient followed day by day under several arms (the seed article's case, for the demo).

The patient is the typical patient of an archetype (no inter-individual variability), run
through the same engine as a cohort of one, so the story and the trial use one model.
"""

from __future__ import annotations

from dataclasses import dataclass

from idds.drugs import DrugLibrary
from idds.physiology import archetype, typical_cohort
from idds.trial.engine import TrialSettings, simulate_batch
from idds.trial.registry import ARMS


@dataclass(frozen=True)
class CaseDay:
    """One day of one arm for the followed patient (day 0 = the run-in on the prior regimen)."""

    day: int
    oral_mg: float
    it_mg: float
    pain_mean: float
    controlled_percent: float
    toxicity: float
    sedation_max: int
    respiratory_rate_min: float
    presses: int
    given: int


@dataclass(frozen=True)
class Case:
    archetype: str
    description: str
    prior_oral_mg_per_day: float
    days: dict[str, list[CaseDay]]


def follow(archetype_name: str, arms: tuple[str, ...], days: int, library: DrugLibrary,
           dt_min: float = 5.0) -> Case:
    """Run the archetype's typical patient under each arm for `days` days."""
    cohort = typical_cohort(archetype_name)
    runs = simulate_batch(cohort, [ARMS[a] for a in arms], library,
                          TrialSettings(days=days, dt_min=dt_min))
    out: dict[str, list[CaseDay]] = {}
    for run in runs:
        h, b = run.history, run.baseline
        rows = [CaseDay(0, float(b["oral_mg"][0]), 0.0, float(b["pain_mean"][0]),
                        100 * float(b["controlled_fraction"][0]), float(b["toxicity_mean"][0]),
                        int(b["sedation_max"][0]), float(b["respiratory_rate_min"][0]), 0, 0)]
        for d in range(days):
            rows.append(CaseDay(
                d + 1, float(h["oral_mg"][d, 0]), float(h["it_mg"][d, 0]),
                float(h["pain_mean"][d, 0]), 100 * float(h["controlled_fraction"][d, 0]),
                float(h["toxicity_mean"][d, 0]), int(h["sedation_max"][d, 0]),
                float(h["respiratory_rate_min"][d, 0]), int(h["presses"][d, 0]),
                int(h["given"][d, 0]),
            ))
        out[run.arm] = rows
    arch = archetype(archetype_name)
    return Case(archetype_name, arch.description,
                float(cohort.prior_oral_morphine_mg_per_day[0]), out)
