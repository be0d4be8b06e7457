"""The clinician's observations file (TOML; format in docs/programmer.md and
examples/advice/patient.toml): pain diary (time, NRS 0-10), sedation (POSS 1-4) and
respiratory-rate readings with times, side-effect burden, oral morphine, the clinician's bounds
(mapped onto `ClinicianBounds`), optionally a carried controller state file.

`load_observations` reads and checks it; every problem is an `AdvisoryError` naming the entry.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from idds.control.bounds import ClinicianBounds
from idds.programmer.advisory.common import AdvisoryError
from idds.units import Kind, parse_quantity


@dataclass(frozen=True)
class TimedEntry:
    """One timed entry: an aware datetime and a value (NRS, POSS, breaths/min or burden)."""

    time: dt.datetime
    value: float
    source: str = ""


@dataclass(frozen=True)
class ClinicalInput:
    """What the clinician entered (see docs/programmer.md, "Advisory mode")."""

    diary: tuple[TimedEntry, ...]
    sedation: tuple[TimedEntry, ...]
    respiratory: tuple[TimedEntry, ...]
    side_effects: tuple[TimedEntry, ...]
    oral_mg_per_day: float
    oral_rescue_mg: float
    bounds: ClinicianBounds
    clinician: str | None = None
    state_file: Path | None = None


_TOP = {"clinician", "patient", "bounds", "controller", "diary", "sedation", "respiratory_rate",
        "side_effects"}
_PATIENT = {"oral_morphine", "oral_rescue"}
_CONTROLLER = {"state"}
_BOUNDS = {"max_daily_dose", "min_daily_dose", "max_step_percent", "max_week_increase_percent",
           "max_daily_decrease_percent", "max_bolus", "max_boluses_per_day", "min_lockout",
           "monitoring", "min_flex", "max_flex", "allow_soft_limits", "stale_diary_days",
           "min_diary_entries"}
#: Entry tables: (value key, low, high, whole number).
_ENTRIES = {"diary": ("nrs", 0.0, 10.0, False), "sedation": ("poss", 1.0, 4.0, True),
            "respiratory_rate": ("per_min", 1.0, 60.0, False),
            "side_effects": ("burden", 0.0, 10.0, False)}


def _keys(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise AdvisoryError(f"{where}: unknown key {unknown[0]!r}; allowed: "
                            + ", ".join(sorted(allowed)))


def _table(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise AdvisoryError(f"[{name}] must be a table")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AdvisoryError(f"{where} must be a number, got {str(value)[:24]!r}")
    if abs(value) > 10**15 or not math.isfinite(value):  # a TOML integer has no size limit
        raise AdvisoryError(f"{where} must be a finite number within +/-10^15")
    return float(value)


def _time(value: Any, where: str) -> dt.datetime:
    """A TOML datetime or ISO text; without an offset it is local time. Returned aware."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise AdvisoryError(f"{where}: {value!r} is not a date and time "
                                "(like 2026-03-01T08:00)") from None
    if not isinstance(value, dt.datetime):
        raise AdvisoryError(f"{where}: a date and time is needed (like 2026-03-01T08:00)")
    return value.astimezone()


def parse_time(text: str) -> dt.datetime:
    """The visit time (`--now`): ISO text, local time without an offset."""
    return _time(text, "--now")


def _quantity(table: Mapping[str, Any], key: str, kind: Kind, unit: str, where: str,
              default: float | None = None) -> float:
    """A quantity field in `unit`; a daily dose (unit per day) must be written per day, so
    "6 mg/h" for a daily dose is refused, never read as 144 mg/day silently."""
    value = table.get(key)
    if value is None:
        if default is None:
            raise AdvisoryError(f"{where}.{key} is required (text with its unit)")
        return default
    if not isinstance(value, str):
        raise AdvisoryError(f"{where}.{key} must be text with its unit, like \"8 mg/day\"")
    parsed = parse_quantity(value, kind, what=f"{where}.{key}")
    if unit.endswith("/day") and not parsed.unit.symbol.endswith("/day"):
        raise AdvisoryError(
            f"{where}.{key} = {value!r} is not per day: a daily dose is written per day, like "
            f"\"{parsed.to(unit).display(unit)}\" (check the per-hour and per-day figures)")
    return float(parsed.value_in(unit))


def _entries(data: Mapping[str, Any], name: str) -> tuple[TimedEntry, ...]:
    key, low, high, whole = _ENTRIES[name]
    raw = data.get(name, [])
    if not isinstance(raw, list):
        raise AdvisoryError(f"[[{name}]] must be a list of tables")
    out = []
    for index, item in enumerate(raw):
        where = f"{name}[{index + 1}]"
        if not isinstance(item, dict):
            raise AdvisoryError(f"{where} must be a table")
        _keys(item, {"time", key, "source"}, where)
        if key not in item:
            raise AdvisoryError(f"{where} needs {key}")
        value = _number(item[key], f"{where}.{key}")
        if not low <= value <= high or (whole and value != int(value)):
            kind = "a whole number " if whole else ""
            raise AdvisoryError(f"{where}.{key} = {value:g} is outside {kind}{low:g}-{high:g}")
        source = item.get("source", "")
        if not isinstance(source, str):
            raise AdvisoryError(f"{where}.source must be text")
        out.append(TimedEntry(_time(item.get("time"), f"{where}.time"), value, source))
    return tuple(sorted(out, key=lambda r: r.time))


