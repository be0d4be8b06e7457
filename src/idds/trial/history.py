"""Per-patient daily records of a trial arm, and the observations arms may see.

The engine adds each step's outputs into one `DayAccumulator` and closes it at midnight into a
row of `History` (arrays of shape (days, n)). Controllers never see the virtual patient's
hidden state: `observe` builds `Observations` only from what a real system records (diary,
remote presses given and refused, nurse or wearable sedation and respiratory rate, reported
side-effect burden). Each day also has every symptom's CTCAE grade (`History.grades`) and the
symptom inventory's items (`History.inventory`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from idds.control.observations import Observations
from idds.control.prescription import HOURS
from idds.physiology.symptoms import N_ITEMS, N_SYMPTOMS, Symptom

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Daily fields recorded per patient: name -> what it holds.
DAILY_FIELDS: dict[str, str] = {
    "pain_mean": "mean perceived pain over the day, NRS 0-10",
    "controlled_fraction": "share of the day with pain NRS <= 3",
    "waking_controlled_fraction": "share of the waking day (06:00-22:00) with pain NRS <= 3",
    "time_in_target": "share of the waking day in target: pain NRS <= 3 on a day without a "
    "treatment-related side effect at CTCAE grade >= 2 (`TARGET_SIDE_EFFECTS`), else 0",
    "severe_fraction": "share of the day with pain NRS >= 7",
    "toxicity_composite": "composite toxicity: sum of the day's CTCAE grades of the ten "
    "treatment-related toxicities (0-33)",
    "side_effect_burden": "worst dose-limiting side effect of the day (nausea, vomiting, "
    "somnolence, confusion, pruritus, urinary retention), patient-reported 0-10",
    "respiratory_events": "onsets of respiratory depression (rate below 8/min)",
    "severe_side_effect": "1 if a treatment-related side effect (`TARGET_SIDE_EFFECTS`) "
    "reached CTCAE grade >= 3 that day (`SEVERE_GRADE`), else 0",
    "presses": "patient remote presses",
    "refused": "patient remote presses refused by the pump",
    "given": "patient boluses given",
    "it_mg": "intrathecal morphine delivered, mg",
    "oral_mg": "oral morphine taken (around the clock + rescue), mg",
    "diary_sum": "sum of the day's diary NRS entries",
    "diary_count": "number of diary entries",
    "sedation_max": "highest POSS sedation score (1-4)",
    "respiratory_rate_min": "lowest respiratory rate, breaths/min",
    "withdrawal_max": "highest withdrawal score, 0-10",
    "it_programmed_mg_per_day": "programmed intrathecal morphine basal dose that day, mg/day",
    "oral_programmed_mg_per_day": "prescribed around-the-clock oral morphine that day, mg/day",
    "rescue_prescribed_mg": "oral morphine rescue dose prescribed that day, mg (0: none)",
    "plasma_mean": "mean plasma morphine (equivalent) over the day, ng/mL",
    "woken_night": "1 if pain woke the patient in the night (22:00-06:00), else 0",
    "intake": "share of usual eating, 0-1",
    "weight_kg": "body weight at the end of the day, kg",
}
#: The treatment-related side effects that take a day out of target at CTCAE grade >= 2
#: (`TARGET_GRADE`): the opioid's own, which a change of dose or route can move (constipation,
#: nausea, vomiting, somnolence, confusion, pruritus, urinary retention, respiratory
#: depression). Fatigue and lack of appetite, graded in the composite on their whole intensity,
#: are left out here because in the virtual patients they are mostly the cancer's own burden
#: (docs/physiology.md); counting them would measure the disease, not the therapy (IDDS
#: decision, docs/trial.md "Time in target").
TARGET_SIDE_EFFECTS = (Symptom.CONSTIPATION, Symptom.NAUSEA, Symptom.VOMITING,
                       Symptom.SOMNOLENCE, Symptom.CONFUSION, Symptom.PRURITUS,
                       Symptom.URINARY_RETENTION, Symptom.RESPIRATORY_DEPRESSION)
TARGET_GRADE = 2
#: CTCAE grade 3: severe or medically significant, limiting self-care (CTCAE v5.0): the
#: grade at which trials of these pumps report a side effect as a serious safety outcome.
SEVERE_GRADE = 3


def time_in_target(waking_controlled_fraction: Array, grades: NDArray[np.int8]) -> Array:
    """The day's time in target per patient (n,): the waking share with pain NRS <= 3, or 0
    on a day with a `TARGET_SIDE_EFFECTS` grade >= `TARGET_GRADE` (grades (N_SYMPTOMS, n))."""
    limited = grades[list(TARGET_SIDE_EFFECTS)].max(axis=0) >= TARGET_GRADE
    out: Array = np.where(limited, 0.0, waking_controlled_fraction)
    return out


def severe_side_effect(grades: NDArray[np.int8]) -> Array:
    """1 where a `TARGET_SIDE_EFFECTS` grade reached `SEVERE_GRADE` that day, else 0, per
    patient (n,) from the day's grades (N_SYMPTOMS, n)."""
    out: Array = (grades[list(TARGET_SIDE_EFFECTS)].max(axis=0) >= SEVERE_GRADE).astype(
        np.float64)
    return out


def grade_day(row: dict[str, Array], grades: NDArray[np.int8]) -> None:
    """Add the day's outcomes that follow from its grades (N_SYMPTOMS, n) to its row:
    `time_in_target` and `severe_side_effect`."""
    row["time_in_target"] = time_in_target(row["waking_controlled_fraction"], grades)
    row["severe_side_effect"] = severe_side_effect(grades)


