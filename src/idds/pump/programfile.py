"""Program files: a pump, a drug fill and a therapy in TOML, units always written as text.

See examples/programs/*.toml and docs/pump.md. Layout:

    [pump]            reservoir = "20 mL"; catheter_trimmed_cm = 40; stroke = "2 uL" (optional);
                      systematic_error_pct = 0.0 (optional; drawn from the seed if absent);
                      low_reservoir_alarm = "2 mL"; prime = true; epoch_weekday = "mon"
    [drug]            name = "morphine"; concentration = "10 mg/mL"; fill = "20 mL";
                      entered = "20 mL" (optional: what the clinician types, default = fill)
    [therapy]         mode = "continuous" | "flex" | "minimum rate" | "stopped"
                      dose = "1.5 mg/day" (continuous)
                      [[therapy.steps]] start = "08:00", dose = "2 mg/day" (flex, every day)
                      [therapy.week] mon = [{start = "00:00", dose = "1 mg/day"}, ...] (flex,
                      per weekday: all seven days)
    [demand]          dose = "0.1 mg"; duration = "10 min"; lockout = "2 h"; max_boluses = 4

Strict, like the command line: a key a section does not know (a misspelt `prime`) is refused,
not ignored; numbers are finite (TOML's inf and nan are refused) and quantities go through the
unit parser (ASCII digits, bounded digits and size); the concentration, the fill and the
reservoir must be above zero and no quantity may be negative. Every refusal is one line
(`ProgramFileError`, exit status 2), never a traceback.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from idds.pump.clock import WEEKDAYS
from idds.pump.convert import volume_nl
from idds.pump.errors import ProgramFileError
from idds.pump.hardware import HardwareSpec
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
from idds.tomlfile import read_toml
from idds.units import Kind, Quantity, UnitError, exact, parse_quantity
from idds.units.numbers import parse_whole

#: The keys each section may have.
KEYS: dict[str, frozenset[str]] = {
    "pump": frozenset({"reservoir", "catheter_trimmed_cm", "stroke", "systematic_error_pct",
                       "low_reservoir_alarm", "prime", "epoch_weekday"}),
    "drug": frozenset({"name", "concentration", "fill", "entered"}),
    "therapy": frozenset({"mode", "dose", "steps", "week"}),
    "demand": frozenset({"dose", "duration", "lockout", "max_boluses"}),
    "step": frozenset({"start", "dose"}),
}
#: Quantities that must be above zero (the others must not be negative).
POSITIVE = frozenset({"reservoir", "concentration", "fill", "stroke"})


@dataclass(frozen=True)
class ProgramFile:
    """A parsed program file: everything needed to set up one pump."""

    spec: HardwareSpec
    drug: Drug
    fill: Quantity
    entered: Quantity
    therapy: Therapy
    low_reservoir_alarm: Quantity | None
    prime: bool
    epoch_weekday: int


def load_program(path: Path) -> ProgramFile:
    """Read and check a program file; ProgramFileError (one line) for anything wrong."""
    return parse_program(read_toml(path, "program file", ProgramFileError), str(path))


def parse_program(data: dict[str, Any], source: str = "program") -> ProgramFile:
    """Build a ProgramFile from a TOML table; ProgramFileError (one line) for anything wrong."""
    try:
        return _parse_program(data, source)
    except UnitError as exc:
        raise ProgramFileError(f"{source}: {exc}") from None


def _parse_program(data: dict[str, Any], source: str) -> ProgramFile:
    known = {"pump", "drug", "therapy", "demand"}
    extra = set(data) - known
    if extra:
        raise ProgramFileError(f"{source}: unknown section(s) {sorted(extra)}; "
                               f"allowed {sorted(known)}")
    pump = _table(data, "pump", source, required=False)
    drug_t = _table(data, "drug", source)
    therapy_t = _table(data, "therapy", source)
    spec = _spec(pump, source)
    drug = Drug(_text(drug_t, "name", "drug", source),
                _qty(drug_t, "concentration", Kind.CONCENTRATION, "drug", source))
    fill = _qty(drug_t, "fill", Kind.VOLUME, "drug", source)
    entered = (_qty(drug_t, "entered", Kind.VOLUME, "drug", source)
               if "entered" in drug_t else fill)
    demand = None
    if "demand" in data:
        d = _table(data, "demand", source)
        count = d.get("max_boluses")
        if not isinstance(count, int) or isinstance(count, bool):
            raise ProgramFileError(f"{source}: [demand] max_boluses (per rolling 24 h) must "
                                   "be a whole number")
        demand = DemandBolus(_qty(d, "dose", Kind.MASS, "demand", source),
                             _qty(d, "duration", Kind.TIME, "demand", source),
                             _qty(d, "lockout", Kind.TIME, "demand", source), count)
    alarm = (_qty(pump, "low_reservoir_alarm", Kind.VOLUME, "pump", source)
             if "low_reservoir_alarm" in pump else None)
    prime = pump.get("prime", True)
    if not isinstance(prime, bool):
        raise ProgramFileError(f"{source}: [pump] prime must be true or false")
    day = str(pump.get("epoch_weekday", "mon")).lower()
    if day not in WEEKDAYS:
        raise ProgramFileError(f"{source}: [pump] epoch_weekday must be one of {WEEKDAYS}")
    return ProgramFile(spec, drug, fill, entered, Therapy(_basal(therapy_t, source), demand),
                       alarm, prime, WEEKDAYS.index(day))


def _spec(pump: dict[str, Any], source: str) -> HardwareSpec:
    reservoir = (_qty(pump, "reservoir", Kind.VOLUME, "pump", source)
                 if "reservoir" in pump else Quantity.of(20, "mL"))
    kwargs: dict[str, Any] = {"reservoir_nl": int(volume_nl(reservoir))}
    if "stroke" in pump:
        stroke = volume_nl(_qty(pump, "stroke", Kind.VOLUME, "pump", source))
        if stroke.denominator != 1 or stroke <= 0:
            raise ProgramFileError(f"{source}: [pump] stroke must be a positive whole nL")
        kwargs["stroke_nl"] = int(stroke)
    if "catheter_trimmed_cm" in pump:
        trimmed = pump["catheter_trimmed_cm"]
        if not isinstance(trimmed, int | float) or isinstance(trimmed, bool):
            raise ProgramFileError(f"{source}: [pump] catheter_trimmed_cm must be a number")
        kwargs["catheter_trimmed_cm"] = _finite(trimmed, "catheter_trimmed_cm", source)
    if "systematic_error_pct" in pump:
        err = pump["systematic_error_pct"]
        if not isinstance(err, int | float) or isinstance(err, bool):
            raise ProgramFileError(f"{source}: [pump] systematic_error_pct must be a number")
        kwargs["systematic_error"] = float(_finite(err, "systematic_error_pct", source) / 100)
    try:
        return HardwareSpec(**kwargs)
    except ValueError as exc:
        raise ProgramFileError(f"{source}: [pump] {exc}") from None


def _basal(t: dict[str, Any], source: str) -> Basal:
    mode = _text(t, "mode", "therapy", source)
    if mode == "stopped":
        return Stopped()
    if mode == "minimum rate":
        return MinimumRate()
    if mode == "continuous":
        return Continuous(_qty(t, "dose", Kind.DOSE_RATE, "therapy", source))
    if mode == "flex":
        if "week" in t:
            week = t["week"]
            if not isinstance(week, dict) or set(week) != set(WEEKDAYS):
                raise ProgramFileError(f"{source}: [therapy.week] needs all of {WEEKDAYS}")
            return Flex(tuple(_steps(week[d], f"therapy.week.{d}", source) for d in WEEKDAYS))
        if "steps" not in t:
            raise ProgramFileError(f"{source}: flex therapy needs [[therapy.steps]] or "
                                   "[therapy.week]")
        return Flex((_steps(t["steps"], "therapy.steps", source),))
    raise ProgramFileError(f"{source}: [therapy] mode {mode!r} is not one of continuous, flex, "
                           "minimum rate, stopped")


def _steps(raw: Any, where: str, source: str) -> tuple[FlexStep, ...]:
    if not isinstance(raw, list) or not raw:
        raise ProgramFileError(f"{source}: [{where}] must be a list of steps")
    steps = []
    for item in raw:
        if not isinstance(item, dict):
            raise ProgramFileError(f"{source}: [{where}] each step is {{start, dose}}")
        _known(item, "step", where, source)
        start = _text(item, "start", where, source)
        parts = start.split(":")
        if len(parts) != 2 or not all(len(p) == 2 for p in parts):
            raise ProgramFileError(f"{source}: [{where}] start {start[:8]!r} is not HH:MM")
        hh = parse_whole(parts[0], f"[{where}] start hour", 0, 23)
        mm = parse_whole(parts[1], f"[{where}] start minute", 0, 59)
        steps.append(FlexStep(hh * 60 + mm, _qty(item, "dose", Kind.DOSE_RATE, where, source)))
    return tuple(steps)


def _table(data: dict[str, Any], key: str, source: str, required: bool = True) -> (
    dict[str, Any]
):
    value = data.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise ProgramFileError(f"{source}: missing [{key}] section")
    _known(value, key, key, source)
    return value


def _known(table: dict[str, Any], kind: str, where: str, source: str) -> None:
    """Refuse a key the section does not know: a misspelt option is never silently ignored."""
    unknown = sorted(set(table) - KEYS[kind])
    if unknown:
        raise ProgramFileError(f"{source}: [{where}] unknown key(s) {unknown[:4]}; allowed "
                               f"{sorted(KEYS[kind])}")


def _finite(value: int | float, key: str, source: str) -> Fraction:
    """A TOML number as an exact Fraction; inf, nan and sizes beyond 10^6 are refused."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ProgramFileError(f"{source}: [pump] {key} must be a finite number, not {value}")
    if abs(value) > 10**6:
        raise ProgramFileError(f"{source}: [pump] {key} is beyond +/-10^6")
    return exact(value)


def _text(t: dict[str, Any], key: str, section: str, source: str) -> str:
    value = t.get(key)
    if not isinstance(value, str) or not value:
        raise ProgramFileError(f"{source}: [{section}] {key} must be given as text")
    return value


def _qty(t: dict[str, Any], key: str, kind: Kind, section: str, source: str) -> Quantity:
    value = t.get(key)
    if not isinstance(value, str):
        raise ProgramFileError(f"{source}: [{section}] {key} must be text with a unit, like "
                               f"\"{_EXAMPLE[kind]}\"")
    quantity = parse_quantity(value, kind, what=f"[{section}] {key}")
    if key in POSITIVE and not quantity.is_positive():
        raise ProgramFileError(f"{source}: [{section}] {key} must be above zero, not {quantity}")
    if quantity.base < 0:
        raise ProgramFileError(f"{source}: [{section}] {key} must not be negative, not {quantity}")
    return quantity


_EXAMPLE = {
    Kind.VOLUME: "20 mL", Kind.CONCENTRATION: "10 mg/mL", Kind.DOSE_RATE: "1.5 mg/day",
    Kind.MASS: "0.1 mg", Kind.TIME: "10 min", Kind.FLOW: "0.5 mL/day",
}
