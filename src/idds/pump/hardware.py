"""The physical implant: reservoir, stroke mechanism, catheter, battery, motor hazard.

This is the truth the firmware cannot see directly. The reservoir drains by *actual* stroke
volumes while the firmware's estimate follows the nominal ones, which reproduces the known
hazard that an over-infusing pump runs dry before its calculated low-reservoir alarm (ref, devices,
TGA 2016). Volumes are integer nL, masses exact Fraction ng, concentrations ng/nL (= mg/mL).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from idds.dosing import PROMETRA_CATHETER_FULL_LENGTH_CM
from idds.pump.clock import DAY, HOUR
from idds.pump.rules import LABELLED_ACCURACY, catheter_volume_nl

#: Reservoir sizes, 20 or 40 mL (ref, devices).
RESERVOIR_SIZES_NL = (20_000_000, 40_000_000)
#: Stroke (accumulator) volume: 2 uL per valve actuation (*assumption*: a Prometra-like
#: accumulator of "a couple of microlitres"; the volume is not given in ref, devices).
DEFAULT_STROKE_NL = 2_000
#: Battery to Elective Replacement Indicator: 6 years, mid of the 5-7 year life (ref, devices);
#: End of Service follows 90 days later (ref, devices).
DEFAULT_ERI_S = 6 * 365 * DAY
EOS_AFTER_ERI_S = 90 * DAY
#: Battery energy: a lithium thionyl chloride implant cell of about 2 Ah at 3.6 V = 25 920 J
#: (*assumption*: chosen so a 6-year life to ERI plus 90 days to EOS is a baseline drain of
#: about 131 uW; ref, devices gives the 5-7 year life, not the cell).
BATTERY_ENERGY_J = Fraction(25_920)
#: Energy of one processed radio wake-up (receive, parse, AEAD, reply): 30 uJ (*assumption*:
#: a MICS-band transceiver at about 5 mA and 3 V for about 2 ms; Halperin 2008 shows repeated
#: radio requests drain an implant). Frames dropped by the link's rate limiter before parsing
#: are not charged (they cost only the receive of a 22-byte header peek).
WAKE_ENERGY_J = Fraction(30, 1_000_000)
#: Motor stall hazard: 2.4% by 78 months with on-label drugs (ref, devices) ->
#: -ln(1 - 0.024) / (78 x 30.44 days) = 1.0e-5 per day; 7.0% off-label -> 3.1e-5 per day.
STALL_HAZARD_ON_LABEL_PER_DAY = 1.0e-5
STALL_HAZARD_OFF_LABEL_PER_DAY = 3.1e-5
#: A stalled rotor restarts after 2-24 h (ref, devices, MRI); drawn uniformly.
STALL_RESTART_MIN_S = 2 * HOUR
STALL_RESTART_MAX_S = 24 * HOUR
#: Systematic flow error: normal, SD 5%, truncated to the labelled +/-14.5% (*assumption*;
#: clinic +1% at 6 months and bench -2.4%, Wesemann 2014; Prometra 96.8% of programmed).
SYSTEMATIC_SD = 0.05


@dataclass(frozen=True)
class HardwareSpec:
    """The build of one implant. Volumes nL, times s (see module constants for sources)."""

    reservoir_nl: int = 20_000_000
    stroke_nl: int = DEFAULT_STROKE_NL
    catheter_trimmed_cm: Fraction = Fraction(40)
    internal_volume_nl: int = 0
    systematic_error: float | None = None
    eri_at_s: Fraction = DEFAULT_ERI_S
    stall_hazard_per_day: float = STALL_HAZARD_ON_LABEL_PER_DAY

    @property
    def wake_cost_s(self) -> Fraction:
        """Seconds of battery life (at the baseline drain) one processed wake-up uses:
        WAKE_ENERGY_J / (BATTERY_ENERGY_J / (eri_at_s + 90 days))."""
        return WAKE_ENERGY_J * (self.eri_at_s + EOS_AFTER_ERI_S) / BATTERY_ENERGY_J

    def __post_init__(self) -> None:
        if self.reservoir_nl not in RESERVOIR_SIZES_NL:
            raise ValueError("reservoir must be 20 or 40 mL (ref, devices)")
        if self.stroke_nl <= 0:
            raise ValueError("stroke volume must be positive")
        if not 0 <= self.catheter_trimmed_cm < PROMETRA_CATHETER_FULL_LENGTH_CM:
            raise ValueError("catheter trimmed length must be 0 to < 110 cm")
        if self.systematic_error is not None and abs(self.systematic_error) > LABELLED_ACCURACY:
            raise ValueError("systematic flow error must be within the labelled +/-14.5%")

    @property
    def dead_volume_nl(self) -> int:
        """Pump internal pathway + catheter volume, nL (catheter by the Prometra formula)."""
        return self.internal_volume_nl + int(catheter_volume_nl(self.catheter_trimmed_cm))


def draw_systematic_error(rng: np.random.Generator) -> float:
    """One pump's systematic flow error, within +/-14.5% (normal SD 5%, redrawn outside)."""
    while True:
        value = float(rng.normal(0.0, SYSTEMATIC_SD))
        if abs(value) <= LABELLED_ACCURACY:
            return value


