"""Scenario files: events a researcher schedules on top of the model's own randomness, as
simglucose users schedule meals. Two kinds, each for every patient or listed ones:

- `[[breakthrough]]`: a breakthrough-pain episode starting at a time of day on given trial
  days (its size and duration are the patient's own, from the model);
- `[[missing_diary]]`: trial days on which the patient writes no diary entry (the controllers
  and clinic visits then see missing data).

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
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from idds.errors import IddsError

MINUTES_PER_DAY = 1440
Mask = NDArray[np.bool_]


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


class _File(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    breakthrough: list[_Breakthrough] = []
    missing_diary: list[_MissingDiary] = []

    @field_validator("breakthrough", "missing_diary")
    @classmethod
    def _ranges(cls, events: list[_Breakthrough] | list[_MissingDiary]
                ) -> list[_Breakthrough] | list[_MissingDiary]:
        for event in events:
            if isinstance(event.days, list) and any(d < 1 for d in event.days):
                raise ValueError("days are trial days, 1 or more")
            if isinstance(event.patients, list) and any(p < 0 for p in event.patients):
                raise ValueError("patients are cohort indices, 0 or more")
        return events


def minute_of_day(text: str) -> int:
    """'18:30' -> 1110; ValueError unless HH:MM with ASCII digits in range."""
    hours, sep, minutes = text.partition(":")
    if (sep != ":" or len(hours) != 2 or len(minutes) != 2 or not (hours + minutes).isascii()
            or not (hours + minutes).isdigit() or int(hours) > 23 or int(minutes) > 59):
        raise ValueError(f"time {text!r} must be HH:MM, 00:00 to 23:59")
    return int(hours) * 60 + int(minutes)


def _set(value: list[int] | str) -> frozenset[int] | None:
    return None if isinstance(value, str) else frozenset(value)


@dataclass(frozen=True)
class Event:
    """Trial days (1-based; None: every day) and cohort indices (None: all) of one event;
    `minute` is the time of day of a breakthrough onset (None for a missing diary)."""

    days: frozenset[int] | None
    patients: frozenset[int] | None
    minute: int | None = None

    def applies(self, day: int) -> bool:
        return self.days is None or day in self.days

    def mask(self, indices: NDArray[np.int64]) -> Mask:
        if self.patients is None:
            return np.ones(indices.shape, dtype=bool)
        return np.isin(indices, np.fromiter(self.patients, dtype=np.int64))


@dataclass(frozen=True)
class Scenario:
    """A loaded scenario file (immutable, picklable for the trial's workers)."""

    name: str
    description: str
    breakthrough: tuple[Event, ...]
    missing_diary: tuple[Event, ...]

    def onsets(self, day: int, dt_min: float, indices: NDArray[np.int64]) -> dict[int, Mask]:
        """Step number within trial `day` -> patients whose scheduled episode starts then."""
        out: dict[int, Mask] = {}
        for event in self.breakthrough:
            if event.minute is not None and event.applies(day):
                step = int(event.minute // dt_min)
                found = event.mask(indices)
                out[step] = out[step] | found if step in out else found
        return out

    def diary_missing(self, day: int, indices: NDArray[np.int64]) -> Mask:
        """Patients who write no diary entry on trial `day`."""
        missing = np.zeros(indices.shape, dtype=bool)
        for event in self.missing_diary:
            if event.applies(day):
                missing |= event.mask(indices)
        return missing


def load_scenario(path: Path) -> Scenario:
    """Read and check a scenario file; `ScenarioError` naming the file and field."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"no scenario file {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path} is not a TOML file: {exc}") from None
    try:
        data = _File.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "file"
        raise ScenarioError(f"{path}: {where}: {first['msg']}") from None
    return Scenario(
        data.name, data.description,
        tuple(Event(_set(e.days), _set(e.patients), minute_of_day(e.time))
              for e in data.breakthrough),
        tuple(Event(_set(e.days), _set(e.patients)) for e in data.missing_diary))
