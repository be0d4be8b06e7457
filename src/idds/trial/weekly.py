"""Weekly series of one arm for metrics.json and the report (means over the patients alive
that week; week 0 is the baseline run-in day on the prior oral regimen).

Week k >= 1 is trial days 7(k-1) .. 7k-1 (the last week may be shorter). Each value is the
mean over the patient-days alive in the week; a share is the share of those patient-days
(prevalence of a symptom at grade >= 1 or >= 2 is its point prevalence averaged over the
week). `alive_fraction` is the share of the cohort alive on the week's last day.

A batch keeps only the sums and counts (`WeeklySums`), which add across batches: a cohort
of any size needs no more memory for its weekly series than one patient.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from idds.physiology.parameters import SYMPTOMS
from idds.physiology.symptoms import Item, Symptom
from idds.trial.engine import Baseline

Array = NDArray[np.float64]

#: Keys of `arms[ARM]["weekly"]` in metrics.json, with what each holds.
WEEKLY_KEYS: dict[str, str] = {
    "weeks": "week number, 0 = the baseline day on the prior oral regimen",
    "patients_alive": "patients alive on the week's last day",
    "alive_fraction": "share of the cohort alive on the week's last day",
    "pain_mean": "mean pain, NRS 0-10",
    "it_mg_per_day": "intrathecal morphine delivered, mg/day",
    "oral_mg_per_day": "oral morphine taken (around the clock + rescue), mg/day",
    "ome_mg_per_day": "oral morphine equivalent, oral + IT x the library's IT factor (300), "
    "mg/day",
    "toxicity_composite": "composite toxicity: sum of the CTCAE grades of the ten "
    "treatment-related toxicities",
    "off_systemic_fraction": "share of patient-days with no systemic (oral) opioid",
    "undetectable_plasma_fraction": "share of patient-days with mean plasma morphine below "
    f"{SYMPTOMS.detectable_plasma_ng_per_ml:g} ng/mL (undetectable, Brogan 2020)",
    "nights_without_waking_fraction": "share of nights not woken by pain",
    "intake": "share of usual eating",
    "weight_kg": "body weight, kg",
    "withdrawal_episode_fraction": "share of patient-days with a withdrawal score >= 3",
    "respiratory_events_per_100_patient_days": "respiratory depression onsets (below 8/min) "
    "per 100 patient-days alive",
    "prevalence_grade1": "per symptom: share of patient-days at CTCAE grade >= 1",
    "prevalence_grade2": "per symptom: share of patient-days at CTCAE grade >= 2",
    "inventory": "per symptom-inventory item (MDASI-like, 0-10): mean",
}

#: Per-symptom or per-item keys: metrics.json nests them by label.
NESTED = ("prevalence_grade1", "prevalence_grade2", "inventory")

Rows = dict[str, Array]
#: The weekly means, each from a block's daily rows (days, n), grades and inventory.
_MEANS: dict[str, Callable[[Rows, float], Array]] = {
    "pain_mean": lambda r, _f: r["pain_mean"],
    "it_mg_per_day": lambda r, _f: r["it_mg"],
    "oral_mg_per_day": lambda r, _f: r["oral_mg"],
    "ome_mg_per_day": lambda r, f: r["oral_mg"] + r["it_mg"] * f,
    "toxicity_composite": lambda r, _f: r["toxicity_composite"],
    "off_systemic_fraction": lambda r, _f: (r["oral_mg"] <= 0).astype(np.float64),
    "undetectable_plasma_fraction": lambda r, _f: (
        r["plasma_mean"] < SYMPTOMS.detectable_plasma_ng_per_ml).astype(np.float64),
    "nights_without_waking_fraction": lambda r, _f: 1.0 - r["woken_night"],
    "intake": lambda r, _f: r["intake"],
    "weight_kg": lambda r, _f: r["weight_kg"],
    "withdrawal_episode_fraction": lambda r, _f: (
        np.nan_to_num(r["withdrawal_max"]) >= SYMPTOMS.withdrawal_episode_from
    ).astype(np.float64),
    "respiratory_events_per_100_patient_days": lambda r, _f: 100.0 * r["respiratory_events"],
}


def _weeks(days: int) -> list[slice]:
    return [slice(start, min(start + 7, days)) for start in range(0, days, 7)]


@dataclass(frozen=True)
class WeeklySums:
    """Per period (the baseline day, then each week): the sum and count of every weekly
    mean's patient-day values alive (`total`, `count`, keyed as `WEEKLY_KEYS`, nested keys as
    "prevalence_grade1/constipation"), the patients alive on the period's last day, and the
    cohort size. Sums of two batches are their element-wise sums."""

    total: dict[str, Array]
    count: dict[str, Array]
    alive_last: Array
    patients: int

    @staticmethod
    def add(parts: Iterable[WeeklySums]) -> WeeklySums:
        """The sums of several batches of one arm (the same days)."""
        items = list(parts)
        return WeeklySums(
            total={k: np.sum([p.total[k] for p in items], axis=0) for k in items[0].total},
            count={k: np.sum([p.count[k] for p in items], axis=0) for k in items[0].count},
            alive_last=np.sum([p.alive_last for p in items], axis=0),
            patients=sum(p.patients for p in items),
        )

    def series(self) -> dict[str, Any]:
        """The weekly series (see `WEEKLY_KEYS`), lists of equal length."""
        periods = self.alive_last.size
        with np.errstate(invalid="ignore", divide="ignore"):
            means = {k: np.where(self.count[k] > 0, self.total[k] / np.maximum(self.count[k], 1),
                                 np.nan) for k in self.total}
        n = self.patients
        out: dict[str, Any] = {
            "weeks": list(range(periods)),
            "patients_alive": [int(a) for a in self.alive_last],
            "alive_fraction": [float(a) / n if n else float("nan") for a in self.alive_last],
        }
        out |= {k: [float(v) for v in means[k]] for k in _MEANS}
        for key in NESTED:
            labels = [i.label for i in Item] if key == "inventory" else [s.label for s in Symptom]
            out[key] = {label: [float(v) for v in means[f"{key}/{label}"]] for label in labels}
        return {key: out[key] for key in WEEKLY_KEYS}


def weekly_sums(history: dict[str, NDArray[np.float32]], grades: NDArray[np.int8],
                inventory: NDArray[np.float32], baseline: Baseline,
                it_to_oral: float) -> WeeklySums:
    """The weekly sums of one batch of one arm: daily records (days, n; NaN after death),
    grades (days, N_SYMPTOMS, n), inventory (days, N_ITEMS, n) and the run-in baseline."""
    days, n = history["pain_mean"].shape
    alive = np.isfinite(history["pain_mean"])
    rows = {k: v.astype(np.float64) for k, v in history.items()}
    periods: list[tuple[Rows, NDArray[np.int8], Array, NDArray[np.bool_]]] = [
        ({k: v[None, :] for k, v in baseline.row.items()}, baseline.grades[None],
         baseline.inventory[None], np.ones((1, n), dtype=bool))]
    for week in _weeks(days):
        periods.append(({k: v[week] for k, v in rows.items()}, grades[week],
                        inventory[week].astype(np.float64), alive[week]))
    total: dict[str, list[float]] = {}
    count: dict[str, list[float]] = {}

    def put(key: str, values: Array, a: NDArray[np.bool_]) -> None:
        ok = np.isfinite(values) & a
        total.setdefault(key, []).append(float(np.where(ok, values, 0.0).sum()))
        count.setdefault(key, []).append(float(ok.sum()))

    for r, g, items, a in periods:
        with np.errstate(invalid="ignore"):
            for key, value in _MEANS.items():
                put(key, np.asarray(value(r, it_to_oral), dtype=np.float64), a)
        for s in Symptom:
            put(f"prevalence_grade1/{s.label}", (g[:, s] >= 1).astype(np.float64), a)
            put(f"prevalence_grade2/{s.label}", (g[:, s] >= 2).astype(np.float64), a)
        for i in Item:
            put(f"inventory/{i.label}", np.nan_to_num(items[:, i]), a)
    return WeeklySums(
        total={k: np.array(v) for k, v in total.items()},
        count={k: np.array(v) for k, v in count.items()},
        alive_last=np.array([float(a[-1].sum()) for _r, _g, _i, a in periods]),
        patients=n,
    )


def weekly_series(history: dict[str, NDArray[np.float32]], grades: NDArray[np.int8],
                  inventory: NDArray[np.float32], baseline: Baseline,
                  it_to_oral: float) -> dict[str, Any]:
    """The weekly series of one batch taken whole (see `WEEKLY_KEYS`), lists of equal
    length: `weekly_sums(...).series()`."""
    return weekly_sums(history, grades, inventory, baseline, it_to_oral).series()
