"""Shifting every time by a constant changes no decision: the controllers and the supervisor
depend on elapsed days (since the last increase, the last diary entry, the previous decision),
never on the calendar.

One day is special by contract, not by calendar: `Observations.day` counts from the start of
the record (day 0), and a window then holds min(day + 1, window_days) days (the trial's
`history.observe` and the advisory mode build them so; `idds.control.daily` recovers the single
days from that). The same arrays observed on day 0 and on day 1000 are therefore not the same
observations for the intelligent controller's windowed fields: its scenarios start once the
window is full. The supervisor and the rule-based controller read no window length and are
compared from day 0 itself. The oracle is left out: it reads the virtual patients' disease
progression, which runs from the trial's day 0 by design (evaluation only)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from idds.control.bounds import ClinicianBounds, LibraryLimits
from idds.control.controller import Controller
from idds.control.loop import LoopState, closed_loop_step
from idds.control.observations import Observations
from idds.control.reasons import Reason
from idds.control.recommendation import Recommendation
from idds.control.registry import build_controller, settings_for
from idds.control.supervisor import SupervisorState, reset_alarm, supervise
from idds.drugs import load_library
from tests.control.helpers import observations, therapy

MORPHINE = load_library().drug("morphine")
LIBRARY = LibraryLimits.from_drug(MORPHINE)
BOUNDS = ClinicianBounds(min_daily_mg=0.96, min_rate_mg_per_day=0.96)
N = 5
DAYS = 24


def scenario(k: int, day: int) -> Observations:
    """Day k of a scenario (observed on calendar `day`): pain falling on some patients and
    rising on others, a diary gap, presses at 18:00, an alarm on days 9-10."""
    by_hour = np.zeros(24)
    by_hour[18] = min(k + 1, 7) * 2.0
    alarm = k in (9, 10)
    return observations(
        n=N, day=day,
        diary_mean_nrs=[6.0 - 0.2 * k, 3.0, 4.0 + 0.1 * k, None if 5 <= k <= 7 else 5.0, 2.0],
        diary_entries=[9, 9, 9, 0 if 5 <= k <= 7 else 9, 9],
        days_since_diary=[0, 0, 0, k - 4 if 5 <= k <= 7 else 0, 0],
        presses_per_day=[2.0, 0.0, 3.0, 1.0, 0.0],
        refused_per_day=[0.5, 0.0, 1.0, 0.0, 0.0],
        presses_by_hour=by_hour,
        sedation_max=[1, 1, 2, 1, 4 if alarm else 1],
        respiratory_rate_min=[15, 14, 12, 15, 7.5 if alarm else 15],
        side_effect_burden=[1, 2, 3, 1, 1],
    )


def run(ctl: Controller[Any], start: int) -> list[tuple[Any, ...]]:
    cur = therapy(n=N, it_mg=[2.0, 4.0, 6.0, 3.0, 5.0], oral_mg=60.0)
    loop = LoopState(ctl.initial(cur), SupervisorState.start(cur, day=start - 1))
    out = []
    for k in range(DAYS):
        if k == 13:  # a clinician resets the latched alarm
            loop = LoopState(loop.controller, reset_alarm(loop.supervisor, np.ones(N, bool)))
        step, loop = closed_loop_step(ctl, loop, scenario(k, start + k), cur, BOUNDS, LIBRARY)
        rec, decision = step.recommendation, step.decision
        out.append((rec.therapy.it_mg_per_day.tobytes(), rec.therapy.flex.tobytes(),
                    rec.therapy.max_boluses_per_day.tobytes(), rec.reasons.tobytes(),
                    rec.predicted_nrs.tobytes(), decision.therapy.it_mg_per_day.tobytes(),
                    decision.therapy.bolus_mg.tobytes(), decision.checks.tobytes(),
                    decision.verdict.tobytes()))
        cur = decision.therapy
    return out


@pytest.mark.parametrize(("name", "start"), [
    ("intelligent", 2), ("intelligent", 10), ("rule-based", 0), ("rule-based", 10)])
@pytest.mark.parametrize("shift", [365, 1000])
def test_the_same_scenario_later_gives_the_same_decisions(name: str, start: int,
                                                          shift: int) -> None:
    """Recommendations, reasons, predictions, delivered therapy, checks and verdicts."""
    ctl = build_controller(name, settings_for(MORPHINE, BOUNDS))
    base = run(ctl, start)
    assert len({row[3] for row in base}) > 1 and len({row[7] for row in base}) > 1  # eventful
    assert base == run(ctl, start + shift)


def test_the_supervisor_alone_from_day_0_and_day_1000() -> None:
    """Fixed recommendations (+30% every day: the step, the window, the week, the alarm and
    the clinician's bounds all act), supervised from day 0 and from day 1000."""
    outs = []
    for start in (0, 1000):
        cur = therapy(n=N, it_mg=[2.0, 4.0, 6.0, 3.0, 5.0])
        state = SupervisorState.start(cur, day=start - 1)
        rows = []
        for k in range(DAYS):
            rec = Recommendation(cur.with_(it_mg_per_day=cur.it_mg_per_day * 1.3),
                                 np.full(N, Reason.INCREASE_UNCONTROLLED), np.full(N, np.nan))
            decision, state = supervise(state, scenario(k, start + k), cur, rec, BOUNDS,
                                        LIBRARY)
            rows.append((decision.therapy.it_mg_per_day.tobytes(), decision.checks.tobytes(),
                         decision.verdict.tobytes(), (state.last_increase_day - start).tobytes(),
                         state.latched.tobytes(), state.alarm_cap_mg.tobytes()))
            cur = decision.therapy
        outs.append(rows)
    assert len({row[1] for row in outs[0]}) > 3
    assert outs[0] == outs[1]
