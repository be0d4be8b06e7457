"""The clinician programmer and the patient remote, over the secure link.

`Programmer` (interrogate; therapy with drug-library checks, a finish screen and a confirm
step; refill with the expected-versus-withdrawn check and a bridge bolus; prime; alarm test;
log download with hash-chain verification) and `Remote` (request a bolus, nothing else).
Pure planning in `plans` (no I/O), the wire format in `idds.protocol`, screens in `screens`,
the device directory and its audit log in `device` / `devicelog`. See docs/programmer.md.
"""

from idds.programmer.api import BolusOutcome, LogDownload, Programmer, Remote
from idds.programmer.device import DeviceDir, PumpAddress
from idds.programmer.devicelog import DeviceLog
from idds.programmer.plans import (
    PlanError,
    RefillChange,
    RefillRequest,
    Row,
    TherapyPlan,
    TherapyRequest,
    plan_refill_change,
    plan_therapy,
)
from idds.programmer.status import PumpStatus, parse_status
from idds.protocol.wire import WireError, parse_flex, therapy_from_json, therapy_to_json

__all__ = [
    "BolusOutcome",
    "DeviceDir",
    "DeviceLog",
    "LogDownload",
    "PlanError",
    "Programmer",
    "PumpAddress",
    "PumpStatus",
    "RefillChange",
    "RefillRequest",
    "Remote",
    "Row",
    "TherapyPlan",
    "TherapyRequest",
    "WireError",
    "parse_flex",
    "parse_status",
    "plan_refill_change",
    "plan_therapy",
    "therapy_from_json",
    "therapy_to_json",
]
