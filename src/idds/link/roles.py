"""Roles and the permission table: who may give which command. ONE place (docs/design.md: one truth
per rule).

A device's role is fixed when it pairs (by the role the pump's pairing window was opened for)
and is bound into its keys and into every sealed frame's associated data (`keys.binding`): an
edited stored role fails authentication instead of changing what the key may do.
ref, security: "the patient remote may only request a bolus; only a clinician programmer may
change therapy, limits or the drug library". Adding a command is one line in `PERMISSIONS`.
"""

from __future__ import annotations

from enum import IntEnum
from types import MappingProxyType
from typing import Final


class Role(IntEnum):
    """The kind of external device, as sent in pairing frames (one byte)."""

    CLINICIAN = 1  # clinician programmer
    PATIENT = 2  # patient remote

    @property
    def label(self) -> str:
        """How a person names this kind of device."""
        return "clinician programmer" if self is Role.CLINICIAN else "patient remote"


_BOTH = frozenset({Role.CLINICIAN, Role.PATIENT})
_CLINICIAN = frozenset({Role.CLINICIAN})

PERMISSIONS: Final = MappingProxyType(
    {
        "bolus_ticket": _BOTH,
        "bolus_request": _BOTH,
        "bolus_status": _BOTH,
        "interrogate": _CLINICIAN,
        "program": _CLINICIAN,
        "refill": _CLINICIAN,
        "prime": _CLINICIAN,
        "alarm_test": _CLINICIAN,
        "read_log": _CLINICIAN,
        "record_advice": _CLINICIAN,
        "pairings": _CLINICIAN,  # answered by the link endpoint itself (its pairing table)
        "unpair": _CLINICIAN,  # idem
    }
)

#: Commands the link endpoint answers itself, never handed to the pump's handler.
LINK_COMMANDS: Final = frozenset({"pairings", "unpair"})


def known(command: str) -> bool:
    """True if the link carries this command at all."""
    return command in PERMISSIONS


def permitted(role: Role, command: str) -> bool:
    """True if a device paired as `role` may give `command`."""
    return role in PERMISSIONS.get(command, frozenset())


def refusal(role: Role, command: str) -> str:
    """The sentence shown when `role` may not give `command`."""
    allowed = sorted(name for name, roles in PERMISSIONS.items() if role in roles)
    if role is Role.PATIENT:
        return (
            f"this remote is paired as a patient remote: it can only request a bolus and read "
            f"its outcome, not {command!r}"
        )
    return f"a {role.label} may not {command!r}; it may: {', '.join(allowed)}"
