"""Typed refusals of the pump: every refused command names the limit it hit.

docs/design.md principle 5 (refuse, do not clamp): a command outside limits raises a `Refusal`;
nothing changes except one log entry recording the refusal.
"""

from __future__ import annotations

from enum import Enum

from idds.errors import IddsError


class Limit(Enum):
    """The limit or condition a refused command ran into."""

    FLOW_RANGE = "flow outside device range"
    FLEX_STEPS = "flex schedule malformed"
    BOLUS_VOLUME = "bolus volume outside device range"
    BOLUS_DURATION = "bolus duration outside device range"
    BOLUS_FLOW = "bolus flow above device maximum"
    LOCKOUT_RANGE = "lockout outside device range"
    MAX_PER_24H_RANGE = "maximum boluses per 24 h outside device range"
    LOCKOUT_ACTIVE = "lockout interval not over"
    MAX_PER_24H_REACHED = "maximum boluses per 24 h reached"
    DEMAND_DISABLED = "patient bolus not enabled"
    CRITICAL_ALARM = "critical alarm active"
    BOLUS_IN_PROGRESS = "bolus in progress"
    THERAPY_STOPPED = "therapy stopped"
    NOT_CONFIRMED = "therapy not confirmed after drug change"
    NO_DRUG = "no drug in pump"
    RESERVOIR_CAPACITY = "reservoir capacity"
    RESERVOIR_ESTIMATE = "not enough drug in reservoir estimate"
    LOW_RESERVOIR_RANGE = "low-reservoir alarm volume outside device range"
    END_OF_SERVICE = "battery at end of service"
    NO_PREVIOUS_THERAPY = "no previous therapy to bridge"
    TIME_BACKWARDS = "time cannot go backwards"
    NOT_ACTIVE = "alarm not active"
    MOTOR = "motor not available"
    BAD_VALUE = "value not allowed"
    PRIME_NOT_DUE = "no priming bolus due"


class PumpError(IddsError):
    """Any error the pump package raises on purpose."""


class Refusal(PumpError):
    """A pump command refused; `limit` names the limit hit, the message says it in words."""

    def __init__(self, limit: Limit, message: str) -> None:
        super().__init__(message)
        self.limit = limit
        self.message = message


class SnapshotError(PumpError):
    """A snapshot that cannot be restored (corrupt, wrong version, failed hash chain)."""


class ProgramFileError(PumpError):
    """A program file that is missing or malformed."""
