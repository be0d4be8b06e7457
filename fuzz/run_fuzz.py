"""Run the atheris targets: 100,000 inputs each for `make test`, or long with IDDS_FUZZ_LONG=1.

    python fuzz/run_fuzz.py                      # CI: each target, -runs=100000, -seed=1
    IDDS_FUZZ_LONG=1 python fuzz/run_fuzz.py     # long: IDDS_FUZZ_SECONDS (default 3600) each,
                                                 # corpus kept in fuzz/corpus/<target>/
    IDDS_FUZZ_RUNS=N python fuzz/run_fuzz.py     # another count (a smoke test uses a small N)

The CI run starts from the committed seeds (fuzz/seeds/<target>/) in a temporary corpus, so it
writes nothing into the repository, and is deterministic (-seed=1). It prints, per target,
the inputs run, the seconds, inputs per second and libFuzzer's coverage counters (cov: edges,
ft: features) at the end, and exits 1 with the fuzzer's output tail if a target crashed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: target name -> (script, longest input in bytes)
TARGETS = {"frame": ("fuzz_frame.py", 2200), "messages": ("fuzz_messages.py", 2100)}
CI_RUNS = 100_000
DONE = re.compile(r"#(\d+)\s+DONE\s+cov: (\d+) ft: (\d+)")


def _run(name: str, script: str, max_len: int, corpus: Path, flags: list[str]) -> float:
    command = [sys.executable, str(HERE / script), str(corpus), str(HERE / "seeds" / name),
               f"-max_len={max_len}", "-timeout=10", "-rss_limit_mb=2048",
               "-print_final_stats=1", *flags]
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - start
    output = done.stdout + done.stderr
    final = DONE.findall(output)
    if done.returncode != 0 or not final:
        print(f"fuzz {name}: FAILED (exit {done.returncode})\n" + output[-6000:])
        raise SystemExit(1)
    runs, cov, ft = (int(x) for x in final[-1])
    print(f"fuzz {name}: {runs} inputs in {seconds:.1f} s ({runs / seconds:.0f}/s), "
          f"cov {cov} ft {ft} ({' '.join(command[1:2] + flags)})", flush=True)
    return seconds


def main() -> None:
    long_run = os.environ.get("IDDS_FUZZ_LONG") == "1"
    runs = int(os.environ.get("IDDS_FUZZ_RUNS", CI_RUNS))
    total = 0.0
    for name, (script, max_len) in TARGETS.items():
        if long_run:
            corpus = HERE / "corpus" / name
            corpus.mkdir(parents=True, exist_ok=True)
            seconds = os.environ.get("IDDS_FUZZ_SECONDS", "3600")
            total += _run(name, script, max_len, corpus, [f"-max_total_time={seconds}"])
            continue
        with tempfile.TemporaryDirectory(prefix=f"idds-fuzz-{name}-") as folder:
            corpus = Path(folder) / "corpus"
            corpus.mkdir()
            total += _run(name, script, max_len, corpus, [f"-runs={runs}", "-seed=1"])
            shutil.rmtree(corpus, ignore_errors=True)
    print(f"fuzz: all targets done in {total:.1f} s")


if __name__ == "__main__":
    main()
