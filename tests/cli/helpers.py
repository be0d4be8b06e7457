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


def assert_refused(code: int, stderr: str, fragment: str, context: object = None) -> None:
    """Exit status 2, one line on stderr naming the problem (`fragment`), no traceback.
    `context` (e.g. the argv) is shown when an assertion fails."""
    assert code == 2, (context, stderr)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], (context, stderr)
    assert "Traceback" not in stderr


def assert_clean_refusal(done: subprocess.CompletedProcess[str], fragment: str) -> None:
    """`assert_refused` for a finished `idds` process."""
    assert_refused(done.returncode, done.stderr, fragment, done.stdout)
