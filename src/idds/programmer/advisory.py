"""Advisory mode in the clinician programmer: observations in, advice on screen, decision logged.

One patient (n = 1). The observations come from two places:
- the pump, over the link: the therapy, drug and concentration (interrogation) and the event
  log (patient presses given and refused with their times; program changes, for the
  monitoring window after the last increase and the lowest basal dose of the last 7 days);
- a clinician-entered TOML file (`load_observations`, format in docs/programmer.md and
  examples/advice/patient.toml): pain diary (time, NRS 0-10), sedation (POSS 1-4) and
  respiratory-rate readings with times, side-effect burden, oral morphine, the clinician's
  bounds (mapped onto `ClinicianBounds`), optionally a carried controller state file.

`prepare` builds `Observations` (n = 1), runs the chosen controller and the safety supervisor
(pure functions from `idds.control`) and returns an `AdvisoryRun`: the `Advice`, the therapy
acceptance would program (the supervisor's, never more), the data used and what was missing.
Missing or stale entries reach the supervisor as NaN (never filled). `accept_advice` sends the
advised therapy through the normal path (`Programmer.plan_therapy` with the drug-library
checks, the finish screen, the confirm step, `send_therapy`); `reject_advice` sends nothing.
Both append an "advice" entry to the programmer's device log. Pure except the two async
functions and `save_state` (the CLI passes the clock).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from idds.control.advice import Advice, ClinicianDecision, Setting, accept, advise, reject
from idds.control.bounds import ClinicianBounds, LibraryLimits
from idds.control.breathing import BreathingEstimate
from idds.control.daily import DailyState
from idds.control.estimator import ResponseEstimate, predict
from idds.control.intelligent import IntelligentController, IntelligentState
from idds.control.interlock import assess
from idds.control.interlock import describe as describe_signals
from idds.control.observations import Observations
from idds.control.prescription import HOURS
from idds.control.prescription import Prescription as ControlTherapy
from idds.control.recommendation import Recommendation
from idds.control.rules import PRACTICE, RuleBasedController, RuleState
from idds.control.supervisor import WEEK, Check, SupervisorState, describe, supervise
from idds.drugs import DrugLibrary
from idds.errors import IddsError
from idds.link.atomic import read_json, write_json
from idds.programmer.api import LogDownload, Programmer
from idds.programmer.plans import TherapyPlan, TherapyRequest
from idds.programmer.status import PumpStatus
from idds.pump import (
    LIMITS,
    Continuous,
    DemandBolus,
    EventKind,
    Flex,
    FlexStep,
    LogEntry,
    Stopped,
    Therapy,
)
from idds.units import Kind, Quantity, parse_quantity

Array = NDArray[np.float64]

CONTROLLERS = ("intelligent", "rule-based")
#: The drug the controllers' dose-response and oral:IT ladder are for.
DRUG = "morphine"
#: Diary, presses per day and side-effect burden are averaged over this many days (as in trials).
WINDOW_DAYS = 3
#: Sedation and respiratory readings older than this are stale (the controllers read
#: "yesterday's" highest POSS and lowest rate).
READING_HOURS = 24.0
DAY_S = 86_400.0
#: Programmed rates and doses are rounded DOWN to this (mg/day, mg): never above the supervisor.
RESOLUTION = 1000
#: Flex shapes closer to flat than this (largest |multiplier - 1|) are programmed continuous.
FLAT = 0.02
#: Flex steps programmed at most (the pump takes 13 a day).
MAX_STEPS = 12
STATE_FORMAT = "idds-advice-state/1"


class AdvisoryError(IddsError):
    """Bad advisory input (observations file, options, state file) or a pump it cannot use."""


# -- the clinician's observations file ------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    """One timed entry: an aware datetime and a value (NRS, POSS, breaths/min or burden)."""

    time: dt.datetime
    value: float
    source: str = ""


@dataclass(frozen=True)
class ClinicalInput:
    """What the clinician entered (see docs/programmer.md, "Advisory mode")."""

    diary: tuple[Reading, ...]
    sedation: tuple[Reading, ...]
    respiratory: tuple[Reading, ...]
    side_effects: tuple[Reading, ...]
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
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AdvisoryError(f"{where} must be a number, got {value!r}")
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
    value = table.get(key)
    if value is None:
        if default is None:
            raise AdvisoryError(f"{where}.{key} is required (text with its unit)")
        return default
    if not isinstance(value, str):
        raise AdvisoryError(f"{where}.{key} must be text with its unit, like \"8 mg/day\"")
    return float(parse_quantity(value, kind, what=f"{where}.{key}").value_in(unit))


def _entries(data: Mapping[str, Any], name: str) -> tuple[Reading, ...]:
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
        out.append(Reading(_time(item.get("time"), f"{where}.time"), value, source))
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


# -- what the pump's log tells -------------------------------------------------------------------


@dataclass(frozen=True)
class PumpHistory:
    """From the pump's log, relative to pump time `now_s` (s).

    presses_by_hour, refused_by_hour: (24,) patient presses (given or refused) and refused ones
    by pump hour of day over the last 7 days; presses_window, refused_window: in the last
    WINDOW_DAYS days; hours_since_increase: since the last program change that raised the
    basal dose or bolus allowance (or started therapy), None if none; lowest_daily_mg: lowest
    running basal dose over the last 7 days, mg/day (a start from stopped counts from the
    started dose, as `SupervisorState.start`; 0 where a logged dose is unreadable).
    """

    now_s: float
    presses_by_hour: Array
    refused_by_hour: Array
    presses_window: int
    refused_window: int
    hours_since_increase: float | None
    lowest_daily_mg: float

    @property
    def day(self) -> int:
        return int(self.now_s // DAY_S)


_CONT = re.compile(r"^continuous (\S+ \S+)")
_FLEX = re.compile(r"^flex daily \[([^\]]*)\]")
_STEP = re.compile(r"^(\d\d):(\d\d) (\S+ \S+)$")
_BOLUS = re.compile(r"patient bolus (\S+ \S+) over .*?max (\d+)/24 h")


def logged_daily_mg(text: str) -> float | None:
    """Basal mg/day of a logged therapy description; 0 when stopped, unconfirmed or at the
    minimum rate; None when it cannot be read (weekly flex, another unit)."""
    try:
        if text.startswith(("stopped", "minimum rate", "unconfirmed")):
            return 0.0
        if m := _CONT.match(text):
            return float(parse_quantity(m.group(1), Kind.DOSE_RATE).value_in("mg/day"))
        if m := _FLEX.match(text):
            steps = [_STEP.match(s.strip()) for s in m.group(1).split(";")]
            if not all(steps):
                return None
            starts = [int(s.group(1)) * 60 + int(s.group(2)) for s in steps if s]
            rates = [float(parse_quantity(s.group(3), Kind.DOSE_RATE).value_in("mg/day"))
                     for s in steps if s]
            ends = [*starts[1:], 1440]
            return sum(r * (e - b) for r, b, e in zip(rates, starts, ends, strict=True)) / 1440
    except IddsError:
        return None
    return None


def logged_allowance_mg(text: str) -> float:
    """Patient bolus dose x boluses per 24 h of a logged therapy description, mg (0: none)."""
    m = _BOLUS.search(text)
    if not m or text.startswith("unconfirmed"):
        return 0.0
    try:
        return float(parse_quantity(m.group(1), Kind.MASS).value_in("mg")) * int(m.group(2))
    except IddsError:
        return 0.0


def _raised(old: str, new: str) -> bool:
    """Whether a logged program change raised the dose (unreadable: counted as raised)."""
    before, after = logged_daily_mg(old), logged_daily_mg(new)
    if before is None or after is None:
        return True
    return (after > before * (1 + 1e-9) or
            logged_allowance_mg(new) > logged_allowance_mg(old) * (1 + 1e-9) + 1e-12)


def pump_history(entries: tuple[LogEntry, ...] | list[LogEntry], now_s: float,
                 current_daily_mg: float) -> PumpHistory:
    """Presses by hour, the last increase and the week's lowest basal from the pump's log."""
    by_hour, refused_hour = np.zeros(HOURS), np.zeros(HOURS)
    presses = refused = 0
    last_up: float | None = None
    lowest = current_daily_mg
    for e in entries:
        t = float(e.time)
        age = now_s - t
        if e.kind is EventKind.PROGRAM_CHANGED:
            old, new = e.detail("old") or "", e.detail("new") or ""
            if _raised(old, new):
                last_up = t
            before = logged_daily_mg(old)
            if age <= WEEK * DAY_S and before != 0.0:  # a stopped pump is no running dose
                lowest = min(lowest, 0.0 if before is None else before)
            continue
        given = e.kind is EventKind.BOLUS_STARTED and e.detail("kind") == "patient"
        denied = e.kind is EventKind.BOLUS_REFUSED and e.detail("command") == "patient bolus"
        if not (given or denied) or age < 0:
            continue
        hour = int((t % DAY_S) // 3600)
        if age <= WEEK * DAY_S:
            by_hour[hour] += 1
            refused_hour[hour] += denied
        if age <= WINDOW_DAYS * DAY_S:
            presses += 1
            refused += denied
    since = None if last_up is None else (now_s - last_up) / 3600.0
    return PumpHistory(now_s, by_hour, refused_hour, presses, refused, since, lowest)


# -- therapy: pump <-> control ------------------------------------------------------------------


def _hourly_mg(therapy: Therapy) -> Array:
    """Mean basal rate in each hour of the day, mg/day (zeros when stopped)."""
    basal = therapy.basal
    if isinstance(basal, Continuous):
        return np.full(HOURS, float(basal.dose_rate.value_in("mg/day")))
    if isinstance(basal, Flex):
        if len(basal.days) != 1:
            raise AdvisoryError("weekly flex schedules are not supported in advisory mode")
        minute = np.zeros(1440)
        for start, end, rate in basal.spans():
            minute[start:end] = float(rate.value_in("mg/day"))
        out: Array = minute.reshape(HOURS, 60).mean(axis=1)
        return out
    return np.zeros(HOURS)


def control_therapy(therapy: Therapy, oral_mg_per_day: float, oral_rescue_mg: float
                    ) -> ControlTherapy:
    """The pump's therapy as a control `Therapy` (n = 1)."""
    hourly = _hourly_mg(therapy)
    daily = float(hourly.mean())
    flex = hourly / daily if daily > 0 else np.ones(HOURS)
    d = therapy.demand
    return ControlTherapy(
        oral_mg_per_day=np.array([oral_mg_per_day]),
        oral_rescue_mg=np.array([oral_rescue_mg]),
        it_mg_per_day=np.array([daily]),
        flex=flex[None, :].astype(np.float64),
        bolus_mg=np.array([float(d.dose.value_in("mg")) if d else 0.0]),
        lockout_min=np.array([float(d.lockout.value_in("min")) if d else 60.0]),
        max_boluses_per_day=np.array([d.max_per_24h if d else 0], dtype=np.int64),
    )