#: Per-step sums of one day that feed the day's symptoms but are not kept (exposures at the
#: sites, morphine-equivalent ng/mL, gut mg, and sedation 0-1).
EXPOSURE_SUMS = ("supraspinal", "spinal", "gut_mg", "sedation")
#: Fields closed as means over the day's steps.
_MEANS = ("pain_mean", "controlled_fraction", "severe_fraction", "plasma_mean")


@dataclass
class DayAccumulator:
    """Sums over the steps of one day for n patients (reset at each midnight)."""

    n: int
    values: dict[str, Array] = field(default_factory=dict)
    exposure: dict[str, Array] = field(default_factory=dict)
    steps: int = 0
    waking_steps: int = 0

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.steps = 0
        self.waking_steps = 0
        for name in DAILY_FIELDS:
            self.values[name] = np.zeros(self.n)
        for name in EXPOSURE_SUMS:
            self.exposure[name] = np.zeros(self.n)
        self.values["sedation_max"][:] = 1.0
        self.values["respiratory_rate_min"][:] = np.inf

    def close(self) -> tuple[dict[str, Array], dict[str, Array]]:
        """The day's row (sums turned into means and fractions where they are defined so) and
        the day's mean exposures (`EXPOSURE_SUMS`)."""
        steps = max(self.steps, 1)
        row = {name: value.copy() for name, value in self.values.items()}
        for name in _MEANS:
            row[name] /= steps
        row["waking_controlled_fraction"] /= max(self.waking_steps, 1)
        means = {name: value / steps for name, value in self.exposure.items()}
        self.reset()
        return row, means


@dataclass
class History:
    """Daily rows for n patients over the days simulated so far (float32 to save memory)."""

    n: int
    days: int
    rows: dict[str, NDArray[np.float32]] = field(default_factory=dict)
    filled: int = 0
    #: Presses and refused presses by hour of day over the last `hour_window` days, shape
    #: (hour_window, n, 24) (rings indexed by day).
    presses_by_hour: NDArray[np.float32] = field(init=False)
    refused_by_hour: NDArray[np.float32] = field(init=False)
    hour_window: int = 7

    #: CTCAE grade of every symptom per day, (days, N_SYMPTOMS, n), -1 where not recorded.
    grades: NDArray[np.int8] = field(init=False)
    #: Symptom inventory items per day, (days, N_ITEMS, n), 0-10.
    inventory: NDArray[np.float32] = field(init=False)

    def __post_init__(self) -> None:
        for name in DAILY_FIELDS:
            self.rows[name] = np.zeros((self.days, self.n), dtype=np.float32)
        shape = (self.hour_window, self.n, HOURS)
        self.presses_by_hour = np.zeros(shape, dtype=np.float32)
        self.refused_by_hour = np.zeros(shape, dtype=np.float32)
        self.grades = np.full((self.days, N_SYMPTOMS, self.n), -1, dtype=np.int8)
        self.inventory = np.zeros((self.days, N_ITEMS, self.n), dtype=np.float32)

    def append(self, row: dict[str, Array], presses_by_hour: Array, refused_by_hour: Array,
               grades: NDArray[np.int8], inventory: Array) -> None:
        day = self.filled
        for name, values in row.items():
            self.rows[name][day] = values
        self.grades[day] = grades
        self.inventory[day] = inventory
        self.presses_by_hour[day % self.hour_window] = presses_by_hour
        self.refused_by_hour[day % self.hour_window] = refused_by_hour
        self.filled += 1

    def window(self, name: str, days: int) -> NDArray[np.float32]:
        """The last `days` rows of a field, shape (k, n), k <= days."""
        start = max(0, self.filled - days)
        return self.rows[name][start:self.filled]


def observe(history: History, window_days: int = 3) -> Observations:
    """Observations at the end of the last recorded day."""
    if history.filled == 0:
        raise ValueError("no day recorded yet")
    diary_sum = history.window("diary_sum", window_days).sum(axis=0, dtype=np.float64)
    diary_n = history.window("diary_count", window_days).sum(axis=0, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        diary_mean = np.where(diary_n > 0, diary_sum / diary_n, np.nan)
    counts = history.rows["diary_count"][: history.filled]
    has_entry = counts > 0
    last = np.where(has_entry.any(axis=0), history.filled - 1 - np.argmax(has_entry[::-1], axis=0),
                    -1)
    since = np.where(last >= 0, history.filled - 1 - last, np.inf).astype(np.float64)
    k = history.window("presses", window_days).shape[0]
    yesterday = history.filled - 1
    return Observations(
        day=yesterday,
        window_days=window_days,
        diary_mean_nrs=diary_mean,
        diary_entries=diary_n,
        days_since_diary=since,
        presses_per_day=history.window("presses", window_days).sum(axis=0) / k,
        refused_per_day=history.window("refused", window_days).sum(axis=0) / k,
        presses_by_hour=history.presses_by_hour.sum(axis=0, dtype=np.float64),
        refused_by_hour=history.refused_by_hour.sum(axis=0, dtype=np.float64),
        sedation_max=history.rows["sedation_max"][yesterday].astype(np.float64),
        respiratory_rate_min=history.rows["respiratory_rate_min"][yesterday].astype(np.float64),
        side_effect_burden=history.window("side_effect_burden", window_days).mean(axis=0,
                                                                             dtype=np.float64),
        side_effect_reports=np.isfinite(history.window("side_effect_burden", window_days)).sum(
            axis=0, dtype=np.float64),
        respiratory_events=history.window("respiratory_events", window_days).sum(
            axis=0, dtype=np.float64),
    )
