"""Benchmark: the readable virtual-patient step (`reference_step`) on each installed array
backend (`idds.physiology.backend`: numpy, and CuPy or JAX where installed), n patients x one
simulated day at 5-minute steps with an IT morphine infusion, in one run.

Prints one JSON line per backend: patients, seconds (best of `repeats` days; the day ends
with the state brought back to the host, so a GPU's queued work is counted), patient-days
per second, and the speed against numpy in the same run; a backend that is not installed is
printed as such. Sizes: IDDS_BENCH_PATIENTS (default 10,000; a GPU wants 10^5-10^6).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import numpy as np

from idds.physiology import Delivery, initial_state, sample_cohort
from idds.physiology.backend import BackendError, namespace, to_numpy
from idds.physiology.model import on_backend, reference_step


def one_day(xp: Any, n: int, dt_min: float) -> float:
    cohort = sample_cohort(n, seed=1)
    moved_cohort, state = on_backend(cohort, initial_state(cohort), dt_min, xp)
    infusion = [Delivery("morphine", csf_mg=xp.asarray(np.full(n, 1.5 * dt_min / 1440)))]
    state, _ = reference_step(state, moved_cohort, infusion, dt_min)  # warm-up (compiles)
    t0 = time.perf_counter()
    for _ in range(round(1440 / dt_min)):
        state, _ = reference_step(state, moved_cohort, infusion, dt_min)
    to_numpy(state)
    return time.perf_counter() - t0


def main(dt_min: float = 5.0, repeats: int = 2) -> None:
    n = int(os.environ.get("IDDS_BENCH_PATIENTS", "10000"))
    numpy_s = None
    for name in ("numpy", "cupy", "jax"):
        try:
            xp = namespace(name)
        except BackendError as exc:
            print(json.dumps({"backend": name, "installed": False, "why": str(exc)}))
            continue
        seconds = min(one_day(xp, n, dt_min) for _ in range(repeats))
        numpy_s = seconds if name == "numpy" else numpy_s
        print(json.dumps({"backend": name, "patients": n, "seconds": round(seconds, 3),
                          "patient_days_per_s": round(n / seconds, 1),
                          "speed_vs_numpy": round(numpy_s / seconds, 3) if numpy_s else None}))


if __name__ == "__main__":
    main()
