"""Advisory mode in the clinician programmer: observations in, advice on screen, decision logged.

One patient (n = 1). The observations come from two places: the pump, over the link (the
therapy, drug and concentration from the interrogation; presses and program changes from the
event log's typed fields, `history`), and the clinician's TOML file (`clinical`). The modules,
in the order a visit uses them:

- `clinical`: the observations file, parsed and checked (`load_observations`).
- `history`: what the pump's log tells (presses by hour, the last increase, the week's lowest).
- `inputs`: the one-patient `Observations` and supervisor memory (missing entries are NaN).
- `state`: the controller's carried state between visits (a JSON file on the device).
- `run`: `prepare`, observations -> controller -> supervisor -> `AdvisoryRun` (pure).
- `rows`: the advice as screen rows and plain data.
- `decision`: accept (through the normal programming path) or reject, logged on both sides.
- `visit`: the whole visit as two calls, `open_visit` and `close_visit`, for the CLI and the
  console.

The pump <-> array therapy conversion is `idds.programmer.therapyform`.
"""

from idds.control.registry import CONTROLLERS
from idds.programmer.advisory.clinical import (
    ClinicalInput,
    TimedEntry,
    load_observations,
    parse_observations,
    parse_time,
)
from idds.programmer.advisory.common import AdvisoryError
from idds.programmer.advisory.decision import (
    AcceptOutcome,
    accept_advice,
    gather,
    log_decision,
    record_on_pump,
    reject_advice,
)
from idds.programmer.advisory.history import PumpHistory, pump_history
from idds.programmer.advisory.inputs import build_observations, supervisor_state
from idds.programmer.advisory.rows import advice_summary, flex_rows, setting_rows
from idds.programmer.advisory.run import (
    AdvisoryRun,
    check_controller,
    prepare,
    pump_day,
)
from idds.programmer.advisory.state import load_state, save_state, state_path, state_record
from idds.programmer.advisory.visit import (
    Choice,
    OpenVisit,
    VisitReport,
    VisitRequest,
    close_visit,
    open_visit,
)

__all__ = [
    "CONTROLLERS",
    "AcceptOutcome",
    "AdvisoryError",
    "AdvisoryRun",
    "Choice",
    "ClinicalInput",
    "OpenVisit",
    "PumpHistory",
    "TimedEntry",
    "VisitReport",
    "VisitRequest",
    "accept_advice",
    "advice_summary",
    "build_observations",
    "check_controller",
    "close_visit",
    "flex_rows",
    "gather",
    "load_observations",
    "load_state",
    "log_decision",
    "open_visit",
    "parse_observations",
    "parse_time",
    "prepare",
    "pump_day",
    "pump_history",
    "record_on_pump",
    "reject_advice",
    "save_state",
    "setting_rows",
    "state_path",
    "state_record",
    "supervisor_state",
]
