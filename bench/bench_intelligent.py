"""The trial benchmark with the intelligent arm: this tree against a reference commit, one run.

Issue 20 asks the trial with the intelligent arm to stay within 25% of its time before the
learning controller (5ddd0c6). Prints ONE JSON line: the whole `idds trial` command
(`--patients 1000 --days 60 --arms it-intelligent --workers 2 --batch-size 500 --seed 0`,
report written) timed as a fresh process for this working tree and for the reference commit
(checked out by `git worktree` into a temporary folder, run with `PYTHONPATH` at its `src`),
alternating, `IDDS_BENCH_ROUNDS` (4) times each after one untimed run each (numba's caches,
imports); the medians and their ratio. Needs the repository's git history.
Sizes: IDDS_BENCH_PATIENTS (1000), IDDS_BENCH_DAYS (60); reference: IDDS_BENCH_REF (5ddd0c6).
Run: .venv/bin/python bench/bench_intelligent.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def trial_seconds(src: Path, patients: int, days: int, out: Path) -> float:
    """Wall time of one `idds trial` with the intelligent arm, code from `src`."""
    env = {**os.environ, "PYTHONPATH": str(src), "OPENBLAS_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "idds", "trial", "--patients", str(patients),
               "--days", str(days), "--arms", "it-intelligent", "--workers", "2",
               "--batch-size", "500", "--seed", "0", "--out", str(out)]
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True, cwd=out.parent)
    return time.perf_counter() - start


def main() -> None:
    patients = int(os.environ.get("IDDS_BENCH_PATIENTS", "1000"))
    days = int(os.environ.get("IDDS_BENCH_DAYS", "60"))
    rounds = int(os.environ.get("IDDS_BENCH_ROUNDS", "4"))
    ref = os.environ.get("IDDS_BENCH_REF", "5ddd0c6")
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "ref"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree),
                        ref], check=True)
        try:
            codes = {"this": ROOT / "src", "reference": tree / "src"}
            times: dict[str, list[float]] = {name: [] for name in codes}
            for name, src in codes.items():
                trial_seconds(src, 50, 2, Path(tmp) / f"warm-{name}")
            for r in range(rounds):
                for name, src in codes.items():
                    times[name].append(trial_seconds(src, patients, days,
                                                     Path(tmp) / f"{name}-{r}"))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(tree)], check=False)
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(json.dumps({
        "benchmark": "intelligent-trial", "patients": patients, "days": days,
        "reference": ref, "seconds": {k: [round(v, 2) for v in vs] for k, vs in times.items()},
        "median_seconds": {k: round(v, 2) for k, v in medians.items()},
        "ratio": round(medians["this"] / medians["reference"], 3), "target": 1.25,
    }))


if __name__ == "__main__":
    main()