def _down(value: float) -> Fraction:
    """Rounded down to 1/RESOLUTION (never above what was allowed)."""
    return Fraction(math.floor(value * RESOLUTION + 1e-6), RESOLUTION)


def _segments(rates: list[float]) -> list[tuple[int, int, Fraction]]:
    """Hourly rates (mg/day) -> at most MAX_STEPS (start h, end h, rate) segments, merging the
    closest neighbours into their time-weighted mean, rates rounded down."""
    segs: list[tuple[int, int, Fraction]] = []
    for h, r in enumerate(rates):
        q = _down(r)
        if segs and segs[-1][2] == q:
            segs[-1] = (segs[-1][0], h + 1, q)
        else:
            segs.append((h, h + 1, q))
    while len(segs) > MAX_STEPS:
        i = min(range(len(segs) - 1), key=lambda k: abs(segs[k][2] - segs[k + 1][2]))
        (a0, a1, ra), (_, b1, rb) = segs[i], segs[i + 1]
        mean = (ra * (a1 - a0) + rb * (b1 - a1)) / (b1 - a0)
        segs[i:i + 2] = [(a0, b1, _down(float(mean)))]
    return segs


def pump_therapy(setting: Setting, current: Therapy) -> Therapy:
    """What to program for an advised `Setting`: rates and doses rounded down (mg), lockout
    rounded up (min); unchanged parts keep the current quantities."""
    if setting == Setting.of(control_therapy(current, 0.0, 0.0), 0):
        return current
    basal: Stopped | Continuous | Flex
    rates = [setting.daily_mg * m for m in setting.flex]
    if setting.daily_mg <= 0:
        basal = Stopped()
    elif max(abs(m - 1.0) for m in setting.flex) <= FLAT:
        basal = Continuous(Quantity.of(_down(setting.daily_mg), "mg/day"))
    else:
        segs = _segments(rates)
        if len(segs) == 1:
            basal = Continuous(Quantity.of(segs[0][2], "mg/day"))
        else:
            basal = Flex((tuple(FlexStep(a * 60, Quantity.of(r, "mg/day"))
                                for a, _, r in segs),))
    d = current.demand
    demand = None
    if setting.bolus_mg > 0 and setting.max_boluses_per_day >= 1:
        dose = (d.dose if d and abs(float(d.dose.value_in("mg")) - setting.bolus_mg) < 1e-9
                else Quantity.of(_down(setting.bolus_mg), "mg"))
        lockout = (d.lockout if d and abs(float(d.lockout.value_in("min"))
                                             - setting.lockout_min) < 1e-9
                   else Quantity.of(math.ceil(setting.lockout_min - 1e-9), "min"))
        duration = d.duration if d else Quantity.of(10, "min")
        demand = DemandBolus(dose, duration, lockout, setting.max_boluses_per_day)
    return Therapy(basal, demand)


