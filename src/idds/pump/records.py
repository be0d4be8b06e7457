"""Structured records of pump data as JSON values: therapies and drugs, one format everywhere.

A therapy record is the link's wire form (`idds.protocol.wire` uses these functions), with
quantities as exact text with their unit ("0.5 mg/day"), parsed back through the unit
allow-list (docs/design.md principle 1):

    {"mode": "continuous", "dose": "0.5 mg/day",
     "demand": {"dose": "0.1 mg", "duration": "10 min", "lockout": "2 h", "max_per_24h": 4}}
    {"mode": "flex", "steps": [["00:00", "0.4 mg/day"], ["08:00", "0.6 mg/day"]]}
    {"mode": "flex", "days": [[["00:00", "0.4 mg/day"]], ...seven days, Monday first...]}
    {"mode": "stopped"} / {"mode": "minimum rate"}

A daily flex schedule is written with "steps", a weekly one (7 days) with "days"; the log
records both, the link carries only the daily one. A drug record is
{"name": "morphine", "concentration": "10 mg/mL"}. Malformed input raises `RecordError` (one
line); a quantity in a wrong or unknown unit raises the units' `UnitError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any, TypeAlias

from idds.pump.errors import PumpError
from idds.pump.program import (
    Basal,
    Continuous,
    DemandBolus,
    Drug,
    Flex,
    FlexStep,
    MinimumRate,
    Stopped,
    Therapy,
)
from idds.units import Kind, Quantity, parse_quantity

#: A JSON value. Pump records never hold floats (exact values are text with a unit or ints);
#: `json_value` turns a float into its text.
JsonValue: TypeAlias = (
    bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"] | None
)


class RecordError(PumpError):
    """A therapy or drug record that is missing a field or malformed."""


# ---------------------------------------------------------------- clock text
def clock_text(minute: int) -> str:
    """Minutes after midnight (0-1439) -> 'HH:MM'."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def parse_clock(text: str) -> int:
    """'HH:MM' -> minutes after midnight (0-1439)."""
    parts = text.strip().split(":")
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() and len(p) <= 2 for p in parts):
        raise RecordError(f"flex step time {text[:12]!r} is not HH:MM (like 08:00)")
    hh, mm = (int(p) for p in parts)
    if not (0 <= hh < 24 and 0 <= mm < 60):
        raise RecordError(f"flex step time {text!r}: HH 00-23 and MM 00-59")
    return hh * 60 + mm


# ---------------------------------------------------------------- therapy
def _steps_record(day: tuple[FlexStep, ...]) -> list[JsonValue]:
    return [[clock_text(s.start_minute), str(s.dose_rate)] for s in day]


def therapy_record(therapy: Therapy) -> dict[str, JsonValue]:
    """A therapy as a record (the wire form; a weekly flex as "days")."""
    basal = therapy.basal
    out: dict[str, JsonValue] = {"mode": basal.mode.value}
    if isinstance(basal, Continuous):
        out["dose"] = str(basal.dose_rate)
    elif isinstance(basal, Flex):
        if len(basal.days) == 1:
            out["steps"] = _steps_record(basal.days[0])
        else:
            out["days"] = [_steps_record(day) for day in basal.days]
    demand = therapy.demand
    if demand is not None:
        out["demand"] = {
            "dose": str(demand.dose),
            "duration": str(demand.duration),
            "lockout": str(demand.lockout),
            "max_per_24h": demand.max_per_24h,
        }
    return out


def text_field(record: Mapping[str, Any], name: str) -> str:
    """A required text field of a record (stripped); `RecordError` when missing or empty."""
    value = record.get(name)
    if not isinstance(value, str) or not value.strip():
        raise RecordError(f"{name} must be given as text")
    return value.strip()


def _quantity(record: Mapping[str, Any], name: str, kind: Kind) -> Quantity:
    return parse_quantity(text_field(record, name), kind, what=name.replace("_", " "))


def flex_step(clock: str, dose: str) -> FlexStep:
    """One flex step from its texts: "HH:MM" and a dose rate with its unit ("0.5 mg/day");
    the dose is parsed first (a unit error names "flex dose at HH:MM")."""
    rate = parse_quantity(dose.strip(), Kind.DOSE_RATE, what=f"flex dose at {clock.strip()}")
    return FlexStep(parse_clock(clock), rate)


def _steps(value: Any) -> tuple[FlexStep, ...]:
    if not isinstance(value, list) or not value:
        raise RecordError("a flex therapy needs a list of steps")
    steps = []
    for step in value:
        if not (isinstance(step, list) and len(step) == 2 and all(
                isinstance(x, str) for x in step)):
            raise RecordError("each flex step is [\"HH:MM\", \"DOSE\"]")
        steps.append(flex_step(*step))
    return tuple(steps)


def _flex(record: Mapping[str, Any]) -> Flex:
    if "days" in record:
        if "steps" in record:
            raise RecordError("a flex therapy has either steps (daily) or days (weekly)")
        days = record["days"]
        if not isinstance(days, list) or len(days) < 2:
            raise RecordError("a weekly flex therapy needs a list of days of steps")
        return Flex(tuple(_steps(day) for day in days))
    return Flex((_steps(record.get("steps")),))


def _demand(raw: Any) -> DemandBolus:
    if not isinstance(raw, dict):
        raise RecordError("demand must be an object")
    count = raw.get("max_per_24h")
    if type(count) is not int:
        raise RecordError("max_per_24h must be a whole number")
    return DemandBolus(
        _quantity(raw, "dose", Kind.MASS),
        _quantity(raw, "duration", Kind.TIME),
        _quantity(raw, "lockout", Kind.TIME),
        count,
    )


def therapy_from_record(value: Any) -> Therapy:
    """A record -> Therapy; `RecordError` (or a unit error) for anything malformed."""
    if not isinstance(value, dict):
        raise RecordError("therapy must be an object")
    mode = value.get("mode")
    basal: Basal
    if mode == "stopped":
        basal = Stopped()
    elif mode == "minimum rate":
        basal = MinimumRate()
    elif mode == "continuous":
        basal = Continuous(_quantity(value, "dose", Kind.DOSE_RATE))
    elif mode == "flex":
        basal = _flex(value)
    else:
        raise RecordError(f"unknown therapy mode {mode!r}; use continuous, flex, minimum rate "
                          "or stopped")
    raw = value.get("demand")
    return Therapy(basal, None if raw is None else _demand(raw))


# ---------------------------------------------------------------- drug
def drug_record(drug: Drug) -> dict[str, JsonValue]:
    """A drug as {"name": ..., "concentration": "10 mg/mL"}."""
    return {"name": drug.name, "concentration": str(drug.concentration)}


def drug_from_record(value: Any) -> Drug:
    """A drug record -> Drug; `RecordError` (or a unit error) for anything malformed."""
    if not isinstance(value, dict):
        raise RecordError("drug must be an object")
    return Drug(text_field(value, "name"), _quantity(value, "concentration", Kind.CONCENTRATION))


# ---------------------------------------------------------------- any value
def json_value(value: object) -> JsonValue:
    """A log detail as a JSON value: text, whole numbers, booleans, None, lists and objects
    of those as they are; a Quantity, Fraction or float as its text (exact for a Quantity
    or Fraction, Python's shortest repr for a float), an enum as its value, anything else as
    its text (what the log wrote before details were typed)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, Enum) and isinstance(value.value, str):
        return value.value
    return str(value)  # Quantity, Fraction, float, anything else: its text
