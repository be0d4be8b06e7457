"""Helpers of the store tests: the start time, a cheap hasher, actors."""

from __future__ import annotations

from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST

from idds.drugs import DrugLibrary
from idds.programmer import (
    PumpStatus,
    RefillChange,
    RefillRequest,
    TherapyPlan,
    TherapyRequest,
    plan_refill_change,
    plan_therapy,
)
from idds.pump import Continuous, DemandBolus, Therapy
from idds.store.clock import FakeClock
from idds.store.permissions import Actor, UserRole
from idds.units import Quantity, parse_quantity

START = datetime(2026, 3, 2, 9, 30, 0, 123456, tzinfo=UTC)
#: argon2id at its cheapest, so the tests do not spend seconds hashing.
CHEAP = PasswordHasher.from_parameters(CHEAPEST)


def actor(role: UserRole, clock: FakeClock | None = None, name: str = "",
          patient_id: int | None = None) -> Actor:
    """An actor of `role`, freshly authenticated at the clock's time when given one."""
    return Actor(name or f"{role.value}1", role, patient_id,
                 None if clock is None else clock())


def q(text: str) -> Quantity:
    return parse_quantity(text)


def pump_status(therapy: Therapy | None = None, reservoir: str = "15 mL") -> PumpStatus:
    """A morphine 10 mg/mL pump as an interrogation would show it."""
    running = therapy or Therapy(Continuous(q("1 mg/day")))
    return PumpStatus(
        pump_id="P-1", time="0", drug="morphine", concentration=q("10 mg/mL"), therapy=running,
        therapy_text=running.describe(), therapy_drug="morphine", confirmed=True,
        infusing=True, flow="0.1 mL/day", dose_rate="1 mg/day", bolus=None,
        reservoir_estimate=q(reservoir), reservoir_capacity=q("20 mL"),
        low_reservoir_alarm=q("2 mL"), pumped_since_fill=q("5 mL"), refill_due_in_days=None,
        battery="ok", battery_eri_in_days=1000.0, radio_wakeups=0, alarms=(), last_events=(),
        log_head="0" * 64, log_length=0, raw={})


def therapy_plan(library: DrugLibrary, dose: str = "1.2 mg/day",
                 override: str | None = None) -> TherapyPlan:
    """A checked plan raising morphine from 1 mg/day to `dose`, with a patient bolus."""
    therapy = Therapy(Continuous(q(dose)), DemandBolus(q("0.1 mg"), q("10 min"), q("2 h"), 4))
    request = TherapyRequest("morphine", q("10 mg/mL"), therapy, override_reason=override)
    plan = plan_therapy(pump_status(), request, library, START.date())
    return plan.with_override_confirmed() if plan.checks.soft else plan


def refill_change(library: DrugLibrary, withdrawn: str = "14.6 mL") -> RefillChange:
    return plan_refill_change(pump_status(), RefillRequest(q(withdrawn), q("20 mL"),
                                                           q("10 mg/mL")), library, START.date())