# -- observations (n = 1) ----------------------------------------------------------------------


def build_observations(clinical: ClinicalInput, history: PumpHistory, now: dt.datetime
                       ) -> tuple[Observations, tuple[str, ...]]:
    """`Observations` for one patient and a line per input saying what was used or missing.
    Stale or absent entries are NaN (the supervisor treats them as missing)."""
    for name in ("diary", "sedation", "respiratory", "side_effects"):
        for r in getattr(clinical, name):
            if r.time > now:
                raise AdvisoryError(f"{name} entry at {r.time.isoformat()} is after the visit "
                                    f"time {now.isoformat()}")
    window = now - dt.timedelta(days=WINDOW_DAYS)
    recent = now - dt.timedelta(hours=READING_HOURS)
    diary = [r.value for r in clinical.diary if r.time > window]
    notes = []
    if clinical.diary:
        last = clinical.diary[-1].time
        since_days = float(math.floor((now - last) / dt.timedelta(days=1)))
        age = f"last {(now - last) / dt.timedelta(hours=1):.1f} h ago"
    else:
        since_days, age = math.inf, "none entered"
    if diary:
        notes.append(f"Pain diary: mean NRS {np.mean(diary):.1f} from {len(diary)} entries in "
                     f"{WINDOW_DAYS} days ({age})")
    else:
        notes.append(f"Pain diary: MISSING (no entry in the last {WINDOW_DAYS} days; {age})")

    def latest(readings: tuple[Reading, ...], pick: Callable[[list[float]], float],
               what: str, unit: str) -> float:
        values = [r.value for r in readings if r.time > recent]
        if not values:
            stale = " (older readings are stale)" if readings else ""
            notes.append(f"{what}: MISSING (none in the last {READING_HOURS:.0f} h){stale}")
            return math.nan
        value = pick(values)
        notes.append(f"{what}: {value:g}{unit} ({len(values)} readings in "
                     f"{READING_HOURS:.0f} h)")
        return value

    sedation = latest(clinical.sedation, max, "Sedation (highest POSS)", "")
    rate = latest(clinical.respiratory, min, "Respiratory rate (lowest)", "/min")
    burden_values = [r.value for r in clinical.side_effects if r.time > window]
    burden = float(np.mean(burden_values)) if burden_values else math.nan
    notes.append(f"Side-effect burden: {burden:.1f}/10" if burden_values else
                 f"Side-effect burden: MISSING (none in the last {WINDOW_DAYS} days)")
    events = sum(1 for r in clinical.respiratory if r.time > window and r.value < 8)
    k = min(history.day + 1, WINDOW_DAYS)
    notes.append(f"Remote presses (pump log): {history.presses_window} in {WINDOW_DAYS} days "
                 f"({history.refused_window} refused); {int(history.presses_by_hour.sum())} "
                 "in 7 days")

    def one(x: float) -> Array:
        return np.array([x], dtype=np.float64)

    obs = Observations(
        day=history.day,
        window_days=WINDOW_DAYS,
        diary_mean_nrs=one(float(np.mean(diary)) if diary else math.nan),
        diary_entries=one(len(diary)),
        days_since_diary=one(since_days),
        presses_per_day=one(history.presses_window / k),
        refused_per_day=one(history.refused_window / k),
        presses_by_hour=history.presses_by_hour[None, :].astype(np.float64),
        refused_by_hour=history.refused_by_hour[None, :].astype(np.float64),
        sedation_max=one(sedation),
        respiratory_rate_min=one(rate),
        side_effect_burden=one(burden),
        respiratory_events=one(events),
    )
    return obs, tuple(notes)


