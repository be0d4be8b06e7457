"""The controller's carried state between visits: a JSON file on the programmer device.

The state's dataclasses and numpy arrays are written with their type names (only the known
controller-state types are read back); a visit on the same pump day starts from the state
before the last visit (the same data is not learnt twice), a later day from the state after it.
A state of the first format (before the side-effect estimate) is read as the same state with
the side-effect prior and no burden reported on its recovered days: the next visit recovers
the diary exactly and takes the window's burden as that day's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from idds.control import estimator, sideeffects
from idds.control.breathing import BreathingEstimate
from idds.control.daily import FIELDS, DailyState
from idds.control.estimator import ResponseEstimate
from idds.control.intelligent import IntelligentController, IntelligentState
from idds.control.rules import RuleState
from idds.control.sideeffects import SideEffectEstimate, SideEffectModel
from idds.errors import IddsError
from idds.link.atomic import read_json, write_json
from idds.programmer.advisory.common import AdvisoryError

STATE_FORMAT = "idds-advice-state/2"
#: The first format: no side-effect estimate, three recovered fields a day (the burden's two
#: after them, `daily.FIELDS`).
_FIRST_FORMAT = "idds-advice-state/1"

_STATE_TYPES: dict[str, type] = {cls.__name__: cls for cls in (
    IntelligentState, DailyState, ResponseEstimate, BreathingEstimate, SideEffectEstimate,
    RuleState)}
_DTYPES = {"float64", "int64", "bool"}


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {"__type__": type(value).__name__}
        out.update({f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)})
        return out
    if isinstance(value, np.ndarray):
        return {"__array__": str(value.dtype), "shape": list(value.shape),
                "data": [float(x) if value.dtype.kind == "f" else int(x)
                         for x in value.ravel()]}
    if isinstance(value, bool | int | float | str):
        return value
    raise AdvisoryError(f"cannot store a {type(value).__name__} in the state file")


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "__array__" in value:
        if value["__array__"] not in _DTYPES:
            raise AdvisoryError("state file: unknown array type")
        return np.asarray(value["data"], dtype=value["__array__"]).reshape(value["shape"])
    if isinstance(value, dict) and "__type__" in value:
        cls = _STATE_TYPES.get(value["__type__"])
        if cls is None:
            raise AdvisoryError(f"state file: unknown record {value['__type__']!r}")
        names = {f.name for f in dataclasses.fields(cls)}
        fields = {k: _decode(v) for k, v in value.items() if k != "__type__"}
        if set(fields) != names:
            raise AdvisoryError(f"state file: {value['__type__']} has the wrong fields")
        return cls(**fields)
    return value


def _upgrade_first(value: Any) -> Any:
    """A first-format encoded state in the present format (see the module docstring)."""
    if not isinstance(value, dict) or "__array__" in value:
        return value
    out = {k: _upgrade_first(v) for k, v in value.items()}
    if out.get("__type__") == "IntelligentState" and "side_effects" not in out:
        n = len(out["last_oral_mg_per_day"]["data"])
        out["side_effects"] = _encode(SideEffectEstimate.prior(n, SideEffectModel()))
    if out.get("__type__") == "DailyState":
        recent = out["recent"]
        old = np.asarray(recent["data"], dtype=np.float64).reshape(recent["shape"])
        rows, fields, n = old.shape
        padded = np.zeros((rows, len(FIELDS), n))
        padded[:, :fields] = old
        out["recent"] = _encode(padded)
    return out


def state_path(device: Path, pump_id: str, controller: str) -> Path:
    """Where the device keeps a controller's carried state for one pump."""
    return Path(device) / "advice" / f"{pump_id}.{controller}.json"


def load_state(path: Path, pump_id: str, controller: str, day: int) -> Any | None:
    """The carried state to start this visit from (None: no file). Same pump day as the last
    visit: the state before that visit (the same data is not learnt twice); a later day: the
    state after it."""
    try:
        record = read_json(path)
    except IddsError as exc:
        raise AdvisoryError(f"state file {path}: {exc}") from None
    if record is None:
        return None
    if not isinstance(record, dict) or record.get("format") not in (STATE_FORMAT,
                                                                     _FIRST_FORMAT):
        raise AdvisoryError(f"state file {path} is not an advisory state ({STATE_FORMAT})")
    if record.get("pump_id") != pump_id or record.get("controller") != controller:
        raise AdvisoryError(f"state file {path} is for pump {record.get('pump_id')} and the "
                            f"{record.get('controller')} controller, not {pump_id} / "
                            f"{controller}")
    saved = record.get("day")
    if not isinstance(saved, int) or saved > day:
        raise AdvisoryError(f"state file {path} is from pump day {saved}, after today ({day})")
    try:
        encoded = record["before" if saved == day else "after"]
        if record["format"] == _FIRST_FORMAT:
            encoded = _upgrade_first(encoded)
        state = _decode(encoded)
    except (KeyError, TypeError, ValueError) as exc:
        raise AdvisoryError(f"state file {path} is malformed: {exc}") from None
    return state


def state_record(pump_id: str, controller: str, day: int, at: str, before: Any,
                 after: Any) -> dict[str, Any]:
    """The JSON written back to the device after a visit."""
    return {"format": STATE_FORMAT, "pump_id": pump_id, "controller": controller, "day": day,
            "at": at, "before": _encode(before), "after": _encode(after)}


def save_state(path: Path, record: Mapping[str, Any]) -> None:
    write_json(path, dict(record))


def catch_up(state: Any, days: int, controller: Any) -> Any:
    """Days without a visit: the intelligent estimates drift one predict step a day."""
    if (isinstance(state, IntelligentState) and isinstance(controller, IntelligentController)
            and state.started and days > 1):
        response, side = state.response, state.side_effects
        for _ in range(days - 1):
            response = estimator.predict(response, controller.model)
            side = sideeffects.predict(side, controller.side_effect_model)
        return dataclasses.replace(state, response=response, side_effects=side)
    return state


