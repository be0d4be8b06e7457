"""The arm comparison of docs/control.md: it-standard vs it-intelligent vs oracle (vs the
rule-based closed loop, optional) on the default refractory cohort, same patients and seed.

    IDDS_LONG=1 .venv/bin/pytest tests/control/test_comparison.py -s        # 200 patients
    .venv/bin/python -m tests.control.comparison 300 90 0                    # n, days, seed
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from idds.drugs import load_library
from idds.physiology import sample_cohort
from idds.trial.arms import Arm, StandardIntrathecal
from idds.trial.batch import simulate_batch
from idds.trial.controlled_arms import IntelligentArm, OracleArm, RuleBasedArm
from idds.trial.engine import ArmRun, TrialSettings


@dataclass(frozen=True)
class Summary:
    """Per arm: mean share of the day with pain NRS <= 3; mean pain; respiratory depression
    event onsets (total) and patients with any; mean IT morphine delivered, mg/day; IT mg per
    NRS-point-day of relief below the run-in baseline; clinic visits per patient."""

    arm: str
    controlled: float
    pain: float
    respiratory_events: int
    patients_with_event: int
    it_mg_per_day: float
    mg_per_relief: float
    visits: float
    toxicity: float


def summarise(run: ArmRun) -> Summary:
    h = run.history  # NaN after death: every sum and mean is over the days alive
    relief = float(np.nansum(run.baseline.row["pain_mean"][None, :] - h["pain_mean"]))
    events = np.nansum(h["respiratory_events"], axis=0)
    return Summary(
        arm=run.arm,
        controlled=float(np.nanmean(h["controlled_fraction"])),
        pain=float(np.nanmean(h["pain_mean"])),
        respiratory_events=int(events.sum()),
        patients_with_event=int((events > 0).sum()),
        it_mg_per_day=float(np.nanmean(h["it_mg"])),
        mg_per_relief=float(np.nansum(h["it_mg"])) / relief if relief > 0 else float("nan"),
        visits=float(run.visits.mean()),
        toxicity=float(np.nanmean(h["toxicity_composite"])),
    )


def compare(n: int, days: int = 90, seed: int = 0, rule_based: bool = False) -> list[Summary]:
    arms: list[Arm] = [StandardIntrathecal(), IntelligentArm(), OracleArm()]
    if rule_based:
        arms.append(RuleBasedArm())
    runs = simulate_batch(sample_cohort(n, seed), arms, load_library(), TrialSettings(days=days))
    return [summarise(r) for r in runs]


def table(rows: list[Summary]) -> str:
    head = ("| arm | time controlled (NRS<=3) | mean NRS | resp. events (patients) | "
            "IT mg/day | IT mg per NRS-day relief | tox | visits/patient |")
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    for s in rows:
        lines.append(
            f"| {s.arm} | {s.controlled:.3f} | {s.pain:.2f} | {s.respiratory_events} "
            f"({s.patients_with_event}) | {s.it_mg_per_day:.2f} | {s.mg_per_relief:.3f} | "
            f"{s.toxicity:.2f} | {s.visits:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    n, days, seed = (args + [200, 90, 0][len(args):])[:3]
    print(table(compare(n, days, seed, rule_based=True)))
    np.set_printoptions(precision=3)
