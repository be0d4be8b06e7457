"""The report's cohort figures, as matplotlib figures with a caption that says what to see.

Each arm has one colour in every figure (`arm_colour`, by the arm's place in the registry, not
its place in this trial). Bands are drawn per arm in small multiples so they never overlap;
axes start at zero where the quantity does, weeks are whole numbers, and every panel with
more than one line has a legend. The report (HTML) embeds them as PNG, the PDF as vectors.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from idds.physiology.symptoms import Item, Symptom
from idds.trial.flow import CMM_GROUP, INTRATHECAL_GROUP, Flow
from idds.trial.metrics import ORACLE_DISTANCE_KEYS, Estimate, alive_mean
from idds.trial.registry import ARMS
from idds.trial.runner import TrialResult
from idds.trial.tables import oracle_distances

COMPARED = ("time_in_target_percent", "time_controlled_percent", "pain_change_percent",
            "toxicity_change_percent", "clinical_success_percent")


def arm_colour(name: str) -> str:
    """The arm's colour, the same in every figure and every trial."""
    order = list(ARMS)
    return f"C{order.index(name) % 10}" if name in order else "C9"


@dataclass(frozen=True)
class ReportFigure:
    """One figure: its id (the HTML anchor), title, caption and the drawing."""

    name: str
    title: str
    caption: str
    figure: Figure


def _daily_mean(values: np.ndarray) -> np.ndarray:
    """Mean over the patients alive each day (axis 1); NaN on a day nobody is alive."""
    return alive_mean(values, axis=1)


