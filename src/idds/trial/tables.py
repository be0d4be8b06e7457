"""The report's tables as plain rows of text, rendered the same in the HTML and the PDF.

Numbers are written for people: thousands separated, no scientific notation, three
significant figures at most (`fmt`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from idds.physiology.symptoms import Symptom
from idds.trial.case import Case
from idds.trial.metrics import METRIC_KEYS, ORACLE_DISTANCE_KEYS, Estimate, distance_from
from idds.trial.runner import TrialResult


@dataclass(frozen=True)
class Table:
    """A titled table: a header row and body rows (first cell: the row's label)."""

    title: str
    header: list[str]
    rows: list[list[str]]
    note: str = ""


def fmt(value: float) -> str:
    """A number as a reader wants it: 1,550 not 1.55e+03; 0.012 not 1.2e-02; '-' if none."""
    if not math.isfinite(value):
        return "-"
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 1 or size == 0:
        return f"{value:.2f}".rstrip("0").rstrip(".") if size else "0"
    return np.format_float_positional(value, precision=2, unique=False, fractional=False,
                                      trim="-")


def estimate(est: Estimate) -> str:
    """Mean [low, high]."""
    if not (math.isfinite(est.low) and math.isfinite(est.high)):
        return fmt(est.mean)
    return f"{fmt(est.mean)} [{fmt(est.low)}, {fmt(est.high)}]"


def _median_iqr(values: np.ndarray) -> str:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return "-"
    low, mid, high = np.percentile(finite, [25, 50, 75])
    return f"{fmt(float(mid))} ({fmt(float(low))}-{fmt(float(high))})"


def baseline(result: TrialResult) -> Table:
    """Baseline characteristics of the cohort (the same patients in every arm)."""
    arm = next(iter(result.arms.values()))
    row = arm.baseline.row
    prior = arm.outcomes.prior_oral_mg_per_day
    weight = row["weight_kg"].astype(np.float64)
    grade1 = arm.weekly["prevalence_grade1"]
    rows = [
        ["patients", f"{result.config.patients:,}"],
        ["prior oral morphine equivalent, mg/day", _median_iqr(prior)],
        ["baseline pain, NRS 0-10", _median_iqr(row["pain_mean"].astype(np.float64))],
        ["composite toxicity, CTCAE sum 0-33",
         _median_iqr(row["toxicity_composite"].astype(np.float64))],
        ["plasma morphine, ng/mL", _median_iqr(row["plasma_mean"].astype(np.float64))],
        ["body weight, kg (end of the run-in day)", _median_iqr(weight)],
        ["expected death within the trial, %",
         fmt(100 * float(np.mean(arm.death_day < result.config.days)))],
    ]
    for symptom in Symptom:
        rows.append([f"{symptom.label.replace('_', ' ')} grade >= 1, %",
                     fmt(100 * float(grade1[symptom.label][0]))])
    return Table("Baseline characteristics", ["characteristic", "median (IQR) or %"], rows,
                 "The run-in day on each patient's prior oral regimen; identical in every arm "
                 "(the same virtual patients).")


def metrics(result: TrialResult) -> Table:
    names = list(result.arms)
    rows = [[f"{key.replace('_', ' ')}: {meaning}",
             *(estimate(result.arms[n].metrics[key]) for n in names)]
            for key, meaning in METRIC_KEYS.items()]
    return Table("Outcomes", ["metric, mean [95% CI]", *names], rows,
                 "Means over the patients with an outcome; counts have percentile-bootstrap "
                 "intervals (never below zero), shares Wilson intervals, event rates exact "
                 "Poisson intervals.")


def week4(result: TrialResult) -> Table:
    """Per-symptom prevalence (grade >= 1 / >= 2) in week 4 (or the last week), per arm."""
    names = list(result.arms)
    any_arm = next(iter(result.arms.values()))
    week = min(4, len(any_arm.weekly["weeks"]) - 1)
    rows = []
    for symptom in Symptom:
        cells = []
        for n in names:
            w = result.arms[n].weekly
            g1 = 100 * w["prevalence_grade1"][symptom.label][week]
            g2 = 100 * w["prevalence_grade2"][symptom.label][week]
            cells.append(f"{g1:.0f}% / {g2:.0f}%")
        base = 100 * any_arm.weekly["prevalence_grade1"][symptom.label][0]
        rows.append([symptom.label.replace("_", " "), f"{base:.0f}%", *cells])
    return Table(f"Side effects in week {week}",
                 ["symptom", "baseline G>=1", *(f"{n} G>=1 / G>=2" for n in names)], rows,
                 f"Week {week} (week 0 = baseline): share of the patient-days of the patients "
                 "alive with the toxicity at CTCAE grade >= 1 / >= 2.")


def as_treated(result: TrialResult) -> list[Table]:
    """Per screened arm: the metrics by intention to treat beside those as treated."""
    out = []
    for name, arm in result.arms.items():
        if arm.as_treated is None or arm.flow is None:
            continue
        groups = list(arm.as_treated)
        rows = [[key.replace("_", " "), estimate(arm.metrics[key]),
                 *(estimate(arm.as_treated[g][key]) for g in groups)] for key in METRIC_KEYS]
        counts = ", ".join(f"{g} {arm.flow.received[g]}" for g in groups)
        out.append(Table(f"{name}: intention to treat and as treated",
                         ["metric, mean [95% CI]", f"intention to treat ({arm.flow.referred})",
                          *(f"as treated: {g} ({arm.flow.received[g]})" for g in groups)], rows,
                         f"Intention to treat: every referred patient; as treated: by what "
                         f"they received ({counts}). The as-treated groups differ by selection "
                         "and are not a comparison of treatments."))
    return out


ORACLE = "oracle"


def oracle_distances(result: TrialResult) -> dict[str, dict[str, Estimate]]:
    """Each real arm's paired distance from the oracle (empty without an oracle arm)."""
    reference = result.arms.get(ORACLE)
    if reference is None:
        return {}
    return {name: distance_from(reference.outcomes, arm.outcomes)
            for name, arm in result.arms.items() if name != ORACLE}


def oracle(result: TrialResult) -> Table | None:
    distances = oracle_distances(result)
    if not distances:
        return None
    rows = [[meaning, *(estimate(d[key]) for d in distances.values())]
            for key, meaning in ORACLE_DISTANCE_KEYS.items()]
    return Table("Distance from the oracle", ["paired difference, mean [95% CI]",
                                              *distances], rows,
                 "The same patients under each arm and under the oracle.")


def case_table(case: Case, arm: str) -> Table:
    """The followed patient's days under one arm (day 0: the run-in on the prior regimen)."""
    rows = [[str(r.day), f"{r.oral_mg:.0f}", f"{r.it_mg:.2f}", f"{r.pain_mean:.1f}",
             "slept" if r.slept else "woken", f"{r.drowsiness:.1f}", f"{r.lack_of_appetite:.1f}",
             str(r.constipation_grade), str(r.nausea_grade),
             str(max(r.pruritus_grade, r.urinary_retention_grade)), f"{r.toxicity:.0f}",
             f"{r.given} of {r.presses}"] for r in case.days[arm]]
    return Table(f"The seed case under {arm}, day by day",
                 ["day", "oral mg", "IT mg", "pain NRS", "night", "drowsy 0-10",
                  "appetite lost 0-10", "constipation G", "nausea G", "itch/urine G",
                  "toxicity sum", "boluses given of presses"], rows,
                 f"Day 0 is the run-in on his prior {case.prior_oral_mg_per_day:g} mg/day oral "
                 "morphine; doses are what he took or received that day (oral includes rescue "
                 "doses); G = CTCAE grade.")
