"""The battery cost stated in docs/protocol.md ("Rate limiting") is what the budgets and the
pump's battery model give (bench/bench_link_battery.py computes it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_link_battery.py"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def test_stated_battery_cost_matches_the_budgets() -> None:
    done = subprocess.run([sys.executable, str(BENCH)], capture_output=True, text=True,
                          timeout=60, check=True)
    figures = json.loads(done.stdout)
    assert figures["tolerates_4_forged_per_s"] is True
    worst, spoof = figures["worst_case"], figures["spoof_4_per_s"]
    assert worst["frames_per_day"] == 1_742_490 and worst["joules_per_day"] == 52.275
    assert worst["life_days_per_day"] == 4.598
    assert spoof["frames_per_day"] == 360_010 and spoof["life_days_per_day"] == 0.95
    assert figures["per_window"]["frames"] == 30_000  # 60 s at the radio's 500 frames/s
    assert figures["version_1"]["frames_per_day"] == 187_250
    text = DOCS.read_text()
    for stated in ("1 742 490", "52.3 J/day", "4.6 days", "360 010", "0.95 days", "30 000"):
        assert stated in text, stated
