"""Benchmark: 10,000 virtual patients x one simulated day at 5-minute steps.

Prints one JSON line: patients, steps, seconds (stepping with `step`, the fast form; cohort
sampling and the one-off matrix exponentials are reported separately as setup), patient-days
per second, and, measured in the same run on the same cohort, `reference_step_seconds` (the
readable form `reference_step`) and the ratio. Each timing is the best of `repeats` days
(the machine is shared: the best run is the least disturbed one).
Each step carries a continuous IT morphine infusion (1.5 mg/day) for every patient.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence

import numpy as np

from idds.physiology import Cohort, CohortState, Delivery, initial_state, sample_cohort
from idds.physiology.model import StepOutputs, reference_step, step

Stepper = Callable[
    [CohortState, Cohort, Sequence[Delivery], float], tuple[CohortState, StepOutputs]
]


def _one_day(fn: Stepper, cohort: Cohort, infusion: list[Delivery], dt_min: float) -> float:
    state = initial_state(cohort)
    t0 = time.perf_counter()
    for _ in range(round(1440 / dt_min)):
        state, _out = fn(state, cohort, infusion, dt_min)
    return time.perf_counter() - t0


def main(n: int = 10_000, dt_min: float = 5.0, repeats: int = 3) -> None:
    steps = round(1440 / dt_min)
    t0 = time.perf_counter()
    cohort = sample_cohort(n, seed=1)
    initial_state(cohort)
    step(initial_state(cohort), cohort, [], dt_min)  # propagators and step constants
    setup = time.perf_counter() - t0
    infusion = [Delivery("morphine", csf_mg=np.full(n, 1.5 * dt_min / 1440))]
    fast, ref = [], []
    for _ in range(repeats):  # interleaved, so both see the same machine load
        fast.append(_one_day(step, cohort, infusion, dt_min))
        ref.append(_one_day(reference_step, cohort, infusion, dt_min))
    seconds, ref_seconds = min(fast), min(ref)
    print(
        json.dumps(
            {
                "benchmark": "cohort_step",
                "patients": n,
                "steps": steps,
                "dt_min": dt_min,
                "seconds": round(seconds, 4),
                "setup_seconds": round(setup, 4),
                "patient_days_per_second": round(n * steps * dt_min / 1440 / seconds, 1),
                "reference_step_seconds": round(ref_seconds, 4),
                "speedup_vs_reference_step": round(ref_seconds / seconds, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
