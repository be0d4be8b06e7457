"""The firmware's mutable state and the records it is made of (all JSON-able via snapshot).

Units: times s since the epoch (Fraction), volumes nL (int physical, Fraction commanded),
flows nL/s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from fractions import Fraction

from idds.pump.alarms import ActiveAlarm, AlarmKind
from idds.pump.program import Drug, Therapy
from idds.units import Quantity


class BolusKind(Enum):
    """Kinds of bolus (ref, devices). Clinician, priming and bridge boluses replace the basal
    flow while they run and then it resumes unchanged; a patient bolus runs on top of it."""

    CLINICIAN = "clinician"
    PRIMING = "priming"
    BRIDGE = "bridge"
    PATIENT = "patient"

    @property
    def replaces_basal(self) -> bool:
        return self is not BolusKind.PATIENT


@dataclass(frozen=True)
class BolusRun:
    """A running bolus: `volume_nl` at `flow` nL/s from `started` to `ends` (s)."""

    kind: BolusKind
    volume_nl: Fraction
    flow: Fraction
    started: Fraction
    ends: Fraction
    mass_ng: Fraction

    def describe(self) -> str:
        return f"{self.kind.value} bolus"


class PrimeReason(Enum):
    """Why the catheter is empty of drug, so that one priming bolus is due (ref, devices:
    "priming bolus after implant or catheter revision"; a change of drug, issue 13). A prime
    is allowed only while one of these is pending, once: priming a full catheter pushes drug
    into the patient (ref, devices: Class I recall 2013, early unintended dose)."""

    IMPLANT = "implant"
    CATHETER_REVISION = "catheter revision"
    DRUG_CHANGE = "drug change"


class MotorCause(Enum):
    """Why the motor stalled."""

    RANDOM = "random stall"
    MRI = "MRI magnet"


@dataclass
class PumpState:
    """Everything the firmware remembers (kept in non-volatile memory)."""

    now: Fraction
    epoch_weekday: int
    systematic_error: float
    dead_volume_nl: int
    low_reservoir_nl: int
    drug: Drug | None = None
    therapy: Therapy = field(default_factory=Therapy)
    #: False after a drug or concentration change until a therapy is programmed again.
    confirmed: bool = False
    estimate_nl: int = 0
    pumped_since_fill_nl: int = 0
    pending_nl: Fraction = Fraction(0)
    bolus: BolusRun | None = None
    patient_starts: tuple[Fraction, ...] = ()
    lockout_until: Fraction | None = None
    alarms: tuple[ActiveAlarm, ...] = ()
    stalled: bool = False
    stall_cause: MotorCause | None = None
    restart_at: Fraction | None = None
    next_stall_at: Fraction | None = None
    eri: bool = False
    eos: bool = False
    #: Basal flow (nL/s) before the last drug change, for a bridge bolus.
    flow_before_change: Fraction | None = None
    #: Radio wake-ups processed (charged to the battery: each brings ERI and EOS earlier by
    #: `HardwareSpec.wake_cost_s`).
    radio_wakeups: int = 0
    #: When a program last raised the dose of the same drug (s; the most given in any 24 h,
    #: `idds.pump.program.peak_daily_dose`), for the drug library's minimum interval between
    #: increases; None before any.
    last_increase_at: Fraction | None = None
    #: The event after which the catheter holds no drug and one priming bolus is due; None
    #: once it is primed (a second prime for the same event is refused).
    prime_due: PrimeReason | None = None

    def since_last_increase(self) -> Quantity | None:
        """Pump time since the last increase (h), or None before any. Pump time stops while
        the pump is off, so after a power loss this is less than the wall-clock time."""
        if self.last_increase_at is None:
            return None
        return Quantity.of((self.now - self.last_increase_at) / 3600, "h")

    def alarm(self, kind: AlarmKind) -> ActiveAlarm | None:
        for a in self.alarms:
            if a.kind is kind:
                return a
        return None
