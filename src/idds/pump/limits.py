"""Device limits of the implant: what the firmware accepts, and where each number comes from.

Sources: docs/references.md (devices) ("ref, devices"); values marked *assumption* are not
given there and are stated here so that they can be changed in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from idds.pump.clock import DAY, HOUR, MINUTE


@dataclass(frozen=True)
class DeviceLimits:
    """Limits the firmware refuses to exceed. Volumes in nL, flows in nL/day, times in s."""

    #: Flow range 0.048-24 mL/day (ref, devices, SynchroMed II / Prometra II).
    min_flow_nl_per_day: int = 48_000
    max_flow_nl_per_day: int = 24_000_000
    #: Flex dosing: up to 13 steps a day (ref, devices).
    max_flex_steps: int = 13
    #: Bolus volume range per bolus: one 2 uL stroke to 5 mL (*assumption*).
    min_bolus_nl: int = 2_000
    max_bolus_nl: int = 5_000_000
    #: Bolus duration 1 min - 24 h (*assumption*); flow must also stay within the flow range.
    min_bolus_duration_s: Fraction = MINUTE
    max_bolus_duration_s: Fraction = DAY
    #: Patient demand bolus lockout 10 min - 24 h (*assumption*, typical myPTM settings).
    min_lockout_s: Fraction = 10 * MINUTE
    max_lockout_s: Fraction = DAY
    #: At most 24 patient boluses per 24 h (*assumption*).
    max_demand_per_24h: int = 24
    #: Low-reservoir alarm volume, clinician set: 1-5 mL, default 2 mL (ref, devices: about 2 mL,
    #: 4 mL safer).
    min_low_reservoir_nl: int = 1_000_000
    max_low_reservoir_nl: int = 5_000_000
    default_low_reservoir_nl: int = 2_000_000
    #: Priming bolus flow: the maximum flow, 24 mL/day = 1 mL/h (*assumption*).
    priming_flow_nl_per_day: int = 24_000_000
    #: Window of the patient-bolus maximum (ref, devices "maximum boluses per 24 h").
    demand_window_s: Fraction = 24 * HOUR

    @property
    def min_flow(self) -> Fraction:
        """Minimum flow, nL/s."""
        return Fraction(self.min_flow_nl_per_day) / DAY

    @property
    def max_flow(self) -> Fraction:
        """Maximum flow, nL/s."""
        return Fraction(self.max_flow_nl_per_day) / DAY

    @property
    def priming_flow(self) -> Fraction:
        """Priming flow, nL/s."""
        return Fraction(self.priming_flow_nl_per_day) / DAY


LIMITS = DeviceLimits()