def supervisor_state(history: PumpHistory, therapy: ControlTherapy) -> SupervisorState:
    """The supervisor's memory rebuilt from the pump's log: the last increase and the week's
    lowest basal dose. No alarm is latched between visits (the clinician present decides)."""
    day = history.day
    since = history.hours_since_increase
    last = -math.inf if since is None else day - since / 24.0
    return SupervisorState(
        day=day - 1,
        last_increase_day=np.array([last]),
        recent_daily_mg=np.full((WEEK, 1), min(history.lowest_daily_mg,
                                               float(therapy.it_mg_per_day[0]))),
        latched=np.zeros(1, dtype=np.int64),
        alarm_cap_mg=np.array([math.inf]),
        pre_alarm_mg=np.zeros(1),
    )


# -- the controller's carried state (a JSON file) ---------------------------------------------

_STATE_TYPES: dict[str, type] = {cls.__name__: cls for cls in (
    IntelligentState, DailyState, ResponseEstimate, BreathingEstimate, RuleState)}
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
    if not isinstance(record, dict) or record.get("format") != STATE_FORMAT:
        raise AdvisoryError(f"state file {path} is not an advisory state ({STATE_FORMAT})")
    if record.get("pump_id") != pump_id or record.get("controller") != controller:
        raise AdvisoryError(f"state file {path} is for pump {record.get('pump_id')} and the "
                            f"{record.get('controller')} controller, not {pump_id} / "
                            f"{controller}")
    saved = record.get("day")
    if not isinstance(saved, int) or saved > day:
        raise AdvisoryError(f"state file {path} is from pump day {saved}, after today ({day})")
    try:
        state = _decode(record["before" if saved == day else "after"])
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


