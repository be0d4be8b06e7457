"""One patient followed day by day under several arms (the seed article's case, for the demo).

The patient is the typical patient of an archetype (no inter-individual variability), run
through the same engine as a cohort of one, so the story and the trial use one model. Each
day shows what the seed case tells: pain, sleep, appetite, drowsiness and constipation, and
the spinal side effects an implant may bring.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from idds.drugs import DrugLibrary
from idds.physiology import archetype, typical_cohort
from idds.physiology.symptoms import Item, Symptom
from idds.trial.batch import simulate_batch
from idds.trial.engine import TrialSettings
from idds.trial.registry import arm


@dataclass(frozen=True)
class CaseDay:
    """One day of one arm for the followed patient (day 0 = the run-in on the prior regimen).

    Doses in mg that day; pain NRS 0-10 (mean); slept: the night was not woken by pain;
    appetite, drowsiness, fatigue: inventory items 0-10 (lack of appetite, drowsiness,
    fatigue); grades: CTCAE grade of constipation, nausea, pruritus and urinary retention;
    toxicity: composite (sum of the ten grades)."""

    day: int
    oral_mg: float
    it_mg: float
    pain_mean: float
    slept: bool
    lack_of_appetite: float
    drowsiness: float
    fatigue: float
    constipation_grade: int
    nausea_grade: int
    pruritus_grade: int
    urinary_retention_grade: int
    toxicity: float
    respiratory_rate_min: float
    presses: int
    given: int
    #: Every treatment-related symptom's CTCAE grade, in `Symptom` order.
    symptom_grades: tuple[int, ...] = ()


@dataclass(frozen=True)
class Case:
    archetype: str
    description: str
    prior_oral_mg_per_day: float
    days: dict[str, list[CaseDay]]


def _day(day: int, row: dict[str, NDArray[np.float64]], grades: NDArray[np.int8],
         items: NDArray[np.float64]) -> CaseDay:
    return CaseDay(
        day=day, oral_mg=float(row["oral_mg"][0]), it_mg=float(row["it_mg"][0]),
        pain_mean=float(row["pain_mean"][0]), slept=bool(row["woken_night"][0] == 0),
        lack_of_appetite=float(items[Item.LACK_OF_APPETITE, 0]),
        drowsiness=float(items[Item.DROWSINESS, 0]), fatigue=float(items[Item.FATIGUE, 0]),
        constipation_grade=int(grades[Symptom.CONSTIPATION, 0]),
        nausea_grade=int(grades[Symptom.NAUSEA, 0]),
        pruritus_grade=int(grades[Symptom.PRURITUS, 0]),
        urinary_retention_grade=int(grades[Symptom.URINARY_RETENTION, 0]),
        toxicity=float(row["toxicity_composite"][0]),
        respiratory_rate_min=float(row["respiratory_rate_min"][0]),
        presses=int(row["presses"][0]), given=int(row["given"][0]),
        symptom_grades=tuple(int(grades[symptom, 0]) for symptom in Symptom),
    )


def follow(archetype_name: str, arms: tuple[str, ...], days: int, library: DrugLibrary,
           dt_min: float = 5.0) -> Case:
    """Run the archetype's typical patient under each arm for `days` days."""
    cohort = typical_cohort(archetype_name)
    runs = simulate_batch(cohort, [arm(a) for a in arms], library,
                    TrialSettings(days=days, dt_min=dt_min))
    out: dict[str, list[CaseDay]] = {}
    for run in runs:
        b = run.baseline
        rows = [_day(0, b.row, b.grades, b.inventory)]
        for d in range(days):
            row = {k: v[d].astype(np.float64) for k, v in run.history.items()}
            rows.append(_day(d + 1, row, run.grades[d], run.inventory[d].astype(np.float64)))
        out[run.arm] = rows
    arch = archetype(archetype_name)
    return Case(archetype_name, arch.description,
                float(cohort.prior_oral_morphine_mg_per_day[0]), out)


def story(case: Case, oral_arm: str = "cmm", pump_arm: str = "it-standard") -> list[str]:
    """The case in plain sentences: the last week on each arm, and the spinal side effects
    after the implant (how many days, and when they faded)."""
    oral, pump = case.days[oral_arm][1:], case.days[pump_arm][1:]
    week = slice(max(0, len(oral) - 7), len(oral))

    def mean(rows: list[CaseDay], name: str) -> float:
        return float(np.mean([getattr(r, name) for r in rows[week]]))

    def nights(rows: list[CaseDay]) -> str:
        return f"{sum(r.slept for r in rows[week])} of {len(rows[week])} nights"

    base = case.days[oral_arm][0]
    lines = [
        f"Before: pain {base.pain_mean:.1f}, woken by pain at night, drowsiness "
        f"{base.drowsiness:.1f}/10, constipation grade {base.constipation_grade}, lack of "
        f"appetite {base.lack_of_appetite:.1f}/10 on {case.prior_oral_mg_per_day:g} mg/day "
        "oral morphine.",
    ]
    for label, rows in (("Escalating oral morphine", oral), ("On the pump", pump)):
        lines.append(
            f"{label}, last week: pain {mean(rows, 'pain_mean'):.1f}, slept "
            f"{nights(rows)}, drowsiness {mean(rows, 'drowsiness'):.1f}/10, constipation "
            f"grade {mean(rows, 'constipation_grade'):.1f}, lack of appetite "
            f"{mean(rows, 'lack_of_appetite'):.1f}/10, oral {mean(rows, 'oral_mg'):.0f} mg/day, "
            f"IT {mean(rows, 'it_mg'):.2f} mg/day.")
    spinal = [r.day for r in pump if r.pruritus_grade > 0 or r.urinary_retention_grade > 0]
    if spinal:
        lines.append(f"Spinal side effects after the implant (itch or urinary retention) on "
                     f"{len(spinal)} days, the last on day {spinal[-1]}: they fade on a steady "
                     "dose.")
    else:
        lines.append("No spinal side effects (itch, urinary retention) after the implant.")
    return lines
