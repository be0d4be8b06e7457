"""A trial of a million patients: time and peak memory of the whole `idds trial` command.

Runs the real CLI (`idds trial --arms it-standard --workers W --json`, report, PDF and CSV
written) in a subprocess and samples, every 0.2 s, the resident memory of it and its worker
processes (psutil); prints ONE JSON line: patients, days, workers, seconds, patient-days per
second, the peak of the summed resident memory of the process tree and of the main process
alone. Batches come back as per-patient outcomes and sums (`idds.trial.summary`), and the
daily histories of only the first --histories patients (10,000) are kept, so memory grows
with the patients' outcomes (about 500 bytes each per arm), not with their days.
Sizes: IDDS_BENCH_PATIENTS (default 1,000,000), IDDS_BENCH_DAYS (7), IDDS_BENCH_WORKERS
(this machine's cores), IDDS_BENCH_BATCH (5000).
Run: OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/bench_scale.py
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time

import psutil

MIB = 1024 * 1024


def _tree_rss(process: psutil.Process) -> tuple[int, int]:
    """Resident bytes of the process and its descendants together, and of the process."""
    try:
        own = process.memory_info().rss
        children = process.children(recursive=True)
    except psutil.NoSuchProcess:
        return 0, 0
    total = own
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):  # a worker that just ended
            total += child.memory_info().rss
    return total, own


def main() -> None:
    patients = int(os.environ.get("IDDS_BENCH_PATIENTS", "1000000"))
    days = int(os.environ.get("IDDS_BENCH_DAYS", "7"))
    workers = int(os.environ.get("IDDS_BENCH_WORKERS", str(os.cpu_count() or 1)))
    batch = int(os.environ.get("IDDS_BENCH_BATCH", "5000"))
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as out:
        argv = [sys.executable, "-m", "idds", "trial", "--arms", "it-standard",
                "--patients", str(patients), "--days", str(days), "--workers", str(workers),
                "--batch-size", str(batch), "--seed", "0", "--out", out, "--json"]
        start = time.perf_counter()
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        watched = psutil.Process(child.pid)
        peak_tree = peak_main = 0
        while child.poll() is None:
            tree, own = _tree_rss(watched)
            peak_tree, peak_main = max(peak_tree, tree), max(peak_main, own)
            time.sleep(0.2)
        stdout, stderr = child.communicate()
        elapsed = time.perf_counter() - start
    if child.returncode != 0:
        raise SystemExit(f"idds trial failed ({child.returncode}): {stderr.decode()[-2000:]}")
    metrics = json.loads(stdout)
    rate = metrics["arms"]["it-standard"]["metrics"]["respiratory_events_per_100_patient_days"]
    print(json.dumps({
        "benchmark": "scale",
        "patients": patients, "days": days, "workers": workers, "batch_size": batch,
        "seconds": round(elapsed, 1),
        "patient_days_per_second": round(patients * (days + 1) / elapsed),
        "peak_rss_mib_all_processes": round(peak_tree / MIB),
        "peak_rss_mib_main_process": round(peak_main / MIB),
        "histories_kept": metrics["histories_kept"],
        "respiratory_events_per_100_patient_days": rate,
        "note": "patient-days include the shared run-in day; the whole command: sampling the "
                "cohort, the arm, metrics, report.html, report.pdf and patient_days.csv",
    }))


if __name__ == "__main__":
    main()
