"""Trial throughput: the vectorised engine against a straightforward per-patient solve_ivp one.

Prints ONE JSON line. Both run the same full model (virtual patient, pump rules, the
`it-standard` arm's logic) at 5-minute steps:
- fast: the trial engine on 10,000 patients x 180 days, batches on a local process pool
  (2 workers: this machine's cores);
- straightforward: a few patients one at a time (a cohort of one), with each 5-minute step of
  the pharmacokinetics integrated by scipy's solve_ivp (LSODA) instead of the exact matrix
  exponential; everything else is the same code.
Sizes can be lowered for a quick look: IDDS_BENCH_PATIENTS, IDDS_BENCH_DAYS.
Run: .venv/bin/python bench/bench_trial.py
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

import idds.physiology.model as model
from idds.drugs import load_library
from idds.physiology import Cohort, sample_cohort
from idds.physiology.pk import Propagator, input_matrix, rate_matrix
from idds.trial import ARMS, LocalExecutor, TrialConfig, TrialSettings, run_trial, simulate_batch

ARM = "it-standard"


@dataclass(frozen=True)
class IvpPropagator:
    """Stands in for the exact propagator: carries the ODE system of one patient."""

    dt_min: float
    a: np.ndarray
    b: np.ndarray


def ivp_advance(x: np.ndarray, prop: Propagator | IvpPropagator, delivered: np.ndarray) -> (
    np.ndarray
):
    """One step of dx/dt = A x + B u with u constant over the step, by solve_ivp."""
    assert isinstance(prop, IvpPropagator)
    u = delivered[:, 0] / prop.dt_min
    a, b = prop.a, prop.b
    sol = solve_ivp(lambda _t, z: a @ z + b @ u, (0.0, prop.dt_min), x[:, 0], method="LSODA",
                    rtol=1e-8, atol=1e-10)
    out: np.ndarray = np.maximum(sol.y[:, -1:], 0.0)
    return out


def straightforward(patients: int, days: int) -> float:
    """Patient-days per second of the per-patient solve_ivp implementation."""
    library = load_library()
    arm = ARMS[ARM]
    settings = TrialSettings(days=days)
    original = model.advance
    model.advance = ivp_advance  # type: ignore[assignment]
    try:
        start = time.perf_counter()
        for index in range(patients):
            cohort: Cohort = sample_cohort(indices=[index], seed=0)
            pk = cohort.pk[0]
            ivp = (IvpPropagator(settings.dt_min, rate_matrix(pk)[0], input_matrix(1)[0]),)
            cohort._cache[float(settings.dt_min)] = ivp  # type: ignore[assignment]
            simulate_batch(cohort, [arm], library, settings)
        elapsed = time.perf_counter() - start
    finally:
        model.advance = original
    return patients * (days + 1) / elapsed


def fast(patients: int, days: int, workers: int) -> tuple[float, float]:
    """Patient-days per second of the vectorised engine, and the elapsed seconds."""
    config = TrialConfig(patients=patients, days=days, arms=(ARM,), seed=0,
                         batch_size=max(1, patients // workers))
    start = time.perf_counter()
    run_trial(config, LocalExecutor(workers))
    elapsed = time.perf_counter() - start
    return patients * (days + 1) / elapsed, elapsed


def main() -> None:
    patients = int(os.environ.get("IDDS_BENCH_PATIENTS", "10000"))
    days = int(os.environ.get("IDDS_BENCH_DAYS", "180"))
    workers = int(os.environ.get("IDDS_BENCH_WORKERS", str(os.cpu_count() or 1)))
    slow_patients, slow_days = 3, 2
    slow = straightforward(slow_patients, slow_days)
    quick, elapsed = fast(patients, days, workers)
    print(json.dumps({
        "benchmark": "trial",
        "arm": ARM,
        "step_min": 5,
        "fast": {"patients": patients, "days": days, "workers": workers,
                 "seconds": round(elapsed, 1), "patient_days_per_second": round(quick)},
        "straightforward_solve_ivp": {"patients": slow_patients, "days": slow_days,
                                      "patient_days_per_second": round(slow, 2)},
        "ratio": round(quick / slow),
        "note": "patient-days include the shared run-in day",
    }))


if __name__ == "__main__":
    main()
