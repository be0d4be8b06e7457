"""The repository stands alone: nothing in its code, docs, examples or tests points at files a
reader of the repository does not have (the team's reference notes); sources are cited through
docs/references.md ("ref, devices" and the like)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = re.compile(r"\.\./shared|\b(?:pharmacology|devices|security|workflow|DESIGN)\.md\b")
#: Signed data whose text cannot change without the project's signing key (not in the
#: repository): its three source notes still name a reference file; re-signing is tracked.
SIGNED = {"src/idds/drugs/data/library.toml"}


def test_nothing_points_outside_the_repository() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    hits = []
    for name in tracked:
        if name in SIGNED or name == "tests/architecture/test_stands_alone.py":
            continue
        path = ROOT / name
        if path.suffix not in {".py", ".md", ".toml", ".txt", ".html", ".json", ".cfg"}:
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                hits.append(f"{name}:{number}")
    assert hits == []
