"""Shared builders for the pump tests."""

from __future__ import annotations

from idds.pump import (
    Continuous,
    DemandBolus,
    Drug,
    HardwareSpec,
    Pump,
    Therapy,
)
from idds.units import Quantity

MORPHINE = Drug("morphine", Quantity.of(10, "mg/mL"))


def q(text: str) -> Quantity:
    value, unit = text.split(" ", 1)
    return Quantity.of(value, unit)


def demand(max_per_24h: int = 4, lockout: str = "2 h") -> DemandBolus:
    return DemandBolus(q("0.1 mg"), q("10 min"), q(lockout), max_per_24h)


def running_pump(dose: str = "1.5 mg/day", *, fill: str = "20 mL", seed: int = 0,
                 spec: HardwareSpec | None = None, with_demand: bool = True,
                 drug: Drug = MORPHINE) -> Pump:
    """A pump filled with morphine 10 mg/mL, primed (about 11 min), then on a continuous
    program (no stall hazard unless the spec says)."""
    pump = Pump.implant(spec or HardwareSpec(stall_hazard_per_day=0.0), seed=seed)
    pump.refill(q(fill), drug)
    pump.advance(pump.priming_bolus().ends)
    pump.set_therapy(Therapy(Continuous(q(dose)), demand() if with_demand else None))
    return pump