@dataclass
class Hardware:
    """Physical state: actual reservoir, catheter contents (FIFO) and the drug accounts.

    Accounts in ng: filled = delivered (out of the catheter tip) + in catheter + in reservoir
    + withdrawn, exactly. `pumped_*` count what left the reservoir.
    """

    reservoir_nl: int = 0
    concentration: Fraction = Fraction(0)
    #: Catheter contents from inlet to tip: (volume nL, concentration ng/nL) segments.
    catheter: list[tuple[int, Fraction]] = field(default_factory=list)
    filled_ng: Fraction = Fraction(0)
    withdrawn_ng: Fraction = Fraction(0)
    delivered_ng: Fraction = Fraction(0)
    delivered_nl: int = 0
    pumped_ng: Fraction = Fraction(0)
    pumped_nl: int = 0
    ran_dry_at: Fraction | None = None

    @property
    def reservoir_ng(self) -> Fraction:
        return self.reservoir_nl * self.concentration

    @property
    def catheter_ng(self) -> Fraction:
        return sum((v * c for v, c in self.catheter), Fraction(0))

    def balanced(self) -> bool:
        """Drug conservation, exactly."""
        return self.filled_ng == (
            self.delivered_ng + self.catheter_ng + self.reservoir_ng + self.withdrawn_ng
        )

    def install_catheter(self, volume_nl: int) -> None:
        """A new (or revised) catheter, full of drug-free fluid."""
        self.catheter = [(volume_nl, Fraction(0))] if volume_nl > 0 else []

    def withdraw_all(self) -> int:
        """Empty the reservoir with a syringe; returns the withdrawn volume (nL)."""
        volume = self.reservoir_nl
        self.withdrawn_ng += self.reservoir_ng
        self.reservoir_nl = 0
        return volume

    def fill(self, volume_nl: int, concentration: Fraction) -> None:
        """Fill an empty reservoir."""
        assert self.reservoir_nl == 0, "fill only after withdrawing"
        self.reservoir_nl = volume_nl
        self.concentration = concentration
        self.ran_dry_at = None
        self.filled_ng += volume_nl * concentration

    def stroke(self, volume_nl: int, now: Fraction) -> int:
        """Move up to `volume_nl` from the reservoir into the catheter; the same volume leaves
        the tip. Returns the volume moved (0 from an empty reservoir)."""
        moved = min(volume_nl, self.reservoir_nl)
        if moved <= 0:
            return 0
        self.reservoir_nl -= moved
        self.pumped_nl += moved
        self.pumped_ng += moved * self.concentration
        if self.reservoir_nl == 0 and self.ran_dry_at is None:
            self.ran_dry_at = now
        self._push(moved, self.concentration)
        return moved

    def _push(self, volume: int, concentration: Fraction) -> None:
        if not self.catheter:
            self.delivered_nl += volume
            self.delivered_ng += volume * concentration
            return
        if self.catheter[0][1] == concentration:
            self.catheter[0] = (self.catheter[0][0] + volume, concentration)
        else:
            self.catheter.insert(0, (volume, concentration))
        out = volume
        while out > 0:
            seg_volume, seg_conc = self.catheter[-1]
            take = min(out, seg_volume)
            self.delivered_nl += take
            self.delivered_ng += take * seg_conc
            out -= take
            if take == seg_volume:
                self.catheter.pop()
            else:
                self.catheter[-1] = (seg_volume - take, seg_conc)
