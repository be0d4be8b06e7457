"""The arm comparison (long: IDDS_LONG=1). Prints the table of docs/control.md and checks the
intelligent arm's claims on the default refractory cohort."""

from __future__ import annotations

import os

import pytest

from tests.control.comparison import Summary, compare, table

LONG = os.environ.get("IDDS_LONG") == "1"


@pytest.fixture(scope="module")
def arms() -> dict[str, Summary]:
    rows = {s.arm: s for s in compare(int(os.environ.get("IDDS_N", "200")), 90, 0)}
    print("\n" + table(list(rows.values())))
    return rows


@pytest.mark.skipif(not LONG, reason="long run: set IDDS_LONG=1")
def test_intelligent_against_standard(arms: dict[str, Summary]) -> None:
    std, smart = arms["it-standard"], arms["it-intelligent"]
    assert smart.controlled > std.controlled
    assert smart.respiratory_events <= std.respiratory_events


@pytest.mark.skipif(not LONG, reason="long run: set IDDS_LONG=1")
@pytest.mark.xfail(strict=True, reason="issue 20, not met: more IT mg per NRS-point-day of "
                   "relief than it-standard (2.89 against 2.78 on 200 patients, seed 0); "
                   "more relief costs more drug per point, the oracle's too")
def test_intelligent_no_more_drug_per_relief(arms: dict[str, Summary]) -> None:
    assert arms["it-intelligent"].mg_per_relief <= arms["it-standard"].mg_per_relief


def test_short_comparison_runs() -> None:
    """Smoke: every arm runs a few days on a handful of patients with the engine."""
    rows = compare(4, days=4, seed=1, rule_based=True)
    assert [r.arm for r in rows] == ["it-standard", "it-intelligent", "oracle", "it-rule-based"]
    assert all(0.0 <= r.controlled <= 1.0 for r in rows)