def _percentiles(values: np.ndarray, q: list[float]) -> np.ndarray:
    """Percentiles over the patients alive each day (axis 1)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a day nobody is alive: NaN
        out: np.ndarray = np.nanpercentile(values, q, axis=1)
        return out


def _kept(result: TrialResult) -> str:
    """The caption's note when daily curves show only the patients whose histories were
    kept (`TrialConfig.histories`)."""
    kept, patients = result.histories_kept, result.config.patients
    if kept >= patients:
        return ""
    return (f" Daily curves: the first {kept:,} of the {patients:,} patients (their daily "
            "histories were kept, --histories); the weekly values and every metric use all "
            "of them.")


def _days(values: np.ndarray) -> np.ndarray:
    return np.arange(1, values.shape[0] + 1)


def _whole_weeks(ax: Axes) -> None:
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _small_multiples(result: TrialResult, height: float = 3.0) -> tuple[Figure, list[Axes]]:
    count = len(result.arms)
    fig, axes = plt.subplots(1, count, figsize=(max(4.2 * count, 7), height), sharey=True,
                             squeeze=False)
    return fig, list(axes[0])


def pain(result: TrialResult) -> ReportFigure:
    fig, axes = _small_multiples(result)
    means = {n: _daily_mean(a.history["pain_mean"].astype(np.float64))
             for n, a in result.arms.items()}
    for ax, (name, arm) in zip(axes, result.arms.items(), strict=True):
        values = arm.history["pain_mean"].astype(np.float64)
        days = _days(values)
        for other, mean in means.items():
            if other != name:
                ax.plot(days, mean, color=arm_colour(other), lw=0.8, alpha=0.5)
        low, high = _percentiles(values, [25, 75])
        ax.fill_between(days, low, high, color=arm_colour(name), alpha=0.2, label="IQR")
        ax.plot(days, means[name], color=arm_colour(name), lw=2, label=f"{name} mean")
        ax.axhline(3, color="grey", lw=0.8, ls="--", label="controlled (NRS 3)")
        ax.set(title=name, xlabel="trial day", ylim=(0, 10))
        ax.legend(fontsize=7, loc="lower left")
    axes[0].set_ylabel("pain NRS 0-10")
    return ReportFigure(
        "pain", "Pain over time",
        "Daily mean pain of the patients alive (thick line) and its interquartile range "
        "(band), one panel per arm; thin lines repeat the other arms' means. Look for how "
        "fast and how far each arm falls below the dashed line (pain controlled, NRS <= 3)."
        + _kept(result), fig)


def dose(result: TrialResult) -> ReportFigure:
    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(13, 3.4))
    factor = result.it_to_oral
    for name, arm in result.arms.items():
        colour = arm_colour(name)
        oral = _daily_mean(arm.history["oral_mg"].astype(np.float64))
        it = _daily_mean(arm.history["it_mg"].astype(np.float64))
        days = _days(oral)
        left.plot(days, oral + it * factor, color=colour, label=name)
        middle.plot(days, it, color=colour, label=name)
        programmed = arm.history["it_programmed_mg_per_day"].astype(np.float64)
        if np.nansum(programmed) > 0:
            low, mid, high = _percentiles(programmed, [10, 50, 90])
            right.plot(days, mid, color=colour, label=name)
            right.fill_between(days, low, high, color=colour, alpha=0.12)
    left.set(xlabel="trial day", ylabel="mg/day", ylim=(0, None),
             title=f"Oral morphine equivalent (oral + IT x {factor:g})")
    middle.set(xlabel="trial day", ylabel="mg/day", ylim=(0, None),
               title="Intrathecal morphine delivered (mean)")
    right.set(xlabel="trial day", ylabel="mg/day", ylim=(0, None),
              title="Programmed IT basal (median, 10-90%)")
    for ax in (left, middle, right):
        ax.legend(fontsize=7)
    return ReportFigure(
        "dose", "Dose over time",
        f"Left: total opioid as oral morphine equivalent (the library's {factor:g} mg oral "
        "per mg intrathecal), linear scale. Middle: intrathecal morphine delivered, basal and "
        "boluses. Right: the programmed basal dose. Look for the fall in total opioid when "
        "the pump replaces oral morphine, and for how each arm titrates afterwards."
        + _kept(result), fig)


def toxicity(result: TrialResult) -> ReportFigure:
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.4))
    top = 0.0
    for name, arm in result.arms.items():
        w = arm.weekly
        left.plot(w["weeks"], w["toxicity_composite"], marker="o", color=arm_colour(name),
                  label=name)
        top = max(top, float(np.nanmax(np.asarray(w["toxicity_composite"], dtype=float))))
        right.plot(w["weeks"][1:], w["respiratory_events_per_100_patient_days"][1:],
                   marker="o", color=arm_colour(name), label=name)
    left.set(xlabel="week (0 = baseline)", ylabel="sum of CTCAE grades (0-33)",
             ylim=(0, max(3.0, top * 1.2)), title="Composite toxicity")
    right.set(xlabel="week", ylabel="onsets per 100 patient-days", ylim=(0, None),
              title="Respiratory depression (rate < 8/min)")
    for ax in (left, right):
        _whole_weeks(ax)
        ax.legend(fontsize=7)
    return ReportFigure(
        "side_effects", "Side effects over time",
        "Left: composite toxicity, the sum of the CTCAE grades of the ten treatment-related "
        "toxicities (0-33), weekly mean of the patients alive, from zero. Right: onsets of "
        "respiratory depression per 100 patient-days alive, by week. Look for whether the pump "
        "arms end below the oral arm, and for any rise after the switch.", fig)


def _weekly_grid(result: TrialResult, labels: list[str], top: float, ylabel: str,
                 draw: Callable[[Axes, str, str, dict[str, Any]], None]) -> Figure:
    """A 2 x 5 grid, one panel per label, weeks on x: `draw(ax, label, arm, weekly)`."""
    fig, axes = plt.subplots(2, 5, figsize=(14, 5.2), sharex=True)
    for ax, label in zip(axes.flat, labels, strict=True):
        for name, arm in result.arms.items():
            draw(ax, label, name, arm.weekly)
        ax.set_title(label.replace("_", " "), fontsize=9)
        ax.set_ylim(0, top)
        _whole_weeks(ax)
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)
    for ax in axes[-1]:
        ax.set_xlabel("week")
    axes[0, 0].legend(fontsize=7)
    return fig


def _prevalence_lines(ax: Axes, label: str, name: str, w: dict[str, Any]) -> None:
    ax.plot(w["weeks"], 100 * np.array(w["prevalence_grade1"][label]), color=arm_colour(name),
            ls=":", lw=1)
    ax.plot(w["weeks"], 100 * np.array(w["prevalence_grade2"][label]), color=arm_colour(name),
            marker=".", label=name)


def _inventory_line(ax: Axes, label: str, name: str, w: dict[str, Any]) -> None:
    ax.plot(w["weeks"], w["inventory"][label], color=arm_colour(name), marker=".", label=name)


def prevalence(result: TrialResult) -> ReportFigure:
    fig = _weekly_grid(result, [s.label for s in Symptom], 100, "% of patients",
                       _prevalence_lines)
    return ReportFigure(
        "prevalence", "Side effects by week",
        "Share of the patients alive with each toxicity at CTCAE grade >= 2 (solid) and "
        ">= 1 (dotted), week 0 being the baseline day on oral morphine. Look for the "
        "systemic effects (constipation, nausea, somnolence, confusion) that the pump is "
        "meant to relieve, and for pruritus and urinary retention, which it can cause.", fig)


def survival(result: TrialResult) -> ReportFigure:
    fig, ax = plt.subplots(figsize=(7, 3.4))
    for name, arm in result.arms.items():
        curve, colour = arm.survival, arm_colour(name)
        ax.step(curve.times, 100 * curve.survival, where="post", color=colour, label=name)
        ax.fill_between(curve.times, 100 * np.nan_to_num(curve.low, nan=1.0),
                        100 * np.nan_to_num(curve.high, nan=1.0), step="post", color=colour,
                        alpha=0.1)
    ax.set(xlabel="trial day", ylabel="% alive", ylim=(0, 101))
    ax.legend(fontsize=7)
    return ReportFigure(
        "survival", "Survival",
        "Kaplan-Meier survival with its 95% interval. The disease hazard does not depend on "
        "the arm (an assumption), so with the same virtual patients the curves coincide: a "
        "difference here would be a bug, not a finding.", fig)


def inventory(result: TrialResult) -> ReportFigure:
    fig = _weekly_grid(result, [i.label for i in Item], 10, "0-10", _inventory_line)
    return ReportFigure(
        "inventory", "Weekly symptom inventory",
        "Patient-reported symptom items (0-10, MDASI-like), weekly mean of the patients "
        "alive. Look for the items the pump should improve (drowsiness, nausea, appetite, "
        "sleep) against those driven by the cancer itself, which no arm changes.", fig)


def _bars(ax: Axes, names: list[str], estimates: list[Estimate], title: str) -> None:
    means = [e.mean for e in estimates]
    errors = np.array([[e.mean - e.low for e in estimates], [e.high - e.mean for e in estimates]])
    ax.bar(names, means, yerr=np.clip(np.nan_to_num(errors), 0, None), capsize=4,
           color=[arm_colour(n) for n in names])
    ax.set_title(title, fontsize=9)
    ax.tick_params(axis="x", rotation=30, labelsize=8)
    ax.axhline(0, color="black", lw=0.6)


def comparison(result: TrialResult) -> ReportFigure:
    fig, axes = plt.subplots(1, len(COMPARED), figsize=(14, 3.4))
    names = list(result.arms)
    for ax, key in zip(axes, COMPARED, strict=True):
        _bars(ax, names, [result.arms[n].metrics[key] for n in names],
              key.replace("_", " ").replace("percent", "%"))
    return ReportFigure(
        "comparison", "The arms side by side",
        "Mean per arm with its 95% interval for five outcomes: time in target (the primary "
        "outcome: pain controlled while awake, no grade >= 2 side effect of the opioid), time "
        "with pain controlled, pain change from baseline, composite-toxicity change from "
        "baseline (negative is better for both changes) and clinical success. Overlapping "
        "intervals mean the trial cannot tell the arms apart on that outcome.", fig)


def hour_of_day(result: TrialResult) -> ReportFigure:
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.4))
    hours = np.arange(24)
    patient_days = result.config.patients * result.config.days
    for name, arm in result.arms.items():
        colour = arm_colour(name)
        left.plot(hours, arm.pain_by_hour, color=colour, label=name)
        right.plot(hours, arm.presses_by_hour / patient_days, color=colour,
                   label=f"{name} presses")
        if arm.refused_by_hour.any():
            right.plot(hours, arm.refused_by_hour / patient_days, color=colour, ls="--",
                       label=f"{name} refused")
    left.set(xlabel="hour of day", ylabel="mean pain NRS", ylim=(0, 10))
    right.set(xlabel="hour of day", ylabel="per patient-day", ylim=(0, None))
    left.legend(fontsize=7)
    right.legend(fontsize=7)
    return ReportFigure(
        "hour_of_day", "Pain and remote presses by hour of day",
        "Left: mean pain by hour (last week). Right: patient remote presses by hour, solid, "
        "and the presses the pump refused (lockout or daily maximum), dashed. Look for the "
        "hours when breakthrough pain is not covered: presses that are refused.", fig)


def oracle_distance(result: TrialResult) -> ReportFigure:
    fig, axes = plt.subplots(1, len(ORACLE_DISTANCE_KEYS), figsize=(14, 3.4))
    distances = oracle_distances(result)
    caption = ("Paired difference per patient between each arm and the oracle (which knows "
               "each virtual patient's hidden parameters), mean and 95% interval: how much "
               "better control or less drug was possible for the same patients.")
    if not distances:
        for ax in axes:
            ax.text(0.5, 0.5, "no oracle arm in this trial", ha="center", va="center")
            ax.set_axis_off()
        return ReportFigure("oracle_distance", "Distance from the oracle",
                            caption + " This trial has no oracle arm.", fig)
    names = list(distances)
    for ax, key in zip(axes, ORACLE_DISTANCE_KEYS, strict=True):
        _bars(ax, names, [distances[n][key] for n in names], key.replace("_", " "))
    return ReportFigure("oracle_distance", "Distance from the oracle", caption, fig)


def _box(ax: Axes, x: float, y: float, text: str) -> None:
    ax.text(x, y, text, ha="center", va="center", fontsize=8, wrap=True,
            bbox={"boxstyle": "round,pad=0.4", "facecolor": "white", "edgecolor": "0.3"})


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float]) -> None:
    ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "->", "color": "0.3"})


def _flow_panel(ax: Axes, name: str, f: Flow) -> None:
    """One screened arm's flow: referral at the top, the two treatments at the bottom."""
    excluded = sum(f.excluded.values())
    results = "\n".join(f"{v.lower().replace('_', ' ')}: {n}"
                         for v, n in f.screen_results.items())
    _box(ax, 0.5, 0.93, f"{name}\nreferred: {f.referred}")
    _box(ax, 0.15, 0.70, f"excluded at candidacy\n{excluded}")
    _box(ax, 0.5, 0.70, f"external catheter\n(short life expectancy)\n{f.external_catheter}")
    _box(ax, 0.85, 0.70, f"screened: {f.screened}\n{results}")
    _box(ax, 0.85, 0.42, f"implanted\n{f.implanted_after_screening}")
    it, cmm = f.received[INTRATHECAL_GROUP], f.received[CMM_GROUP]
    _box(ax, 0.62, 0.16, f"received intrathecal: {it}\ndied in the trial: "
         f"{f.died[INTRATHECAL_GROUP]}\nanalysed as treated: "
         f"{f.analysed_as_treated[INTRATHECAL_GROUP]}")
    _box(ax, 0.2, 0.16, f"continued cmm: {cmm}\ndied in the trial: {f.died[CMM_GROUP]}"
         f"\nanalysed as treated: {f.analysed_as_treated[CMM_GROUP]}")
    for end in ((0.15, 0.76), (0.5, 0.78), (0.85, 0.79)):
        _arrow(ax, (0.5, 0.89), end)
    _arrow(ax, (0.85, 0.6), (0.85, 0.46))
    _arrow(ax, (0.85, 0.38), (0.7, 0.22))
    _arrow(ax, (0.5, 0.63), (0.6, 0.22))
    _arrow(ax, (0.15, 0.65), (0.18, 0.22))
    _arrow(ax, (0.78, 0.6), (0.3, 0.22))
    ax.text(0.52, 0.44, f"not implanted: {f.not_implanted_after_screening}", fontsize=8,
            ha="center", color="0.3")
    ax.text(0.5, 0.01, f"analysed by intention to treat: {f.analysed_itt}", ha="center",
            fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_axis_off()


def flow(result: TrialResult) -> ReportFigure:
    flows = [(n, a.flow) for n, a in result.arms.items() if a.flow is not None]
    fig, axes = plt.subplots(1, max(1, len(flows)), figsize=(max(7.5, 7.5 * len(flows)), 5.2),
                             squeeze=False)
    caption = ("The flow of patients from referral (CONSORT style) in each screened arm: "
               "excluded at candidacy, sent to an external catheter, screened and implanted "
               "or not, then what each received and how many were analysed.")
    if not flows:
        ax = axes[0][0]
        ax.text(0.5, 0.5, "no screened arm in this trial", ha="center", va="center")
        ax.set_axis_off()
        return ReportFigure("flow", "Flow of patients", caption + " This trial has no "
                            "screened arm.", fig)
    for ax, (name, f) in zip(axes[0], flows, strict=True):
        _flow_panel(ax, name, f)
    return ReportFigure("flow", "Flow of patients", caption, fig)


#: Every cohort figure, in report order.
BUILDERS = (pain, dose, toxicity, prevalence, survival, inventory, comparison, hour_of_day,
            oracle_distance, flow)
FIGURES = ("pain", "dose", "side_effects", "prevalence", "survival", "inventory", "comparison",
           "hour_of_day", "oracle_distance", "flow")


def cohort_figures(result: TrialResult) -> list[ReportFigure]:
    """Every cohort figure (FIGURES order). Close them with `close` when written."""
    return [build(result) for build in BUILDERS]


def close(figures: list[ReportFigure]) -> None:
    for item in figures:
        plt.close(item.figure)