def _bounds(table: Mapping[str, Any]) -> ClinicianBounds:
    _keys(table, _BOUNDS, "[bounds]")
    base = ClinicianBounds()
    w = "bounds"

    def pct(key: str, default: float) -> float:
        return _number(table[key], f"{w}.{key}") / 100.0 if key in table else default

    def num(key: str, default: float) -> float:
        return _number(table[key], f"{w}.{key}") if key in table else default

    allow = table.get("allow_soft_limits", [])
    if not (isinstance(allow, list) and all(isinstance(a, str) for a in allow)):
        raise AdvisoryError("bounds.allow_soft_limits must be a list of limit names")
    maxb = num("max_boluses_per_day", base.max_boluses_per_day)
    if maxb != int(maxb) or maxb < 0:
        raise AdvisoryError("bounds.max_boluses_per_day must be a whole number >= 0")
    _check_bounds(table, base)
    try:
        return ClinicianBounds(
            min_daily_mg=_quantity(table, "min_daily_dose", Kind.DOSE_RATE, "mg/day", w, 0.0),
            max_daily_mg=_quantity(table, "max_daily_dose", Kind.DOSE_RATE, "mg/day", w),
            max_bolus_mg=_quantity(table, "max_bolus", Kind.MASS, "mg", w, base.max_bolus_mg),
            max_boluses_per_day=int(maxb),
            min_lockout_min=_quantity(table, "min_lockout", Kind.TIME, "min", w,
                                      base.min_lockout_min),
            max_flex=num("max_flex", base.max_flex),
            min_flex=num("min_flex", base.min_flex),
            max_increase_per_day=pct("max_step_percent", base.max_increase_per_day),
            max_increase_per_week=pct("max_week_increase_percent", base.max_increase_per_week),
            max_decrease_per_day=pct("max_daily_decrease_percent", base.max_decrease_per_day),
            monitoring_hours=_quantity(table, "monitoring", Kind.TIME, "h", w,
                                       base.monitoring_hours),
            stale_diary_days=num("stale_diary_days", base.stale_diary_days),
            min_diary_entries=num("min_diary_entries", base.min_diary_entries),
            allowed_soft_limits=frozenset(allow),
        )
    except ValueError as exc:
        raise AdvisoryError(f"[bounds]: {exc}") from None


def _check_bounds(table: Mapping[str, Any], base: ClinicianBounds) -> None:
    """The bounds' own consistency rules, said with the file's field names."""
    w = "bounds"
    low = _quantity(table, "min_daily_dose", Kind.DOSE_RATE, "mg/day", w, 0.0)
    high = _quantity(table, "max_daily_dose", Kind.DOSE_RATE, "mg/day", w)
    if low > high:
        raise AdvisoryError(f"{w}.min_daily_dose must not be above {w}.max_daily_dose")
    for key in ("max_step_percent", "max_week_increase_percent"):
        if key in table and _number(table[key], f"{w}.{key}") < 0:
            raise AdvisoryError(f"{w}.{key} must be 0 or more")
    key = "max_daily_decrease_percent"
    if key in table and not 0 <= _number(table[key], f"{w}.{key}") <= 100:
        raise AdvisoryError(f"{w}.{key} must be 0 to 100")
    lowest = _number(table["min_flex"], f"{w}.min_flex") if "min_flex" in table else base.min_flex
    highest = _number(table["max_flex"], f"{w}.max_flex") if "max_flex" in table else base.max_flex
    if not 0 <= lowest <= 1 <= highest:
        raise AdvisoryError(f"{w}.min_flex and {w}.max_flex must satisfy 0 <= min_flex <= 1 <= "
                            "max_flex (hourly multipliers of the basal rate)")


def parse_observations(data: Mapping[str, Any], base: Path) -> ClinicalInput:
    """The clinician's observations from parsed TOML; `base` resolves a relative state path."""
    _keys(data, _TOP, "observations file")
    patient = _table(data, "patient")
    _keys(patient, _PATIENT, "[patient]")
    controller = _table(data, "controller")
    _keys(controller, _CONTROLLER, "[controller]")
    clinician = data.get("clinician")
    if clinician is not None and (not isinstance(clinician, str) or not clinician.strip()):
        raise AdvisoryError("clinician must be a name (text)")
    state = controller.get("state")
    if state is not None and not isinstance(state, str):
        raise AdvisoryError("[controller].state must be a file path (text)")
    return ClinicalInput(
        diary=_entries(data, "diary"),
        sedation=_entries(data, "sedation"),
        respiratory=_entries(data, "respiratory_rate"),
        side_effects=_entries(data, "side_effects"),
        oral_mg_per_day=_quantity(patient, "oral_morphine", Kind.DOSE_RATE, "mg/day",
                                  "patient"),
        oral_rescue_mg=_quantity(patient, "oral_rescue", Kind.MASS, "mg", "patient", 0.0),
        bounds=_bounds(_table(data, "bounds")),
        clinician=clinician.strip() if isinstance(clinician, str) else None,
        state_file=(base / state) if isinstance(state, str) else None,
    )


def load_observations(path: Path) -> ClinicalInput:
    """Read and check an observations file (`AdvisoryError` names what is wrong)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AdvisoryError(f"observations file {path} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AdvisoryError(f"observations file {path} cannot be read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AdvisoryError(f"observations file {path} is not valid TOML: {exc}") from None
    return parse_observations(data, Path(path).parent)


