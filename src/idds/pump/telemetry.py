"""Interrogation: one telemetry snapshot, what a clinician programmer reads from the pump.

All values carry units (Quantity) or are enums; `as_json()` gives a JSON-able dict. Built from
the pump by `interrogate` (logged) and `read_telemetry` (not logged); the firmware does not
import this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from fractions import Fraction

from idds.pump import rules
from idds.pump.alarms import ActiveAlarm
from idds.pump.clock import format_time
from idds.pump.convert import dose_rate_q, flow_q, mass_ng, time_q, volume_q
from idds.pump.firmware import Pump
from idds.pump.log import LogEntry
from idds.pump.program import Drug, Mode, Therapy
from idds.units import Quantity


class Battery(Enum):
    """Battery status (ref, devices: ERI first, End of Service 90 days later)."""

    OK = "ok"
    ERI = "elective replacement indicator"
    EOS = "end of service"


@dataclass(frozen=True)
class Telemetry:
    """One read of the pump."""

    time: Fraction
    drug: Drug | None
    therapy: Therapy
    mode: Mode
    confirmed: bool
    infusing: bool
    flow: Quantity
    dose_rate: Quantity
    bolus: str | None
    reservoir_estimate: Quantity
    low_reservoir_alarm: Quantity
    refill_due_in: Quantity | None
    battery: Battery
    motor_stalled: bool
    alarms: tuple[ActiveAlarm, ...]
    last_events: tuple[LogEntry, ...]
    log_head: str

    def as_json(self) -> dict[str, object]:
        return {
            "time": format_time(self.time),
            "time_s": float(self.time),
            "drug": str(self.drug) if self.drug else None,
            "therapy": self.therapy.describe(),
            "mode": self.mode.value,
            "confirmed": self.confirmed,
            "infusing": self.infusing,
            "flow": self.flow.as_json("mL/day"),
            "dose_rate": self.dose_rate.as_json("mg/day"),
            "bolus": self.bolus,
            "reservoir_estimate": self.reservoir_estimate.as_json("mL"),
            "low_reservoir_alarm": self.low_reservoir_alarm.as_json("mL"),
            "refill_due_in": (self.refill_due_in.as_json("day")
                              if self.refill_due_in is not None else None),
            "battery": self.battery.value,
            "motor_stalled": self.motor_stalled,
            "alarms": [
                {"kind": a.kind.value, "priority": a.spec.priority.value,
                 "raised": format_time(a.raised_at),
                 "acknowledged": a.acknowledged_at is not None}
                for a in self.alarms
            ],
            "last_events": [e.as_json() for e in self.last_events],
            "log_head": self.log_head,
        }


def read_telemetry(pump: Pump, events: int = 10) -> Telemetry:
    """Build the telemetry snapshot of `pump` (pure read; logs nothing)."""
    s = pump.state
    conc = pump.concentration
    flow = pump.flow()
    due: Quantity | None = None
    if s.drug is not None and s.confirmed:
        demand_per_day = Fraction(0)
        if s.therapy.demand is not None:
            dose_ng = mass_ng(s.therapy.demand.dose)
            demand_per_day = dose_ng / conc * s.therapy.demand.max_per_24h
        mean = rules.mean_basal_flow(s.therapy.basal, conc, pump.limits.min_flow)
        seconds = rules.refill_due_in(s.estimate_nl, s.low_reservoir_nl, mean, demand_per_day)
        due = time_q(seconds).to("day") if seconds is not None else None
    battery = Battery.EOS if s.eos else Battery.ERI if s.eri else Battery.OK
    return Telemetry(
        time=s.now, drug=s.drug, therapy=s.therapy, mode=s.therapy.mode, confirmed=s.confirmed,
        infusing=flow > 0, flow=flow_q(flow), dose_rate=dose_rate_q(flow * conc),
        bolus=s.bolus.describe() if s.bolus else None,
        reservoir_estimate=volume_q(s.estimate_nl), low_reservoir_alarm=volume_q(
            s.low_reservoir_nl),
        refill_due_in=due, battery=battery, motor_stalled=s.stalled, alarms=s.alarms,
        last_events=pump.log.last(events), log_head=pump.log.head,
    )


def interrogate(pump: Pump, events: int = 10) -> Telemetry:
    """What a programmer reads: the interrogation is logged (after a motor restart it clears
    the stall alarm and infusion resumes, ref, devices: `Pump.interrogated`), then the
    telemetry is read."""
    pump.interrogated()
    return read_telemetry(pump, events)
