"""Weekly series of one arm for metrics.json and the report (means over the patients alive
that week; week 0 is the baseline run-in day on the prior oral regimen).

Week k >= 1 is trial days 7(k-1) .. 7k-1 (the last week may be shorter). Each value is the
mean over the patient-days alive in the week; a share is the share of those patient-days
(prevalence of a symptom at grade >= 1 or >= 2 is its point prevalence averaged over the
week). `alive_fraction` is the share of the cohort alive on the week's last day.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from idds.physiology.parameters import SYMPTOMS
from idds.physiology.symptoms import Item, Symptom
from idds.trial.engine import Baseline
from idds.trial.metrics import alive_mean

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
    "prevalence_grade1": "per symptom: share of patient-days at CTCAE grade >= 1",
    "prevalence_grade2": "per symptom: share of patient-days at CTCAE grade >= 2",
    "inventory": "per symptom-inventory item (MDASI-like, 0-10): mean",
}


def _weeks(days: int) -> list[slice]:
    return [slice(start, min(start + 7, days)) for start in range(0, days, 7)]


def _mean(values: NDArray[Any], alive: NDArray[np.bool_]) -> float:
    """Mean over the patient-days alive of a block (days, n)."""
    return float(alive_mean(np.asarray(values, dtype=np.float64).ravel(), alive.ravel()))


def weekly_series(history: dict[str, NDArray[np.float32]], grades: NDArray[np.int8],
                  inventory: NDArray[np.float32], baseline: Baseline,
                  it_to_oral: float) -> dict[str, Any]:
    """The weekly series of one arm (see `WEEKLY_KEYS`), lists of equal length."""
    days, n = history["pain_mean"].shape
    alive = np.isfinite(history["pain_mean"])
    rows = {k: v.astype(np.float64) for k, v in history.items()}
    detect = SYMPTOMS.detectable_plasma_ng_per_ml
    periods: list[tuple[dict[str, Array], NDArray[np.int8], Array, NDArray[np.bool_], int]] = [
        ({k: v[None, :] for k, v in baseline.row.items()}, baseline.grades[None],
         baseline.inventory[None], np.ones((1, n), dtype=bool), n)]
    for week in _weeks(days):
        a = alive[week]
        periods.append(({k: v[week] for k, v in rows.items()}, grades[week],
                        inventory[week].astype(np.float64), a, int(a[-1].sum())))
    out: dict[str, Any] = {key: [] for key in WEEKLY_KEYS if key not in (
        "prevalence_grade1", "prevalence_grade2", "inventory")}
    out["prevalence_grade1"] = {s.label: [] for s in Symptom}
    out["prevalence_grade2"] = {s.label: [] for s in Symptom}
    out["inventory"] = {i.label: [] for i in Item}
    for k, (r, g, items, a, last_alive) in enumerate(periods):
        oral, it = r["oral_mg"], r["it_mg"]
        with np.errstate(invalid="ignore"):
            values = {
                "weeks": k,
                "patients_alive": last_alive,
                "alive_fraction": last_alive / n if n else float("nan"),
                "pain_mean": _mean(r["pain_mean"], a),
                "it_mg_per_day": _mean(it, a),
                "oral_mg_per_day": _mean(oral, a),
                "ome_mg_per_day": _mean(oral + it * it_to_oral, a),
                "toxicity_composite": _mean(r["toxicity_composite"], a),
                "off_systemic_fraction": _mean(oral <= 0, a),
                "undetectable_plasma_fraction": _mean(r["plasma_mean"] < detect, a),
                "nights_without_waking_fraction": _mean(1.0 - r["woken_night"], a),
                "intake": _mean(r["intake"], a),
                "weight_kg": _mean(r["weight_kg"], a),
                "withdrawal_episode_fraction": _mean(
                    np.nan_to_num(r["withdrawal_max"]) >= SYMPTOMS.withdrawal_episode_from, a),
            }
        for key, value in values.items():
            out[key].append(value)
        for s in Symptom:
            out["prevalence_grade1"][s.label].append(_mean(g[:, s] >= 1, a))
            out["prevalence_grade2"][s.label].append(_mean(g[:, s] >= 2, a))
        for i in Item:
            out["inventory"][i.label].append(_mean(np.nan_to_num(items[:, i]), a))
    return out
