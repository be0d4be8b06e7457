"""The arm comparison (long: IDDS_LONG=1). Prints the table of docs/control.md and checks the
intelligent arm's claims on the default refractory cohort."""

from __future__ import annotations

import os

import pytest

from tests.control.comparison import compare, table

LONG = os.environ.get("IDDS_LONG") == "1"


@pytest.mark.skipif(not LONG, reason="long run: set IDDS_LONG=1")
def test_intelligent_against_standard() -> None:
    rows = {s.arm: s for s in compare(int(os.environ.get("IDDS_N", "200")), 90, 0)}
    print("\n" + table(list(rows.values())))
    std, smart = rows["it-standard"], rows["it-intelligent"]
    assert smart.controlled > std.controlled
    assert smart.respiratory_events <= std.respiratory_events
    assert smart.mg_per_relief <= std.mg_per_relief


def test_short_comparison_runs() -> None:
    """Smoke: every arm runs a few days on a handful of patients with the engine."""
    rows = compare(4, days=4, seed=1, rule_based=True)
    assert [r.arm for r in rows] == ["it-standard", "it-intelligent", "oracle", "it-rule-based"]
    assert all(0.0 <= r.controlled <= 1.0 for r in rows)
