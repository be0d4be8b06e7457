"""Property tests: no sequence of observations and recommendations makes the supervisor pass a
recommendation beyond any limit (library, per-day and per-week change, monitoring window, stale
diary, interlock, latched alarm), and nothing it changes goes without a reason."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from idds.control.bounds import ClinicianBounds, LibraryLimits
from idds.control.prescription import HOURS, Prescription
from idds.control.reasons import Reason
from idds.control.recommendation import Recommendation
from idds.control.supervisor import SupervisorState, reset_alarm, supervise
from idds.drugs import load_library
from tests.control.helpers import observations

N = 3
EPS = 1e-6
LIBRARY = LibraryLimits.from_drug(load_library().drug("morphine"))
BOUNDS = ClinicianBounds(min_daily_mg=0.96, min_rate_mg_per_day=0.96)

maybe = st.one_of(st.none(), st.floats(0, 10))
reading = st.fixed_dictionaries({
    "diary": st.one_of(st.none(), st.floats(0, 10)),
    "entries": st.integers(0, 9),
    "since": st.sampled_from([0.0, 1.0, 2.0, 5.0, math.inf]),
    "sedation": st.one_of(st.none(), st.sampled_from([1.0, 2.0, 3.0, 4.0])),
    "rr": st.one_of(st.none(), st.floats(5, 20)),
})
proposal = st.fixed_dictionaries({
    "factor": st.one_of(st.floats(0, 3), st.sampled_from([1.0, 1.2, 1.2000001, 0.7])),
    "absolute": st.one_of(st.none(), st.floats(0, 40)),
    "bolus": st.floats(0, 1.5),
    "maxb": st.integers(0, 12),
    "lockout": st.floats(0, 300),
    "flex_peak": st.one_of(st.none(), st.floats(0, 4)),
    "flex_hour": st.integers(0, 23),
    "broken": st.booleans(),
})


def _flex(peak: float | None, hour: int) -> np.ndarray:
    f = np.ones(HOURS)
    if peak is not None:
        f[hour] = peak
        f = f / f.mean()
    return f


class SupervisorMachine(RuleBasedStateMachine):
    @initialize(start=st.lists(st.floats(1.0, 14.0), min_size=N, max_size=N))
    def begin(self, start: list[float]) -> None:
        it = np.array(start)
        self.cur = Prescription(
            oral_mg_per_day=np.zeros(N), oral_rescue_mg=np.zeros(N), it_mg_per_day=it,
            flex=np.ones((N, HOURS)), bolus_mg=np.minimum(0.1 * it, 0.5),
            lockout_min=np.full(N, 120.0),
            max_boluses_per_day=np.full(N, 2, dtype=np.int64))
        self.day = 0
        self.state = SupervisorState.start(self.cur, day=0)
        self.last_increase = np.zeros(N)
        self.applied: list[np.ndarray] = [it.copy()] * 7
        self.latched = np.zeros(N, dtype=bool)
        self.cap = np.full(N, np.inf)

    @rule(mask=st.lists(st.booleans(), min_size=N, max_size=N))
    def clinician_reset(self, mask: list[bool]) -> None:
        m = np.array(mask)
        self.state = reset_alarm(self.state, m)
        self.latched &= ~m
        self.cap = np.where(m, np.inf, self.cap)

    @rule(r=st.lists(reading, min_size=N, max_size=N),
          p=st.lists(proposal, min_size=N, max_size=N), skip=st.integers(1, 4))
    def decide(self, r: list[dict[str, object]], p: list[dict[str, object]], skip: int) -> None:
        self.day += skip
        obs = observations(
            n=N, day=self.day,
            diary_mean_nrs=[x["diary"] for x in r], diary_entries=[x["entries"] for x in r],
            days_since_diary=[x["since"] for x in r],
            sedation_max=[np.nan if x["sedation"] is None else x["sedation"] for x in r],
            respiratory_rate_min=[np.nan if x["rr"] is None else x["rr"] for x in r],
        )
        cur = self.cur
        basal = np.array([
            float(x["absolute"]) if x["absolute"] is not None  # type: ignore[arg-type]
            else float(cur.it_mg_per_day[i]) * float(x["factor"])  # type: ignore[arg-type]
            for i, x in enumerate(p)])
        flex = np.stack([_flex(x["flex_peak"], int(x["flex_hour"])) for x in p])  # type: ignore
        basal = np.where([bool(x["broken"]) and i == 0 for i, x in enumerate(p)], np.nan, basal)
        rec_t = cur.with_(
            it_mg_per_day=basal, flex=flex,
            bolus_mg=np.array([x["bolus"] for x in p], dtype=float),
            lockout_min=np.array([x["lockout"] for x in p], dtype=float),
            max_boluses_per_day=np.array([x["maxb"] for x in p], dtype=np.int64))
        rec = Recommendation(rec_t, np.full(N, Reason.HOLD_CONTROLLED, dtype=np.int64),
                             np.full(N, np.nan))
        decision, self.state = supervise(self.state, obs, cur, rec, BOUNDS, LIBRARY)
        out = decision.therapy
        out.check()

        # Independent model of the interlock and the latch.
        sed, rr = obs.sedation_max, obs.respiratory_rate_min
        with np.errstate(invalid="ignore"):
            critical = (sed >= 4) | (rr < 8)
            warnings = (np.isnan(sed) | ((sed >= 3) & (sed < 4))).astype(int) + (
                np.isnan(rr) | ((rr < 10) & (rr >= 8)))
        alarm = critical | (warnings >= 2)
        fraction = np.where(critical, 0.0, 0.5)
        self.cap = np.where(alarm, np.minimum(self.cap, cur.it_mg_per_day * fraction), self.cap)
        self.cap = np.where(self.cap < BOUNDS.min_rate_mg_per_day, 0.0, self.cap)
        self.latched |= alarm
        stale = (np.isnan(obs.diary_mean_nrs) | (obs.days_since_diary > 1)
                 | (obs.diary_entries < 3))

        b_old, b_new = cur.it_mg_per_day, out.it_mg_per_day
        allow_old = cur.bolus_mg * cur.max_boluses_per_day
        allow_new = out.bolus_mg * out.max_boluses_per_day
        up = (b_new > b_old * (1 + EPS)) | (allow_new > allow_old * (1 + EPS) + 1e-9)
        week_ref = np.min(np.stack(self.applied[-7:]), axis=0)
        for i in range(N):
            # Absolute limits: library (soft, not allowed) and the clinician's.
            assert b_new[i] <= 15.0 + EPS
            assert out.bolus_mg[i] <= 0.5 + EPS
            assert out.max_boluses_per_day[i] <= BOUNDS.max_boluses_per_day
            assert b_new[i] + allow_new[i] <= 15.0 + 1e-6
            assert out.bolus_mg[i] == 0 or out.lockout_min[i] >= BOUNDS.min_lockout_min - EPS
            if up[i]:
                assert not stale[i], "increase on stale diary"
                assert warnings[i] == 0 and not alarm[i], "increase with an interlock warning"
                assert not self.latched[i], "increase while latched"
                assert (self.day - self.last_increase[i]) * 24 >= 72 - EPS, "monitoring window"
                assert b_old[i] > 0, "restart without a clinician"
                assert b_new[i] <= b_old[i] * 1.2 * (1 + EPS), "per-change step"
                assert b_new[i] <= max(week_ref[i] * 1.5, b_old[i]) * (1 + EPS), "per week"
            if self.latched[i]:
                assert b_new[i] <= self.cap[i] + EPS
                assert out.bolus_mg[i] == 0
            if b_new[i] > 0:
                assert out.flex[i].max() <= BOUNDS.max_flex + EPS
                assert (b_new[i] * out.flex[i]).min() >= BOUNDS.min_rate_mg_per_day - 1e-6 or \
                    self.latched[i]
            # Never silently: a delivered program other than the recommendation has a reason.
            same = (np.isclose(b_new[i], rec_t.it_mg_per_day[i], rtol=1e-9, atol=0)
                    and np.allclose(out.flex[i], rec_t.flex[i], rtol=1e-9, atol=1e-12)
                    and np.isclose(out.bolus_mg[i], rec_t.bolus_mg[i], rtol=1e-9, atol=0)
                    and out.max_boluses_per_day[i] == rec_t.max_boluses_per_day[i]
                    and np.isclose(out.lockout_min[i], rec_t.lockout_min[i]))
            if not same:
                assert decision.checks[i] != 0, decision.text(i)
        self.last_increase = np.where(up, float(self.day), self.last_increase)
        self.applied.append(b_new.copy())
        self.cur = out

    @invariant()
    def flex_is_a_shape(self) -> None:
        if hasattr(self, "cur"):
            assert np.allclose(self.cur.flex.mean(axis=1), 1.0)


SupervisorMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
TestSupervisorProperties = SupervisorMachine.TestCase
