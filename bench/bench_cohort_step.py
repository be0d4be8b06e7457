"""Benchmark: 10,000 virtual patients x one simulated day at 5-minute steps.

Prints one JSON line: patients, steps, seconds (stepping only; cohort sampling and the
one-off matrix exponentials are reported separately), patient-days per second.
Each step carries a continuous IT morphine infusion (1.5 mg/day) for every patient.
"""

from __future__ import annotations

import json
import time

import numpy as np

from idds.physiology import Delivery, initial_state, sample_cohort, step


def main(n: int = 10_000, dt_min: float = 5.0) -> None:
    steps = round(1440 / dt_min)
    t0 = time.perf_counter()
    cohort = sample_cohort(n, seed=1)
    state = initial_state(cohort)
    cohort.propagators(dt_min)
    setup = time.perf_counter() - t0
    infusion = [Delivery("morphine", csf_mg=np.full(n, 1.5 * dt_min / 1440))]
    t1 = time.perf_counter()
    for _ in range(steps):
        state, _out = step(state, cohort, infusion, dt_min)
    seconds = time.perf_counter() - t1
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
            }
        )
    )


if __name__ == "__main__":
    main()
