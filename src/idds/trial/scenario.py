"""Scenario files: events a researcher schedules on top of the model's own randomness, as
simglucose users schedule meals, and the robustness scenarios built from them. Each kind is for
every patient or listed ones:

- `[[breakthrough]]`: a breakthrough-pain episode starting at a time of day on given trial
  days (its size and duration are the patient's own, from the model);
- `[[missing_diary]]`: trial days on which the patient writes no diary entry (the controllers
  and clinic visits then see missing data); with `fraction`, each of those patient-days is
  missing with that probability (seeded per patient and day);
- `[diary]`: `noise_sd_nrs`, the SD of the reporting noise of every diary entry (replaces the
  model's `BehaviourParams.diary_noise_sd_nrs`);
- `[remote]`: `presses = "never"` (the patient never presses) or `"at-lockout-end"` (presses
  whenever awake and a bolus is available: the moment each lockout ends; at the daily maximum
  once every half hour) instead of the model's pain-driven presses;
- `[progression]`: `multiplier`, applied to each patient's disease progression (NRS/day);
- `[pump]`: `flow_error`, every pump's systematic flow error (0.14: delivers 14% more than
  programmed) instead of the drawn one; the pump's own estimate still follows the program;
- `[[obstruction]]`: trial days on which nothing the pump delivers reaches the CSF (an occluded
  or leaking catheter) while the pump believes it delivers (its reservoir empties as
  programmed); the drug is lost, not released later (assumption).

The built-in robustness scenarios (`BUILT_IN`, files under `idds/trial/data/scenarios/`) are
these kinds; `resolve_scenario` takes a file or one of their names.

Example (docs/controllers.md has the worked one, examples/scenarios/ the files)::

    name = "evening incident pain, diary missed at weekends"
    [[breakthrough]]
    time = "18:30"          # local time of day, HH:MM
    days = "every"          # or a list of trial days, 1 = the first day after the run-in
    patients = "all"        # or a list of cohort indices (0-based)
    [[missing_diary]]
    days = [6, 7, 13, 14]
    patients = [0, 1, 2]

Unknown keys, times that are not HH:MM, day 0 or below and negative patients are refused with
the file and the field named.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from idds.errors import IddsError
from idds.physiology import Cohort
from idds.physiology.behaviour import diary_entry
from idds.physiology.parameters import BEHAVIOUR, SYMPTOMS
from idds.physiology.streams import uniform
from idds.pump.errors import Limit
from idds.pump.twin import GIVEN, PumpArrays, TwinProgram, code_of, would_answer

MINUTES_PER_DAY = 1440
Mask = NDArray[np.bool_]
Array = NDArray[np.float64]
#: Random stream of the missing-diary draws (`fraction`), per patient and trial day (physiology
#: streams use < 1000, the pump draws 2001); one more per `[[missing_diary]]` entry.
MISSING_DIARY_STREAM = 2101
#: Code of a press refused at the daily maximum (pressed again only on the half hour).
_AT_MAXIMUM = code_of(Limit.MAX_PER_24H_REACHED)
Presses = Literal["model", "never", "at-lockout-end"]


class ScenarioError(IddsError):
    """A scenario file that cannot be used; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


Days = Literal["every"] | list[int]
Patients = Literal["all"] | list[int]


class _Breakthrough(_Strict):
    time: str
    days: Days = "every"
    patients: Patients = "all"

    @field_validator("time")
    @classmethod
    def _time(cls, value: str) -> str:
        minute_of_day(value)
        return value


class _MissingDiary(_Strict):
    days: Days
    patients: Patients = "all"
    fraction: float = Field(default=1.0, gt=0.0, le=1.0)


class _Diary(_Strict):
    noise_sd_nrs: float = Field(ge=0.0, le=5.0)


class _Remote(_Strict):
    presses: Presses
    patients: Patients = "all"


class _Progression(_Strict):
    multiplier: float = Field(ge=0.0, le=50.0)
    patients: Patients = "all"


class _Pump(_Strict):
    flow_error: float = Field(ge=-0.5, le=0.5)
    patients: Patients = "all"


class _Obstruction(_Strict):
    days: list[int] = Field(min_length=1)
    patients: Patients = "all"