def _catch_up(state: Any, days: int, model: Any) -> Any:
    """Days without a visit: the intelligent estimate drifts one predict step a day."""
    if isinstance(state, IntelligentState) and state.started and days > 1:
        response = state.response
        for _ in range(days - 1):
            response = predict(response, model)
        return dataclasses.replace(state, response=response)
    return state


# -- one advice --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdvisoryRun:
    """One advice for the pump's patient, and everything needed to show, accept or log it."""

    status: PumpStatus
    controller: str
    advice: Advice
    observations: Observations
    data_notes: tuple[str, ...]
    interlock: tuple[str, ...]
    checks: tuple[tuple[str, bool, str], ...]
    current: Therapy
    proposed: Therapy
    state: dict[str, Any]
    resumed: bool

    @property
    def changes(self) -> bool:
        """Whether acceptance would change the pump's program."""
        return self.proposed != self.current


def _controller(name: str, bounds: ClinicianBounds, library: LibraryLimits
                ) -> IntelligentController | RuleBasedController:
    step = bounds.max_increase_per_day
    if library.max_increase_fraction is not None and not bounds.allows(
            library.max_increase_fraction):
        step = min(step, library.max_increase_fraction.value)
    if name == "intelligent":
        return IntelligentController(max_step=step, max_bolus_mg=bounds.max_bolus_mg,
                                     max_boluses_per_day=bounds.max_boluses_per_day,
                                     min_daily_mg=bounds.min_daily_mg,
                                     min_rate_mg_per_day=bounds.min_rate_mg_per_day)
    if name == "rule-based":
        return RuleBasedController(titration=replace(PRACTICE, increase=step),
                                   min_daily_mg=bounds.min_daily_mg)
    raise AdvisoryError(f"unknown controller {name!r}; use intelligent or rule-based")


