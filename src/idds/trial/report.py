"""Trial outputs: metrics.json (keys documented) and a self-contained report.html.

The HTML embeds its figures as PNG data URIs and its style inline, so it opens offline from
any folder. Figures: pain over time, dose over time, composite toxicity and respiratory
depression over time, side effects by week per arm (prevalence at grade >= 2), survival
(Kaplan-Meier), the weekly symptom inventory, the arm comparison with 95% intervals, pain
and remote presses by hour of day, and the distance of each arm from the oracle.
"""

from __future__ import annotations

import base64
import html
import io
import json
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from idds import DISCLAIMER
from idds.physiology.symptoms import Item, Symptom
from idds.trial.metrics import (
    METRIC_KEYS,
    ORACLE_DISTANCE_KEYS,
    Estimate,
    alive_mean,
    distance_from,
)
from idds.trial.runner import ArmResult, TrialResult
from idds.trial.weekly import WEEKLY_KEYS

FIGURES = ("pain", "dose", "side_effects", "prevalence", "survival", "inventory", "comparison",
           "hour_of_day", "oracle_distance")
ORACLE = "oracle"
COMPARED = ("time_controlled_percent", "pain_change_percent", "toxicity_change_percent",
            "clinical_success_percent")


def oracle_distances(result: TrialResult) -> dict[str, dict[str, Estimate]]:
    """Each real arm's paired distance from the oracle (empty without an oracle arm)."""
    oracle = result.arms.get(ORACLE)
    if oracle is None:
        return {}
    return {name: distance_from(oracle.outcomes, arm.outcomes)
            for name, arm in result.arms.items() if name != ORACLE}


def metrics_json(result: TrialResult) -> dict[str, Any]:
    config = asdict(result.config)
    config["library"] = None if result.config.library is None else str(result.config.library)
    return {
        "disclaimer": DISCLAIMER,
        "config": config,
        "metric_keys": METRIC_KEYS,
        "weekly_keys": WEEKLY_KEYS,
        "symptoms": [s.label for s in Symptom],
        "inventory_items": [i.label for i in Item],
        "oracle_distance_keys": ORACLE_DISTANCE_KEYS,
        "oracle_distance": {
            name: {key: est.as_json() for key, est in distances.items()}
            for name, distances in oracle_distances(result).items()
        },
        "arms": {
            name: {
                "metrics": {key: est.as_json() for key, est in arm.metrics.items()},
                "baseline": _baseline(arm),
                "weekly": arm.weekly,
                "survival": arm.survival.as_json(),
                "reasons": arm.reasons,
            }
            for name, arm in result.arms.items()
        },
    }


def _baseline(arm: ArmResult) -> dict[str, float]:
    """The run-in day's means (the same in every arm)."""
    row = arm.baseline.row
    return {"pain_mean": float(row["pain_mean"].mean()),
            "toxicity_composite": float(row["toxicity_composite"].mean()),
            "oral_mg_per_day": float(row["oral_mg"].mean()),
            "plasma_ng_per_ml": float(row["plasma_mean"].mean())}


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _daily(result: TrialResult, field: str, scale: float = 1.0) -> dict[str, np.ndarray]:
    return {name: _daily_mean(arm.history[field].astype(np.float64)) * scale
            for name, arm in result.arms.items()}


def _daily_mean(values: np.ndarray) -> np.ndarray:
    """Mean over the patients alive each day (axis 1); NaN on a day nobody is alive."""
    return alive_mean(values, axis=1)


