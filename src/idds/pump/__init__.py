"""The implanted intrathecal pump: a deterministic firmware model on an injected clock.

Public API: `Pump` (firmware + hardware; `Pump.implant`), therapy records (`Therapy`,
`Continuous`, `Flex`, `FlexStep`, `MinimumRate`, `Stopped`, `DemandBolus`, `Drug`) and their
JSON records (`therapy_record`/`therapy_from_record`, `drug_record`/`drug_from_record`),
`Refusal`, `Limit` and the refusable `Command`s, alarms (`AlarmKind`, `Priority`,
`ALARM_SPECS`), the hash-chained `EventLog` of typed entries, `snapshot`/`restore`/`power_loss`,
`Telemetry` (`interrogate`, `read_telemetry`), and the pure rule functions in `idds.pump.rules`.
See docs/pump.md. It knows nothing of patients, networks or controllers.
"""

from idds.pump.alarms import ALARM_SPECS, ActiveAlarm, AlarmKind, Priority, tone_times
from idds.pump.commands import Command
from idds.pump.errors import Limit, PumpError, Refusal, SnapshotError
from idds.pump.firmware import Pump, RefillReport
from idds.pump.hardware import HardwareSpec
from idds.pump.limits import LIMITS, DeviceLimits
from idds.pump.log import EventKind, EventLog, LogEntry, verify_chain, verify_links
from idds.pump.program import (
    Continuous,
    DemandBolus,
    Drug,
    Flex,
    FlexStep,
    MinimumRate,
    Mode,
    Stopped,
    Therapy,
)
from idds.pump.records import (
    RecordError,
    drug_from_record,
    drug_record,
    therapy_from_record,
    therapy_record,
)
from idds.pump.snapshot import power_loss, restore, snapshot
from idds.pump.state import BolusKind, BolusRun, PrimeReason
from idds.pump.telemetry import Battery, Telemetry, interrogate, read_telemetry

__all__ = [
    "ALARM_SPECS",
    "LIMITS",
    "ActiveAlarm",
    "AlarmKind",
    "Battery",
    "BolusKind",
    "BolusRun",
    "Command",
    "Continuous",
    "DemandBolus",
    "DeviceLimits",
    "Drug",
    "EventKind",
    "EventLog",
    "Flex",
    "FlexStep",
    "HardwareSpec",
    "Limit",
    "LogEntry",
    "MinimumRate",
    "Mode",
    "PrimeReason",
    "Priority",
    "Pump",
    "PumpError",
    "RecordError",
    "RefillReport",
    "Refusal",
    "SnapshotError",
    "Stopped",
    "Telemetry",
    "Therapy",
    "drug_from_record",
    "drug_record",
    "interrogate",
    "power_loss",
    "read_telemetry",
    "restore",
    "snapshot",
    "therapy_from_record",
    "therapy_record",
    "tone_times",
    "verify_chain",
    "verify_links",
]