def pump_day(status: PumpStatus) -> int:
    """The pump's day number (pump time // 1 day), the controllers' day index."""
    time_s = status.raw.get("time_s")
    if isinstance(time_s, bool) or not isinstance(time_s, int | float):
        raise AdvisoryError("the pump's answer has no time")
    return int(float(time_s) // DAY_S)


def check_controller(name: str) -> None:
    if name not in CONTROLLERS:
        raise AdvisoryError(f"unknown controller {name!r}; use intelligent or rule-based")


def prepare(status: PumpStatus, log: LogDownload, clinical: ClinicalInput, controller: str,
            library: DrugLibrary, now: dt.datetime, carried: Any | None) -> AdvisoryRun:
    """Observations -> controller -> supervisor -> advice (pure; nothing is sent)."""
    check_controller(controller)
    if not log.verified:
        raise AdvisoryError(f"the pump's log does not verify ({log.reason}): no advice from it")
    if status.drug != DRUG or status.concentration is None:
        raise AdvisoryError(f"advisory mode is for intrathecal morphine; the pump holds "
                            f"{status.drug_text}")
    if status.therapy_drug not in (None, DRUG):
        raise AdvisoryError("the pump's therapy is not confirmed for the drug in it: program "
                            "it first")
    conc = float(status.concentration.value_in("mg/mL"))
    min_rate = LIMITS.min_flow_nl_per_day / 1e6 * conc  # mL/day x mg/mL
    bounds = dataclasses.replace(clinical.bounds, min_rate_mg_per_day=min_rate)
    limits = LibraryLimits.from_drug(library.drug(DRUG))
    current = control_therapy(status.therapy, clinical.oral_mg_per_day, clinical.oral_rescue_mg)
    pump_day(status)
    history = pump_history(log.entries, float(status.raw["time_s"]),
                           float(current.it_mg_per_day[0]))
    obs, notes = build_observations(clinical, history, now)
    ctl = _controller(controller, bounds, limits)
    raw: Any = carried if carried is not None else ctl.initial(current)
    if isinstance(raw, IntelligentState) != isinstance(ctl, IntelligentController):
        raise AdvisoryError("the carried state is not the chosen controller's")
    saved_day = int(getattr(getattr(raw, "daily", raw), "day", obs.day - 1))
    model = ctl.model if isinstance(ctl, IntelligentController) else None
    start = _catch_up(raw, obs.day - saved_day, model)
    rec: Recommendation
    rec, after = ctl.recommend(start, obs, current)
    decision, _ = supervise(supervisor_state(history, current), obs, current, rec, bounds,
                            limits)
    advice = advise(rec, decision, current, 0, obs.day)
    mask = int(decision.checks[0])
    checks = tuple((CHECK_LABELS.get(flag, str(flag.name)), bool(mask & flag), _check_text(flag))
                   for flag in Check if flag is not Check.NONE)
    reading = assess(obs, bounds.interlock)
    return AdvisoryRun(
        status=status, controller=controller, advice=advice, observations=obs,
        data_notes=notes, interlock=tuple(describe_signals(int(reading.signals[0]))),
        checks=checks, current=status.therapy,
        proposed=pump_therapy(advice.allowed, status.therapy),
        state=state_record(status.pump_id, controller, obs.day, now.isoformat(), raw, after),
        resumed=carried is not None,
    )


#: What each supervisor check looks at, for the "checks applied" list.
CHECK_LABELS = {
    Check.INVALID: "recommendation well formed",
    Check.HARD_LIMIT: "drug library hard limits",
    Check.SOFT_LIMIT: "drug library soft limits",
    Check.CLINICIAN_BOUND: "clinician's bounds",
    Check.MAX_INCREASE_DAY: "increase per change",
    Check.MAX_INCREASE_WEEK: "increase over the week's lowest dose",
    Check.MAX_DECREASE_DAY: "decrease per day",
    Check.MONITORING_WINDOW: "monitoring window after the last increase (pump log)",
    Check.STALE_DIARY: "diary recent and complete",
    Check.INTERLOCK_WARNING: "interlock: sedation and breathing",
    Check.ALARM_NEW: "interlock alarm",
    Check.ALARM_LATCHED: "latched alarm",
    Check.FLEX_BOUND: "flex multipliers within the clinician's range",
    Check.RESTART: "pump running (a restart is the clinician's)",
}


def _check_text(flag: Check) -> str:
    texts = describe(int(flag))
    return texts[0] if texts else ""


# -- screens as rows -----------------------------------------------------------------------------


def _mg(x: float, unit: str) -> str:
    return f"{x:.4g} {unit}"


def setting_rows(run: AdvisoryRun) -> list[tuple[str, str, str, str]]:
    """(setting, current, recommended, to program) rows; per DAY and per HOUR separate."""
    a = run.advice
    out: list[tuple[str, str, str, str]] = []

    def row(name: str, get: Callable[[Setting], str]) -> None:
        out.append((name, get(a.current), get(a.recommended), get(a.allowed)))

    def mode(s: Setting) -> str:
        if s.daily_mg <= 0:
            return "stopped"
        flat = max(abs(m - 1.0) for m in s.flex) <= FLAT
        return "continuous" if flat else "flex (see by hour)"

    row("Basal dose per DAY (mg/day)", lambda s: _mg(s.daily_mg, "mg/day"))
    row("Basal dose per HOUR (mg/h)", lambda s: _mg(s.daily_mg / 24, "mg/h"))
    row("Mode", mode)
    row("Patient bolus dose (mg)",
        lambda s: _mg(s.bolus_mg, "mg") if s.max_boluses_per_day else "off")
    row("Lockout (min)", lambda s: f"{s.lockout_min:g} min" if s.max_boluses_per_day else "-")
    row("Max boluses per 24 h", lambda s: str(s.max_boluses_per_day))
    row("Most per day (basal + all boluses)",
        lambda s: _mg(s.daily_mg + s.bolus_mg * s.max_boluses_per_day, "mg/day"))
    program = run.proposed.describe() if run.changes else "(no change)"
    out.append(("Program sent on acceptance", run.current.describe(), "-", program))
    return out


def flex_rows(run: AdvisoryRun) -> list[tuple[str, str, str, str]]:
    """(hour, current, recommended, to program) basal rates by hour of day as mg/day rates
    with the multiplier; empty when no column has a flex shape."""
    a = run.advice
    shaped = [s for s in (a.current, a.recommended, a.allowed)
              if s.daily_mg > 0 and max(abs(m - 1.0) for m in s.flex) > FLAT]
    if not shaped:
        return []
    sent = _hourly_mg(run.proposed)

    def cell(s: Setting, h: int) -> str:
        return f"{s.daily_mg * s.flex[h]:.3f} mg/day rate (x{s.flex[h]:.2f})"

    return [(f"{h:02d}:00", cell(a.current, h), cell(a.recommended, h),
             f"{sent[h]:.3f} mg/day rate") for h in range(HOURS)]


def advice_summary(run: AdvisoryRun) -> dict[str, Any]:
    """The advice as plain data (JSON output and the device log)."""
    a = run.advice

    def setting(s: Setting) -> dict[str, Any]:
        return {"daily_mg_per_day": round(s.daily_mg, 6),
                "hourly_mg_per_h": round(s.daily_mg / 24, 6),
                "flex": [round(m, 4) for m in s.flex], "bolus_mg": round(s.bolus_mg, 6),
                "lockout_min": s.lockout_min, "max_boluses_per_day": s.max_boluses_per_day}

    return {
        "pump": run.status.pump_id,
        "controller": run.controller,
        "pump_day": a.day,
        "current": setting(a.current),
        "recommended": setting(a.recommended),
        "allowed": setting(a.allowed),
        "reason": a.reason.name.lower(),
        "reason_text": a.reason_text,
        "verdict": a.verdict.name.lower(),
        "limits": list(a.limits),
        "interlock": list(run.interlock),
        "predicted_nrs": None if a.predicted_nrs is None else round(a.predicted_nrs, 2),
        "data": list(run.data_notes),
        "program": run.proposed.describe() if run.changes else None,
        "state_resumed": run.resumed,
    }


# -- the decision ----------------------------------------------------------------------------------


def log_decision(prog: Programmer, run: AdvisoryRun, decision: ClinicianDecision | None,
                 device: str, **extra: Any) -> dict[str, Any]:
    """Append the "advice" entry (outcome shown / accepted / rejected) to the device log."""
    summary = advice_summary(run)
    return prog.log.append(
        "advice",
        outcome=decision.outcome.value if decision else "shown",
        clinician=decision.clinician if decision else None,
        device=device,
        decided_at=decision.at if decision else None,
        reason=(decision.note or None) if decision else None,
        pump=run.status.pump_id,
        controller=run.controller,
        recommendation=summary["recommended"],
        allowed=summary["allowed"],
        advice_reason=run.advice.reason_text,
        verdict=summary["verdict"],
        limits=summary["limits"],
        predicted_nrs=summary["predicted_nrs"],
        program=summary["program"],
        **extra,
    )


@dataclass(frozen=True)
class AcceptOutcome:
    """What acceptance did: the finish plan and the pump's answer (None: nothing to send)."""

    decision: ClinicianDecision
    plan: TherapyPlan | None
    result: dict[str, Any] | None


async def gather(prog: Programmer) -> tuple[PumpStatus, LogDownload]:
    """Interrogate and read the whole log (reads only)."""
    status = await prog.interrogate()
    return status, await prog.read_log()


async def accept_advice(prog: Programmer, run: AdvisoryRun, clinician: str, at: str,
                        device: str, finish: Callable[[TherapyPlan], None]) -> AcceptOutcome:
    """Accept: program what the supervisor allowed through the normal path (library checks,
    finish screen, `finish` shows it and confirms or raises). Logged either way."""
    decision = accept(run.advice, clinician, at)
    if not run.changes:
        log_decision(prog, run, decision, device, programmed=False,
                     note="the advice keeps the current program: nothing to send")
        await record_on_pump(prog, run, decision, device)
        return AcceptOutcome(decision, None, None)
    conc = run.status.concentration
    assert conc is not None  # checked in prepare
    request = TherapyRequest(DRUG, conc, run.proposed)
    try:
        plan = await prog.plan_therapy(request)
        finish(plan)
        result = await prog.send_therapy(plan)
    except IddsError as exc:
        log_decision(prog, run, decision, device, programmed=False, refused=str(exc))
        raise
    log_decision(prog, run, decision, device, programmed=True, pump_result=dict(result))
    await record_on_pump(prog, run, decision, device)
    return AcceptOutcome(decision, plan, dict(result))


async def reject_advice(prog: Programmer, run: AdvisoryRun, clinician: str, at: str,
                        device: str, reason: str) -> ClinicianDecision:
    """Reject with a reason: no therapy is sent; the rejection is logged on both sides."""
    decision = reject(run.advice, clinician, at, reason)
    log_decision(prog, run, decision, device, programmed=False)
    await record_on_pump(prog, run, decision, device)
    return decision


async def record_on_pump(prog: Programmer, run: AdvisoryRun, decision: ClinicianDecision,
                         device: str) -> None:
    """The decision in the pump's own log too (an annotation: it changes nothing there)."""
    summary = advice_summary(run)
    advice = (f"{run.controller}: {summary['reason']}; verdict {summary['verdict']}; "
              f"program {summary['program']}")
    await prog.record_advice(decision.outcome.value, decision.clinician, device, advice,
                             decision.note or None)


__all__ = [
    "CONTROLLERS",
    "AcceptOutcome",
    "AdvisoryError",
    "AdvisoryRun",
    "ClinicalInput",
    "PumpHistory",
    "Reading",
    "accept_advice",
    "advice_summary",
    "build_observations",
    "check_controller",
    "control_therapy",
    "flex_rows",
    "gather",
    "load_observations",
    "load_state",
    "log_decision",
    "parse_observations",
    "parse_time",
    "prepare",
    "pump_day",
    "pump_history",
    "pump_therapy",
    "record_on_pump",
    "reject_advice",
    "save_state",
    "setting_rows",
    "state_path",
    "state_record",
]
