"""Stateful property test: random programming, boluses, presses, refills, faults, power losses
and time advances; the pump's safety invariants are checked after every step.

CI runs ~200 examples; IDDS_LONG=1 runs thousands.
"""

from __future__ import annotations

import os
from fractions import Fraction

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from idds.pump import (
    Continuous,
    DemandBolus,
    Drug,
    Flex,
    FlexStep,
    HardwareSpec,
    MinimumRate,
    Pump,
    Refusal,
    Stopped,
    Therapy,
    interrogate,
    power_loss,
)
from idds.pump.clock import DAY
from idds.pump.rules import FLOW_ERROR_BOUND
from idds.units import Quantity

LONG = os.environ.get("IDDS_LONG") == "1"
STROKE = 10_000  # 10 uL strokes keep the test fast; the rules do not depend on the size
SPEC = HardwareSpec(stroke_nl=STROKE, stall_hazard_per_day=0.1, eri_at_s=Fraction(20 * DAY))
CONCENTRATIONS = ("10 mg/mL", "20 mg/mL")
DOSES = ("0.5 mg/day", "1 mg/day", "2 mg/day", "4 mg/day", "100 mg/day", "0.001 mg/day")


def q(text: str) -> Quantity:
    value, unit = text.split(" ", 1)
    return Quantity.of(value, unit)


def fingerprint(pump: Pump) -> tuple[object, ...]:
    s = pump.state
    return (s.therapy, s.drug, s.confirmed, s.bolus, s.alarms, s.stalled, s.eos, s.eri,
            s.lockout_until, s.low_reservoir_nl, s.dead_volume_nl)


class PumpMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.pump = Pump.implant(SPEC, seed=0)
        self.given: list[tuple[Fraction, Fraction, int]] = []  # (time, lockout s, max/24 h)
        self.bolus_mass: list[tuple[Fraction, Fraction]] = []  # (start, commanded ng)
        self.basal_rates: list[tuple[Fraction, Fraction]] = [(Fraction(0), Fraction(0))]
        self.samples: list[tuple[Fraction, Fraction]] = [(Fraction(0), Fraction(0))]
        self.before: tuple[object, ...] = fingerprint(self.pump)
        self.log_len = len(self.pump.log)

    # ------------------------------------------------------------- helpers
    def _changed_means_logged(self) -> None:
        after = fingerprint(self.pump)
        if after != self.before:
            assert len(self.pump.log) > self.log_len, "a state change was not logged"
        self.before, self.log_len = after, len(self.pump.log)

    def _record_basal(self) -> None:
        s = self.pump.state
        conc = self.pump.concentration
        basal = s.therapy.basal
        rate = Fraction(0)
        if isinstance(basal, Continuous):
            rate = basal.dose_rate.value_in("mg/day") * 1_000_000 / DAY
        elif isinstance(basal, Flex):
            rate = max(st_.dose_rate.value_in("mg/day") for d in basal.days
                       for st_ in d) * 1_000_000 / DAY
        elif isinstance(basal, MinimumRate):
            rate = self.pump.limits.min_flow * conc
        self.basal_rates.append((self.pump.now, rate))

    # ------------------------------------------------------------- rules
    @rule(dt=st.one_of(st.integers(1, 600), st.integers(600, 18 * 3600)))
    def advance(self, dt: int) -> None:
        pump = self.pump
        # stopped, stalled, critical alarm (empty, EOS, memory) or physically empty: nothing
        # can restart delivery without a command, so nothing may be delivered
        idle = (not pump.can_infuse() or pump.flow() == 0 or pump.hardware.reservoir_nl == 0)
        pumped = pump.hardware.pumped_nl
        pump.advance(pump.now + dt)
        if idle:
            assert pump.hardware.pumped_nl == pumped, "delivered while it should not"
        self.samples.append((pump.now, pump.hardware.pumped_ng))

    @rule(dose=st.sampled_from(DOSES), with_demand=st.booleans(),
          lockout=st.sampled_from(("10 min", "1 h", "4 h")), max_per=st.integers(1, 6),
          flex=st.booleans())
    def program(self, dose: str, with_demand: bool, lockout: str, max_per: int,
                flex: bool) -> None:
        demand = (DemandBolus(q("0.1 mg"), q("10 min"), q(lockout), max_per)
                  if with_demand else None)
        basal = (Flex(((FlexStep(0, q(dose)), FlexStep(480, q("1 mg/day"))),)) if flex
                 else Continuous(q(dose)))
        try:
            self.pump.set_therapy(Therapy(basal, demand))
        except Refusal:
            return
        self._record_basal()

    @rule(kind=st.sampled_from(("stop", "minimum")))
    def other_mode(self, kind: str) -> None:
        basal = Stopped() if kind == "stop" else MinimumRate()
        try:
            self.pump.set_therapy(Therapy(basal, self.pump.state.therapy.demand))
        except Refusal:
            return
        self._record_basal()

    @rule()
    def press(self) -> None:
        pump = self.pump
        try:
            run = pump.patient_bolus()
        except Refusal:
            return
        demand = pump.state.therapy.demand
        assert demand is not None
        lockout = demand.lockout.value_in("min") * 60
        if self.given:
            assert pump.now - self.given[-1][0] >= lockout, "bolus inside the lockout"
        self.given.append((pump.now, lockout, demand.max_per_24h))
        recent = [g for g in self.given if g[0] > pump.now - DAY]
        assert len(recent) <= demand.max_per_24h, "too many boluses in 24 h"
        self.bolus_mass.append((pump.now, run.mass_ng))

    @rule(dose=st.sampled_from(("0.1 mg", "0.5 mg", "20 mg")),
          minutes=st.sampled_from((1, 10, 60)))
    def clinician_bolus(self, dose: str, minutes: int) -> None:
        try:
            run = self.pump.clinician_bolus(q(dose), Quantity.of(minutes, "min"))
        except Refusal:
            return
        self.bolus_mass.append((self.pump.now, run.mass_ng))

    @rule(kind=st.sampled_from(("priming", "bridge")))
    def special_bolus(self, kind: str) -> None:
        try:
            run = (self.pump.priming_bolus() if kind == "priming" else self.pump.bridge_bolus())
        except Refusal:
            return
        self.bolus_mass.append((self.pump.now, run.mass_ng))

    @rule(fill=st.sampled_from(("2 mL", "5 mL", "20 mL")), conc=st.sampled_from(CONCENTRATIONS),
          wrong=st.booleans())
    def refill(self, fill: str, conc: str, wrong: bool) -> None:
        entered = q("20 mL") if wrong else q(fill)
        try:
            self.pump.refill(q(fill), Drug("morphine", q(conc)), entered)
        except Refusal:
            return

    @rule(critical=st.booleans())
    def memory_error(self, critical: bool) -> None:
        self.pump.inject_memory_error(critical)

    @rule()
    def clear_memory(self) -> None:
        try:
            self.pump.clear_memory_error()
        except Refusal:
            return

    @rule()
    def mri(self) -> None:
        try:
            self.pump.mri_exposure()
        except Refusal:
            return

    @rule()
    def interrogate(self) -> None:
        interrogate(self.pump)

    @precondition(lambda self: bool(self.pump.state.alarms))
    @rule(data=st.data())
    def acknowledge(self, data: st.DataObject) -> None:
        alarm = data.draw(st.sampled_from(self.pump.state.alarms))
        self.pump.acknowledge(alarm.kind)
        assert self.pump.alarm_active(alarm.kind)

    @rule()
    def power_loss(self) -> None:
        self.pump = power_loss(self.pump)

    # ------------------------------------------------------------- invariants
    @invariant()
    def conserved_and_logged(self) -> None:
        pump, hw = self.pump, self.pump.hardware
        assert hw.balanced(), "drug not conserved"
        assert hw.reservoir_nl >= 0 and pump.state.estimate_nl >= 0
        assert all(v > 0 for v, _ in hw.catheter)
        if pump.critical_alarm() is not None:
            assert pump.state.bolus is None
        assert pump.log.verify().ok
        self._changed_means_logged()

    @invariant()
    def rolling_24h_bound(self) -> None:
        now, total = self.samples[-1]
        start_t, start_m = next((t, m) for t, m in self.samples if t >= now - DAY)
        span = now - start_t
        if span == 0:
            return
        active = [r for t, r in self.basal_rates if t <= start_t][-1:]
        active += [r for t, r in self.basal_rates if start_t < t <= now]
        allowed = max(active) * span
        allowed += sum(m for t, m in self.bolus_mass if start_t - DAY <= t <= now)
        margin = 2 * STROKE * 20 * (1 + FLOW_ERROR_BOUND)  # two strokes at 20 mg/mL
        assert total - start_m <= allowed * (1 + Fraction(FLOW_ERROR_BOUND)) + margin, (
            "delivered more than program + boluses + error bound")


PumpMachine.TestCase.settings = settings(
    max_examples=3000 if LONG else 200,
    stateful_step_count=40 if LONG else 25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestPumpMachine = PumpMachine.TestCase
