"""The physiological interlock: one test per path (after OpenICE, ref, devices)."""

from __future__ import annotations

import numpy as np

from idds.control.bounds import ClinicianBounds, InterlockLimits, LibraryLimits
from idds.control.interlock import Level, Signal, assess
from idds.control.reasons import Reason
from idds.control.recommendation import Recommendation
from idds.control.supervisor import Check, SupervisorState, Verdict, reset_alarm, supervise
from idds.drugs import load_library
from tests.control.helpers import observations, therapy

LIMITS = InterlockLimits()
LIBRARY = LibraryLimits.from_drug(load_library().drug("morphine"))


def level(**values: object) -> tuple[int, int]:
    r = assess(observations(**values), LIMITS)  # type: ignore[arg-type]
    return int(r.level[0]), int(r.signals[0])


def test_clear() -> None:
    assert level(sedation_max=2, respiratory_rate_min=14) == (Level.CLEAR, 0)


def test_one_warning() -> None:
    lv, sig = level(sedation_max=3, respiratory_rate_min=14)
    assert lv == Level.WARNING and sig == Signal.SEDATION_WARNING
    lv, sig = level(sedation_max=1, respiratory_rate_min=9.5)
    assert lv == Level.WARNING and sig == Signal.RESPIRATORY_WARNING


def test_two_warnings_make_an_alarm() -> None:
    lv, sig = level(sedation_max=3, respiratory_rate_min=9.5)
    assert lv == Level.ALARM
    assert sig == Signal.SEDATION_WARNING | Signal.RESPIRATORY_WARNING


def test_critical() -> None:
    assert level(sedation_max=4, respiratory_rate_min=14)[0] == Level.CRITICAL
    assert level(sedation_max=1, respiratory_rate_min=7.0)[0] == Level.CRITICAL


def test_missing_counts_as_warning() -> None:
    lv, sig = level(sedation_max=None, respiratory_rate_min=14)
    assert lv == Level.WARNING and sig == Signal.SEDATION_MISSING
    lv, sig = level(sedation_max=None, respiratory_rate_min=None)
    assert lv == Level.ALARM
    lv, _ = level(sedation_max=3, respiratory_rate_min=None)
    assert lv == Level.ALARM


def _up(t: object) -> Recommendation:
    from idds.control.prescription import Prescription

    assert isinstance(t, Prescription)
    return Recommendation(t.with_(it_mg_per_day=t.it_mg_per_day * 1.2),
                          np.array([Reason.INCREASE_UNCONTROLLED]), np.array([np.nan]))


def test_alarm_reduces_and_stays_latched_until_reset() -> None:
    bounds = ClinicianBounds()
    cur = therapy(it_mg=6.0)
    state = SupervisorState.start(cur, day=-10)
    alarm = observations(day=0, sedation_max=3, respiratory_rate_min=9.5)
    d, state = supervise(state, alarm, cur, _up(cur), bounds, LIBRARY)
    assert d.verdict[0] == Verdict.ALARM and d.checks[0] & Check.ALARM_NEW
    assert d.therapy.it_mg_per_day[0] == 3.0  # 50% (Pasero: reduce 25-50%)
    assert d.therapy.bolus_mg[0] == 0 and d.therapy.max_boluses_per_day[0] == 0
    assert d.needs_clinician[0]
    cur = d.therapy
    # Readings clear again for days: still latched, no increase, no bolus.
    for day in range(1, 8):
        calm = observations(day=day, diary_mean_nrs=6.0)
        d, state = supervise(state, calm, cur, _up(cur), bounds, LIBRARY)
        assert d.verdict[0] == Verdict.ALARM
        assert d.checks[0] & Check.ALARM_LATCHED
        assert d.therapy.it_mg_per_day[0] <= 3.0 and d.therapy.bolus_mg[0] == 0
        cur = d.therapy
    state = reset_alarm(state, np.array([True]))
    d, state = supervise(state, observations(day=8, diary_mean_nrs=6.0), cur, _up(cur), bounds,
                         LIBRARY)
    assert d.verdict[0] == Verdict.ACCEPTED
    assert np.isclose(d.therapy.it_mg_per_day[0], 3.6)


def test_critical_stops_delivery_and_restart_needs_clinician() -> None:
    bounds = ClinicianBounds()
    cur = therapy(it_mg=6.0)
    state = SupervisorState.start(cur, day=-10)
    d, state = supervise(state, observations(day=0, respiratory_rate_min=7.0), cur, _up(cur),
                         bounds, LIBRARY)
    assert d.therapy.it_mg_per_day[0] == 0.0 and d.verdict[0] == Verdict.ALARM
    state = reset_alarm(state, np.array([True]))
    cur = d.therapy
    d, state = supervise(state, observations(day=5), cur, _up(cur.with_(
        it_mg_per_day=np.array([2.0]))), bounds, LIBRARY)
    assert d.therapy.it_mg_per_day[0] == 0.0
    assert d.checks[0] & Check.RESTART and d.verdict[0] == Verdict.HELD_FOR_CLINICIAN
