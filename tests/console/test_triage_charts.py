"""The dashboard's triage and the page charts as pure functions: who comes first and why,
and percentile bands that agree with numpy and are ordered."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from idds.console import charts
from idds.console.triage import Concern, flags_of, triage
from idds.store.overview import PatientOverview, Review

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _overview(pid: int, *, alarms: int = 0, due: date | None = None, pain: tuple[int, ...] = (),
              synced: timedelta | None = timedelta(hours=1), implant: bool = True,
              reviewed: datetime | None = None) -> PatientOverview:
    patient: Any = SimpleNamespace(id=pid, name=f"P{pid}", identifier=f"M{pid}")
    reading: Any = None if synced is None else SimpleNamespace(
        refill_due_on=due, read_at=NOW - synced)
    open_alarms: Any = tuple(SimpleNamespace(kind="low reservoir") for _ in range(alarms))
    return PatientOverview(
        patient, SimpleNamespace(id=pid) if implant else None,  # type: ignore[arg-type]
        reading if implant else None, open_alarms,
        tuple((NOW - timedelta(hours=h), p) for h, p in enumerate(pain)),
        None if reviewed is None else Review(reviewed, "nurse1"))


def test_concerns_come_in_triage_order() -> None:
    rows = [_overview(1), _overview(2, synced=timedelta(days=2)), _overview(3, pain=(6, 5, 4)),
            _overview(4, due=NOW.date() + timedelta(days=7)), _overview(5, alarms=1),
            _overview(6, due=NOW.date() + timedelta(days=8), pain=(3, 3, 3))]
    order = [(t.overview.patient.id, t.concern) for t in triage(rows, NOW)]
    assert order == [(5, Concern.ALARM), (4, Concern.REFILL_DUE),
                     (3, Concern.PAIN_UNCONTROLLED), (2, Concern.STALE_DATA),
                     (1, Concern.NONE), (6, Concern.NONE)]


def test_each_flag_says_why() -> None:
    t = flags_of(_overview(1, alarms=2, due=NOW.date(), pain=(4, 5),
                           synced=timedelta(days=2)), NOW)
    reasons = {f.concern: f.reason for f in t.flags}
    assert reasons[Concern.ALARM] == "2 alarm(s) not acknowledged: low reservoir"
    assert reasons[Concern.REFILL_DUE] == f"refill due {NOW.date().isoformat()} (0 days)"
    assert reasons[Concern.PAIN_UNCONTROLLED] == "pain NRS mean 4.5 over 2 diary entries"
    assert reasons[Concern.STALE_DATA] == "last sync 2026-12-01 12:00 UTC"
    never = flags_of(_overview(4, synced=None), NOW).flags
    assert [(f.concern, f.reason) for f in never] == [(Concern.STALE_DATA, "pump never synced")]
    assert t.mean_pain == 4.5
    assert flags_of(_overview(2, pain=(3, 3)), NOW).flags == ()  # NRS 3 is controlled
    assert flags_of(_overview(3, implant=False, synced=None), NOW).flags == ()


def test_within_a_concern_the_longest_unreviewed_comes_first() -> None:
    rows = [_overview(1, alarms=1, reviewed=NOW - timedelta(hours=1)),
            _overview(2, alarms=1, reviewed=NOW - timedelta(days=3)),
            _overview(3, alarms=1)]
    assert [t.overview.patient.id for t in triage(rows, NOW)] == [3, 2, 1]


@given(st.lists(st.lists(st.integers(0, 10), max_size=12), min_size=1, max_size=24))
def test_bands_match_numpy_and_are_ordered(bins: list[list[int]]) -> None:
    b = charts.bands(bins, [str(i) for i in range(len(bins))])
    for values, got in zip(bins, b.values, strict=True):
        if not values:
            assert got is None
            continue
        assert got is not None
        assert np.allclose(got, np.percentile(values, charts.PERCENTILES))
        assert list(got) == sorted(got) and got[0] >= 0 and got[-1] <= 10


def test_the_typical_day_bins_by_hour_and_the_svg_describes_itself() -> None:
    entries = [(NOW.replace(hour=8) - timedelta(days=d), 6 + d % 2) for d in range(14)]
    day = charts.by_hour(entries)
    assert day.counts[8] == 14 and sum(day.counts) == 14
    svg = charts.bands_svg(day, "Pain over a typical day")
    assert svg.startswith('<svg class="chart"') and 'role="img"' in svg
    assert "<title>Pain over a typical day</title>" in svg
    assert "14 entries in 1 of 24 bins; median NRS from 6.5 to 6.5" in svg
    assert "no diary entries yet" in charts.bands_svg(charts.by_hour([]), "Pain")
    weeks = charts.by_week(entries)
    assert sum(weeks.counts) == 14 and len(weeks.labels) in (2, 3)
