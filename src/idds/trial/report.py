"""Trial outputs: metrics.json (keys documented) and a self-contained report.html.

The HTML embeds its figures as PNG data URIs and its style inline, so it opens offline from
any folder. Figures: pain over time, dose over time, side effects over time, the arm
comparison with 95% intervals, and pain and remote presses by hour of day.
"""

from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from idds import DISCLAIMER
from idds.trial.metrics import METRIC_KEYS, ORACLE_DISTANCE_KEYS, Estimate, distance_from
from idds.trial.runner import TrialResult

FIGURES = ("pain", "dose", "side_effects", "comparison", "hour_of_day", "oracle_distance")
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
        "oracle_distance_keys": ORACLE_DISTANCE_KEYS,
        "oracle_distance": {
            name: {key: est.as_json() for key, est in distances.items()}
            for name, distances in oracle_distances(result).items()
        },
        "arms": {
            name: {
                "metrics": {key: est.as_json() for key, est in arm.metrics.items()},
                "reasons": arm.reasons,
            }
            for name, arm in result.arms.items()
        },
    }


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _daily(result: TrialResult, field: str, scale: float = 1.0) -> dict[str, np.ndarray]:
    return {name: arm.history[field].astype(np.float64).mean(axis=1) * scale
            for name, arm in result.arms.items()}


def _figure_pain(result: TrialResult) -> str:
    fig, ax = plt.subplots(figsize=(8, 3.6))
    for name, arm in result.arms.items():
        pain = arm.history["pain_mean"].astype(np.float64)
        days = np.arange(1, pain.shape[0] + 1)
        ax.plot(days, pain.mean(axis=1), label=name)
        low, high = np.percentile(pain, [25, 75], axis=1)
        ax.fill_between(days, low, high, alpha=0.15)
    ax.axhline(3, color="grey", lw=0.8, ls="--")
    ax.set(xlabel="day", ylabel="pain NRS (mean, IQR)", ylim=(0, 10), title="Pain over time")
    ax.legend()
    return _png(fig)


def _figure_dose(result: TrialResult) -> str:
    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(13, 3.6))
    it_factor = 300.0
    for i, (name, arm) in enumerate(result.arms.items()):
        oral = arm.history["oral_mg"].astype(np.float64).mean(axis=1)
        it = arm.history["it_mg"].astype(np.float64).mean(axis=1)
        days = np.arange(1, oral.shape[0] + 1)
        left.plot(days, oral + it * it_factor, label=name)
        middle.plot(days, it, label=name)
        programmed = arm.history["it_programmed_mg_per_day"].astype(np.float64)
        if programmed.any():
            low, mid, high = np.percentile(programmed, [10, 50, 90], axis=1)
            right.plot(days, mid, color=f"C{i}", label=name)
            right.fill_between(days, low, high, color=f"C{i}", alpha=0.12)
    left.set(xlabel="day", ylabel="mg/day", title="OME (oral + IT x 300)", yscale="log")
    middle.set(xlabel="day", ylabel="mg/day", title="IT morphine delivered (mean)")
    right.set(xlabel="day", ylabel="mg/day", title="Programmed IT basal (median, 10-90%)")
    left.legend()
    return _png(fig)


def _figure_side_effects(result: TrialResult) -> str:
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, values in _daily(result, "toxicity_mean").items():
        left.plot(np.arange(1, values.size + 1), values, label=name)
    for name, values in _daily(result, "respiratory_events", 100.0).items():
        weeks = values[: values.size // 7 * 7].reshape(-1, 7).mean(axis=1) if values.size >= 7 \
            else values
        right.plot(np.arange(1, weeks.size + 1), weeks, marker="o", label=name)
    left.set(xlabel="day", ylabel="score 0-10", title="Composite toxicity")
    right.set(xlabel="week", ylabel="per 100 patient-days", title="Respiratory depression")
    left.legend()
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
