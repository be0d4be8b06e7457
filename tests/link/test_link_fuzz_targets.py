"""The atheris targets run (a short smoke run here; `make test` runs 100,000 inputs each
through fuzz/run_fuzz.py, and IDDS_FUZZ_LONG=1 a long run)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris", reason="atheris comes with the fuzz extra (make test installs it)")

ROOT = Path(__file__).resolve().parents[2]


def test_every_fuzz_target_runs_clean() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "fuzz" / "run_fuzz.py")],
                          capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "IDDS_FUZZ_RUNS": "1500", "IDDS_FUZZ_LONG": ""})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for target in ("frame", "messages"):
        assert f"fuzz {target}: 1500 inputs" in done.stdout
