"""Run the real `idds` command in a subprocess, as a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


def idds(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "idds", *args],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )


def idds_json(*args: str) -> Any:
    done = idds(*args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def assert_clean_refusal(done: subprocess.CompletedProcess[str], fragment: str) -> None:
    """Exit 2, one line on stderr naming the problem, no traceback."""
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in done.stderr