def _nanpercentile(values: np.ndarray, q: list[float]) -> np.ndarray:
    """Percentiles over the patients alive each day (axis 1)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a day nobody is alive: NaN
        out: np.ndarray = np.nanpercentile(values, q, axis=1)
        return out


def _figure_pain(result: TrialResult) -> str:
    fig, ax = plt.subplots(figsize=(8, 3.6))
    for name, arm in result.arms.items():
        pain = arm.history["pain_mean"].astype(np.float64)
        days = np.arange(1, pain.shape[0] + 1)
        ax.plot(days, _daily_mean(pain), label=name)
        low, high = _nanpercentile(pain, [25, 75])
        ax.fill_between(days, low, high, alpha=0.15)
    ax.axhline(3, color="grey", lw=0.8, ls="--")
    ax.set(xlabel="day", ylabel="pain NRS (mean, IQR)", ylim=(0, 10), title="Pain over time")
    ax.legend()
    return _png(fig)


def _figure_dose(result: TrialResult) -> str:
    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(13, 3.6))
    it_factor = result.it_to_oral
    for i, (name, arm) in enumerate(result.arms.items()):
        oral = _daily_mean(arm.history["oral_mg"].astype(np.float64))
        it = _daily_mean(arm.history["it_mg"].astype(np.float64))
        days = np.arange(1, oral.shape[0] + 1)
        left.plot(days, oral + it * it_factor, label=name)
        middle.plot(days, it, label=name)
        programmed = arm.history["it_programmed_mg_per_day"].astype(np.float64)
        if np.nansum(programmed) > 0:
            low, mid, high = _nanpercentile(programmed, [10, 50, 90])
            right.plot(days, mid, color=f"C{i}", label=name)
            right.fill_between(days, low, high, color=f"C{i}", alpha=0.12)
    left.set(xlabel="day", ylabel="mg/day",
             title=f"OME (oral + IT x {it_factor:g}, library factor)", yscale="log")
    middle.set(xlabel="day", ylabel="mg/day", title="IT morphine delivered (mean)")
    right.set(xlabel="day", ylabel="mg/day", title="Programmed IT basal (median, 10-90%)")
    left.legend()
    return _png(fig)


def _figure_side_effects(result: TrialResult) -> str:
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, arm in result.arms.items():
        w = arm.weekly
        left.plot(w["weeks"], w["toxicity_composite"], marker="o", label=name)
    for name, values in _daily(result, "respiratory_events", 100.0).items():
        weeks = values[: values.size // 7 * 7].reshape(-1, 7).mean(axis=1) if values.size >= 7 \
            else values
        right.plot(np.arange(1, weeks.size + 1), weeks, marker="o", label=name)
    left.set(xlabel="week (0 = baseline)", ylabel="sum of CTCAE grades",
             title="Composite toxicity (patients alive)")
    right.set(xlabel="week", ylabel="per 100 patient-days", title="Respiratory depression")
    left.legend()
    return _png(fig)


def _figure_prevalence(result: TrialResult) -> str:
    symptoms = [s for s in Symptom]
    cols = 5
    fig, axes = plt.subplots(2, cols, figsize=(14, 5.4), sharex=True)
    for ax, symptom in zip(axes.flat, symptoms, strict=True):
        for i, (name, arm) in enumerate(result.arms.items()):
            w = arm.weekly
            ax.plot(w["weeks"], 100 * np.array(w["prevalence_grade1"][symptom.label]),
                    color=f"C{i}", ls=":", lw=1)
            ax.plot(w["weeks"], 100 * np.array(w["prevalence_grade2"][symptom.label]),
                    color=f"C{i}", marker=".", label=name)
        ax.set_title(symptom.label.replace("_", " "), fontsize=9)
        ax.set_ylim(0, 100)
    for ax in axes[:, 0]:
        ax.set_ylabel("% of patients")
    for ax in axes[-1]:
        ax.set_xlabel("week")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("Side effects by week: grade >= 2 (solid), grade >= 1 (dotted)", fontsize=10)
    return _png(fig)


def _figure_survival(result: TrialResult) -> str:
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for i, (name, arm) in enumerate(result.arms.items()):
        curve = arm.survival
        ax.step(curve.times, 100 * curve.survival, where="post", color=f"C{i}", label=name)
        ax.fill_between(curve.times, 100 * np.nan_to_num(curve.low, nan=1.0),
                        100 * np.nan_to_num(curve.high, nan=1.0), step="post",
                        color=f"C{i}", alpha=0.1)
    ax.set(xlabel="day", ylabel="% alive", ylim=(0, 101),
           title="Survival (Kaplan-Meier, 95% CI)")
    ax.legend()
    return _png(fig)


def _figure_inventory(result: TrialResult) -> str:
    items = [i for i in Item]
    fig, axes = plt.subplots(2, 5, figsize=(14, 5.4), sharex=True)
    for ax, item in zip(axes.flat, items, strict=True):
        for i, (name, arm) in enumerate(result.arms.items()):
            w = arm.weekly
            ax.plot(w["weeks"], w["inventory"][item.label], color=f"C{i}", marker=".",
                    label=name)
        ax.set_title(item.label.replace("_", " "), fontsize=9)
        ax.set_ylim(0, 10)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("Weekly symptom inventory (MDASI-like items, 0-10, mean of patients alive)",
                 fontsize=10)
    return _png(fig)


def _figure_comparison(result: TrialResult) -> str:
    fig, axes = plt.subplots(1, len(COMPARED), figsize=(12, 3.4))
    names = list(result.arms)
    for ax, key in zip(axes, COMPARED, strict=True):
        estimates = [result.arms[n].metrics[key] for n in names]
        means = [e.mean for e in estimates]
        errors = np.array([[e.mean - e.low for e in estimates],
                           [e.high - e.mean for e in estimates]])
        ax.bar(names, means, yerr=np.clip(np.nan_to_num(errors), 0, None), capsize=4,
               color=[f"C{i}" for i in range(len(names))])
        ax.set_title(key.replace("_", " "), fontsize=9)
        ax.tick_params(axis="x", rotation=30, labelsize=8)
        ax.axhline(0, color="black", lw=0.6)
    return _png(fig)


def _figure_hours(result: TrialResult) -> str:
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    hours = np.arange(24)
    patient_days = result.config.patients * result.config.days
    for name, arm in result.arms.items():
        left.plot(hours, arm.pain_by_hour, label=name)
        right.plot(hours, arm.presses_by_hour / patient_days, label=f"{name} presses")
        if arm.refused_by_hour.any():
            right.plot(hours, arm.refused_by_hour / patient_days, ls="--",
                       label=f"{name} refused")
    left.set(xlabel="hour of day", ylabel="mean pain NRS", title="Pain by hour of day")
    right.set(xlabel="hour of day", ylabel="per patient-day",
              title="Remote presses by hour (breakthrough coverage)")
    left.legend()
    right.legend(fontsize=7)
    return _png(fig)


def _figure_oracle(result: TrialResult) -> str:
    distances = oracle_distances(result)
    fig, axes = plt.subplots(1, len(ORACLE_DISTANCE_KEYS), figsize=(12, 3.4))
    if not distances:
        for ax in axes:
            ax.text(0.5, 0.5, "no oracle arm in this trial", ha="center", va="center")
            ax.set_axis_off()
        return _png(fig)
    names = list(distances)
    for ax, key in zip(axes, ORACLE_DISTANCE_KEYS, strict=True):
        estimates = [distances[n][key] for n in names]
        means = [e.mean for e in estimates]
        errors = np.array([[e.mean - e.low for e in estimates],
                           [e.high - e.mean for e in estimates]])
        ax.bar(names, means, yerr=np.clip(np.nan_to_num(errors), 0, None), capsize=4,
               color=[f"C{i}" for i in range(len(names))])
        ax.axhline(0, color="black", lw=0.6)
        ax.set_title(f"{key.replace('_', ' ')} vs oracle", fontsize=9)
        ax.tick_params(axis="x", rotation=30, labelsize=8)
    return _png(fig)


def figures(result: TrialResult) -> dict[str, str]:
    """Every figure as base64 PNG, by name (FIGURES order)."""
    return {
        "pain": _figure_pain(result),
        "dose": _figure_dose(result),
        "side_effects": _figure_side_effects(result),
        "prevalence": _figure_prevalence(result),
        "survival": _figure_survival(result),
        "inventory": _figure_inventory(result),
        "comparison": _figure_comparison(result),
        "hour_of_day": _figure_hours(result),
        "oracle_distance": _figure_oracle(result),
    }


def _oracle_table(result: TrialResult) -> str:
    distances = oracle_distances(result)
    if not distances:
        return "<p>No oracle arm in this trial.</p>"
    head = "".join(f"<th>{html.escape(n)}</th>" for n in distances)
    rows = []
    for key, meaning in ORACLE_DISTANCE_KEYS.items():
        cells = "".join(
            f"<td>{d[key].mean:+.3g}<br><small>[{d[key].low:.3g}, {d[key].high:.3g}]</small></td>"
            for d in distances.values()
        )
        rows.append(f"<tr><th>{html.escape(meaning)}</th>{cells}</tr>")
    return f"<table><tr><th>paired difference (95% CI)</th>{head}</tr>{''.join(rows)}</table>"


def _metrics_table(result: TrialResult) -> str:
    names = list(result.arms)
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    rows = []
    for key, meaning in METRIC_KEYS.items():
        cells = []
        for name in names:
            est = result.arms[name].metrics[key]
            cells.append(f"<td>{est.mean:.3g}<br><small>[{est.low:.3g}, {est.high:.3g}]"
                         "</small></td>")
        rows.append(f"<tr><th title='{html.escape(meaning)}'>{html.escape(key)}<br>"
                    f"<small>{html.escape(meaning)}</small></th>{''.join(cells)}</tr>")
    return f"<table><tr><th>metric (95% CI)</th>{head}</tr>{''.join(rows)}</table>"


def _week4_table(result: TrialResult) -> str:
    """Per-symptom prevalence (grade >= 1 / >= 2) in week 4 (or the last week), per arm."""
    names = list(result.arms)
    any_arm = next(iter(result.arms.values()))
    week = min(4, len(any_arm.weekly["weeks"]) - 1)
    head = "".join(f"<th>{html.escape(n)}<br><small>G>=1 / G>=2</small></th>" for n in names)
    rows = []
    for symptom in Symptom:
        cells = []
        for n in names:
            w = result.arms[n].weekly
            g1 = 100 * w["prevalence_grade1"][symptom.label][week]
            g2 = 100 * w["prevalence_grade2"][symptom.label][week]
            base = 100 * w["prevalence_grade1"][symptom.label][0]
            cells.append(f"<td>{g1:.0f}% / {g2:.0f}%<br><small>baseline {base:.0f}%</small></td>")
        rows.append(f"<tr><th>{html.escape(symptom.label.replace('_', ' '))}</th>"
                    f"{''.join(cells)}</tr>")
    return (f"<p>Week {week} (week 0 = baseline), share of patient-days of the patients alive."
            f"</p><table><tr><th>symptom</th>{head}</tr>{''.join(rows)}</table>")


def _claims(result: TrialResult) -> str:
    from idds.trial.claims import check

    claims = check(result)
    if not claims:
        return "<p>Needs the arms cmm and it-standard.</p>"
    items = "".join(
        f"<li><b>{html.escape(c.statement)}</b>: {'holds' if c.holds else 'does not hold'}. "
        f"{html.escape(c.evidence)}</li>" for c in claims)
    return f"<p>it-standard against cmm, the same patients:</p><ul>{items}</ul>"


def _survival_text(result: TrialResult) -> str:
    parts = []
    for name, arm in result.arms.items():
        end = arm.survival.at(result.config.days)
        median = arm.survival.median_days()
        median_text = "not reached" if np.isnan(median) else f"{median:.0f} days"
        parts.append(f"<li>{html.escape(name)}: {100 * end:.1f}% alive on day "
                     f"{result.config.days}; median survival {median_text}</li>")
    return (f"<ul>{''.join(parts)}</ul><p>Every metric treats death as censoring: a patient "
            "counts only on the days alive. The disease hazard does not depend on pain or "
            "symptoms (hazard ratio 1.0, an assumption), so with common random numbers the "
            "same patients die on the same days in every arm.</p>")


def render_html(result: TrialResult, images: dict[str, str]) -> str:
    config = result.config
    figures_html = "".join(
        f"<figure id='fig-{name}'><img alt='{name}' src='data:image/png;base64,{data}'>"
        f"<figcaption>{name.replace('_', ' ')}</figcaption></figure>"
        for name, data in images.items()
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>IDDS trial report</title>
<style>
body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}
table{{border-collapse:collapse;font-size:13px}} td,th{{border:1px solid #ccc;padding:4px 8px;
text-align:right}} th{{text-align:left;background:#f4f4f4}} small{{color:#666}}
.warn{{background:#fff3cd;padding:8px;border:1px solid #e0c36b}} img{{max-width:100%}}
</style></head><body>
<h1>IDDS in-silico trial</h1>
<p class="warn">{html.escape(DISCLAIMER)} Virtual patients; every parameter and assumption
is documented in docs/physiology.md and docs/trial.md.</p>
<p>{config.patients} patients ({html.escape(config.archetype)}), {config.days} days, step
{config.dt_min:g} min, seed {config.seed}; arms: {html.escape(', '.join(config.arms))}.
Baseline: one run-in day on each patient's prior oral morphine.</p>
<h2>Metrics</h2>{_metrics_table(result)}
<h2>The seed's claims</h2>{_claims(result)}
<h2>Side effects</h2>{_week4_table(result)}
<h2>Survival</h2>{_survival_text(result)}
<h2>Distance from the oracle</h2>
<p>The oracle knows each virtual patient's hidden parameters and picks the smallest dose that
meets the same pain target under the same supervisor (evaluation only). Paired differences on
the same patients:</p>{_oracle_table(result)}
<h2>Figures</h2>{figures_html}
</body></html>
"""


def write_report(result: TrialResult, out: Path) -> tuple[Path, Path]:
    """Write metrics.json and report.html into `out` (created if missing)."""
    out.mkdir(parents=True, exist_ok=True)
    metrics_path = out / "metrics.json"
    metrics_path.write_text(json.dumps(metrics_json(result), indent=2) + "\n")
    report_path = out / "report.html"
    report_path.write_text(render_html(result, figures(result)))
    return metrics_path, report_path
