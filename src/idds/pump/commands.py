"""The commands the firmware can refuse, by name: the `command` field of a refusal entry.

Each member's value is the text the log has always shown ("patient bolus", "set therapy"); a
member knows whether it is a bolus command, which decides whether its refusal is logged as
`EventKind.BOLUS_REFUSED` or `EventKind.COMMAND_REFUSED` (`Pump._refuse`).
"""

from __future__ import annotations

from enum import Enum


class Command(Enum):
    """A firmware command (a `Pump` method), as named in the log."""

    ADVANCE = "advance"
    ACKNOWLEDGE = "acknowledge"
    SET_THERAPY = "set therapy"
    SET_LOW_RESERVOIR_ALARM = "set low-reservoir alarm"
    REFILL = "refill"
    REPLACE_CATHETER = "replace catheter"
    CLINICIAN_BOLUS = "clinician bolus"
    PRIMING_BOLUS = "priming bolus"
    BRIDGE_BOLUS = "bridge bolus"
    PATIENT_BOLUS = "patient bolus"
    CHARGE_WAKEUPS = "charge wake-ups"
    ANNOTATE = "annotate"
    MRI = "mri"
    CLEAR_MEMORY_ERROR = "clear memory error"

    @property
    def is_bolus(self) -> bool:
        """Whether this command starts a bolus (its refusal is a "bolus refused" entry)."""
        return self in _BOLUS_COMMANDS


_BOLUS_COMMANDS = frozenset({Command.CLINICIAN_BOLUS, Command.PRIMING_BOLUS,
                             Command.BRIDGE_BOLUS, Command.PATIENT_BOLUS})