class _File(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    breakthrough: list[_Breakthrough] = []
    missing_diary: list[_MissingDiary] = []
    obstruction: list[_Obstruction] = []
    diary: _Diary | None = None
    remote: _Remote | None = None
    progression: _Progression | None = None
    pump: _Pump | None = None

    @field_validator("breakthrough", "missing_diary", "obstruction")
    @classmethod
    def _ranges(cls, events: list[_Breakthrough] | list[_MissingDiary] | list[_Obstruction]
                ) -> list[_Breakthrough] | list[_MissingDiary] | list[_Obstruction]:
        for event in events:
            _check_days_patients(event.days, event.patients)
        return events

    @field_validator("remote", "progression", "pump")
    @classmethod
    def _patients(cls, part: _Remote | _Progression | _Pump | None
                  ) -> _Remote | _Progression | _Pump | None:
        if part is not None:
            _check_days_patients("every", part.patients)
        return part


def _check_days_patients(days: Days, patients: Patients) -> None:
    if isinstance(days, list) and any(d < 1 for d in days):
        raise ValueError("days are trial days, 1 or more")
    if isinstance(patients, list) and any(p < 0 for p in patients):
        raise ValueError("patients are cohort indices, 0 or more")


def minute_of_day(text: str) -> int:
    """'18:30' -> 1110; ValueError unless HH:MM with ASCII digits in range."""
    hours, sep, minutes = text.partition(":")
    if (sep != ":" or len(hours) != 2 or len(minutes) != 2 or not (hours + minutes).isascii()
            or not (hours + minutes).isdigit() or int(hours) > 23 or int(minutes) > 59):
        raise ValueError(f"time {text!r} must be HH:MM, 00:00 to 23:59")
    return int(hours) * 60 + int(minutes)


def _set(value: list[int] | str) -> frozenset[int] | None:
    return None if isinstance(value, str) else frozenset(value)


def _mask(patients: frozenset[int] | None, indices: NDArray[np.int64]) -> Mask:
    if patients is None:
        return np.ones(indices.shape, dtype=bool)
    return np.isin(indices, np.fromiter(patients, dtype=np.int64))


@dataclass(frozen=True)
class Event:
    """Trial days (1-based; None: every day) and cohort indices (None: all) of one event;
    `minute` is the time of day of a breakthrough onset (None otherwise); `fraction` the
    probability that a listed patient-day is missing (missing diaries; 1: every one)."""

    days: frozenset[int] | None
    patients: frozenset[int] | None
    minute: int | None = None
    fraction: float = 1.0

    def applies(self, day: int) -> bool:
        return self.days is None or day in self.days

    def mask(self, indices: NDArray[np.int64]) -> Mask:
        return _mask(self.patients, indices)


@dataclass(frozen=True)
class Change:
    """A change of the model for the cohort indices in `patients` (None: all): a value (an SD,
    a multiplier, a flow error) or a remote behaviour."""

    value: float | str
    patients: frozenset[int] | None

    def mask(self, indices: NDArray[np.int64]) -> Mask:
        return _mask(self.patients, indices)


@dataclass(frozen=True)
class DayEvents:
    """What a scenario changes on one trial day, for one batch (the engine's per-day view).

    onsets: step -> patients whose scheduled episode starts then; no_diary: patients writing no
    diary today (None: nobody); obstructed: patients whose catheter delivers nothing today
    (None: nobody); diary_sd: (SD in NRS points, patients) of the diary noise, or None;
    remote: (behaviour, patients) of the remote presses, or None.
    """

    onsets: dict[int, Mask]
    no_diary: Mask | None = None
    obstructed: Mask | None = None
    diary_sd: tuple[float, Mask] | None = None
    remote: tuple[str, Mask] | None = None

    def reaching_csf(self, delivered_mg: Array) -> Array:
        """The pump's delivery that reaches the CSF: none where the catheter is obstructed."""
        if self.obstructed is None:
            return delivered_mg
        out: Array = np.where(self.obstructed, 0.0, delivered_mg)
        return out

    def diary(self, diary: Array, pain_nrs: Array, keys: NDArray[np.uint64], counter: int
              ) -> Array:
        """Today's diary entries: missing where no diary is written; redrawn with the
        scenario's noise SD (the model's own draw, `counter`, scaled) where it sets one."""
        if self.diary_sd is not None:
            sd, who = self.diary_sd
            diary = np.where(who, diary_entry(pain_nrs, keys, counter, sd), diary)
        if self.no_diary is not None:
            diary = np.where(self.no_diary, np.nan, diary)
        return diary

    def presses(self, wants: Mask, pumps: PumpArrays, program: TwinProgram, t_min: float
                ) -> Mask:
        """Remote presses: the model's (`wants`) unless the scenario sets a behaviour."""
        if self.remote is None:
            return wants
        how, who = self.remote
        if how == "never":
            return wants & ~who
        minute = t_min % MINUTES_PER_DAY
        awake = SYMPTOMS.night_end_min <= minute < SYMPTOMS.night_start_min
        if not awake:
            return wants & ~who
        answer = would_answer(pumps, t_min, program)
        retry = minute % BEHAVIOUR.press_interval_min < 1e-9
        eager = (answer == GIVEN) | ((answer == _AT_MAXIMUM) & retry)
        out: Mask = np.where(who, eager, wants)
        return out


@dataclass(frozen=True)
class Scenario:
    """A loaded scenario (immutable, picklable for the trial's workers)."""

    name: str
    description: str
    breakthrough: tuple[Event, ...]
    missing_diary: tuple[Event, ...]
    obstruction: tuple[Event, ...] = ()
    diary_sd: Change | None = None
    remote: Change | None = None
    progression: Change | None = None
    flow_error: Change | None = None

    def onsets(self, day: int, dt_min: float, indices: NDArray[np.int64]) -> dict[int, Mask]:
        """Step number within trial `day` -> patients whose scheduled episode starts then."""
        out: dict[int, Mask] = {}
        for event in self.breakthrough:
            if event.minute is not None and event.applies(day):
                step = int(event.minute // dt_min)
                found = event.mask(indices)
                out[step] = out[step] | found if step in out else found
        return out

    def diary_missing(self, day: int, indices: NDArray[np.int64], keys: NDArray[np.uint64]
                      ) -> Mask:
        """Patients who write no diary entry on trial `day` (a `fraction` below 1 is drawn
        per patient and day from `MISSING_DIARY_STREAM`, the same in every arm)."""
        missing = np.zeros(indices.shape, dtype=bool)
        for k, event in enumerate(self.missing_diary):
            if event.applies(day):
                found = event.mask(indices)
                if event.fraction < 1.0:
                    found &= uniform(keys, MISSING_DIARY_STREAM + k, day) < event.fraction
                missing |= found
        return missing

    def obstructed(self, day: int, indices: NDArray[np.int64]) -> Mask | None:
        """Patients whose catheter delivers nothing on trial `day` (None: nobody)."""
        found = [event.mask(indices) for event in self.obstruction if event.applies(day)]
        return np.logical_or.reduce(found) if found else None

    def day(self, day: int, dt_min: float, indices: NDArray[np.int64],
            keys: NDArray[np.uint64]) -> DayEvents:
        """Everything this scenario changes on trial `day` for the patients `indices`."""
        missing = self.diary_missing(day, indices, keys)
        return DayEvents(
            onsets=self.onsets(day, dt_min, indices),
            no_diary=missing if missing.any() else None,
            obstructed=self.obstructed(day, indices),
            diary_sd=(None if self.diary_sd is None
                      else (float(self.diary_sd.value), self.diary_sd.mask(indices))),
            remote=(None if self.remote is None
                    else (str(self.remote.value), self.remote.mask(indices))))

    def cohort(self, cohort: Cohort) -> Cohort:
        """The cohort with the scenario's disease progression (its cached propagators kept:
        they do not depend on the pain process)."""
        if self.progression is None:
            return cohort
        factor = np.where(self.progression.mask(cohort.indices),
                          float(self.progression.value), 1.0)
        pain = replace(cohort.pain,
                       progression_nrs_per_day=cohort.pain.progression_nrs_per_day * factor)
        return replace(cohort, pain=pain)

    def flow_errors(self, drawn: Array, indices: NDArray[np.int64]) -> Array:
        """Each pump's systematic flow error: the scenario's where it sets one, else `drawn`."""
        if self.flow_error is None:
            return drawn
        out: Array = np.where(self.flow_error.mask(indices), float(self.flow_error.value),
                              drawn)
        return out


#: The built-in robustness scenarios: name -> file in `idds/trial/data/scenarios/`.
BUILT_IN: tuple[str, ...] = (
    "missing-diaries-30", "noisy-diary", "never-press", "press-at-lockout-end",
    "fast-progression", "pump-flow-high-14", "catheter-obstruction",
)


def resolve_scenario(given: Path) -> Scenario:
    """A scenario file, or a built-in scenario by name (`BUILT_IN`); `ScenarioError` naming
    the known ones for anything else."""
    if Path(given).is_file():
        return load_scenario(given)
    name = str(given)
    if name in BUILT_IN:
        text = resources.files("idds.trial").joinpath(f"data/scenarios/{name}.toml")
        return _parse(text.read_text(encoding="utf-8"), f"built-in scenario {name}")
    raise ScenarioError(f"--scenario {name}: no such file and no built-in scenario of that "
                        f"name; built-in: {', '.join(BUILT_IN)}")


def load_scenario(path: Path) -> Scenario:
    """Read and check a scenario file; `ScenarioError` naming the file and field."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"no scenario file {path}") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path} is not a TOML file: {exc}") from None
    return _parse(text, str(path))


def _parse(text: str, where_from: str) -> Scenario:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{where_from} is not a TOML file: {exc}") from None
    try:
        data = _File.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "file"
        raise ScenarioError(f"{where_from}: {where}: {first['msg']}") from None

    def change(value: float | str, patients: Patients) -> Change:
        return Change(value, _set(patients))

    return Scenario(
        data.name, data.description,
        tuple(Event(_set(e.days), _set(e.patients), minute_of_day(e.time))
              for e in data.breakthrough),
        tuple(Event(_set(e.days), _set(e.patients), fraction=e.fraction)
              for e in data.missing_diary),
        obstruction=tuple(Event(_set(e.days), _set(e.patients)) for e in data.obstruction),
        diary_sd=None if data.diary is None else change(data.diary.noise_sd_nrs, "all"),
        remote=(None if data.remote is None or data.remote.presses == "model"
                else change(data.remote.presses, data.remote.patients)),
        progression=(None if data.progression is None
                     else change(data.progression.multiplier, data.progression.patients)),
        flow_error=(None if data.pump is None
                    else change(data.pump.flow_error, data.pump.patients)),
    )
