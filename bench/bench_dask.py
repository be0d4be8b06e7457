"""Scale-out on Dask: the same trial on a local Dask cluster (loopback) of 1, 2 and 4 worker
processes, one thread each, against the same trial in this process.

Prints one JSON line per layout and a summary line: wall time (the cluster started before the
clock), the speed-up over one Dask worker, the overhead per batch (one Dask worker against the
same batches run in this process, over the batch count), and whether every metric of every
arm is identical to the in-process run (the cohort and every random stream are drawn per
patient from the seed, so the layout cannot change a number).
Sizes: IDDS_BENCH_PATIENTS (default 4000), IDDS_BENCH_DAYS (30), IDDS_BENCH_BATCH (250).
Run: OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/bench_dask.py
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from distributed import LocalCluster

from idds.trial import DaskExecutor, LocalExecutor, TrialConfig, run_trial

ARMS = ("it-standard",)
LAYOUTS = (1, 2, 4)


def _metrics(result: Any) -> dict[str, Any]:
    return {name: arm.metrics for name, arm in result.arms.items()}


def main() -> None:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # the workers inherit it
    patients = int(os.environ.get("IDDS_BENCH_PATIENTS", "4000"))
    days = int(os.environ.get("IDDS_BENCH_DAYS", "30"))
    batch = int(os.environ.get("IDDS_BENCH_BATCH", "250"))
    config = TrialConfig(patients=patients, days=days, arms=ARMS, seed=0, batch_size=batch)
    batches = len(config.batches())
    start = time.perf_counter()
    reference = _metrics(run_trial(config, LocalExecutor(1)))
    in_process = time.perf_counter() - start
    print(json.dumps({"layout": "in this process", "seconds": round(in_process, 2),
                      "patient_days_per_s": round(patients * days / in_process)}))
    times = {}
    for workers in LAYOUTS:
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address=None) as cluster:
            start = time.perf_counter()
            result = run_trial(config, DaskExecutor(cluster.scheduler_address))
            times[workers] = time.perf_counter() - start
        same = _metrics(result) == reference
        print(json.dumps({"layout": f"dask, {workers} workers", "seconds": round(times[workers], 2),
                          "patient_days_per_s": round(patients * days / times[workers]),
                          "speed_up_over_1": round(times[1] / times[workers], 2),
                          "metrics_identical": same}))
    print(json.dumps({
        "patients": patients, "days": days, "batches": batches, "cpu_cores": os.cpu_count(),
        "overhead_per_batch_s": round((times[1] - in_process) / batches, 3),
        "speed_up_2_workers": round(times[1] / times[2], 2),
        "speed_up_4_workers": round(times[1] / times[4], 2),
    }))


if __name__ == "__main__":
    main()
