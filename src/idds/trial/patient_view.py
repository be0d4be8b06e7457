"""One virtual patient's course under every arm, on one timeline (like Nightscout's day view).

Rows share the day axis: pain (daily mean) with the patient's diary entries (daily mean of the
entries, where there were any); intrathecal dose (programmed basal and delivered); oral
morphine taken; patient boluses given and presses refused; composite toxicity. One column
per arm: the same patient, so the columns differ only by the strategy.
"""

from __future__ import annotations

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.ticker import MaxNLocator

from idds.errors import IddsError
from idds.trial.figures import ReportFigure, arm_colour
from idds.trial.runner import TrialResult


class PatientChoiceError(IddsError):
    """The patient asked for is not in the cohort."""


def check_patient(patient: int, patients: int, kept: int | None = None) -> None:
    """Refuse a patient number outside a cohort of `patients` (0-based), or past the first
    `kept` patients, whose daily histories are kept (None: all of them)."""
    if not 0 <= patient < patients:
        raise PatientChoiceError(
            f"--patient {patient} is not in the cohort: choose 0 to {patients - 1}")
    if kept is not None and patient >= kept:
        raise PatientChoiceError(
            f"--patient {patient}: the days of only the first {kept:,} patients are kept "
            f"(--histories {kept}): choose 0 to {kept - 1} or raise --histories")


def _column(result: TrialResult, name: str, field: str, patient: int) -> np.ndarray:
    values: np.ndarray = result.arms[name].history[field][:, patient].astype(np.float64)
    return values


def patient_figure(result: TrialResult, patient: int) -> ReportFigure:
    """The chosen patient's days under each arm (`check_patient` first)."""
    check_patient(patient, result.config.patients, result.histories_kept)
    names = list(result.arms)
    fig, axes = plt.subplots(5, len(names), figsize=(max(4.6 * len(names), 7), 10),
                             sharex=True, squeeze=False)
    for col, name in enumerate(names):
        colour = arm_colour(name)
        pain = _column(result, name, "pain_mean", patient)
        days = np.arange(1, pain.size + 1)
        count = _column(result, name, "diary_count", patient)
        with np.errstate(invalid="ignore", divide="ignore"):
            diary = np.where(count > 0, _column(result, name, "diary_sum", patient) / count,
                             np.nan)
        top, mid, oral, low, bottom = axes[:, col]
        top.plot(days, pain, color=colour, label="pain (daily mean)")
        top.plot(days, diary, "o", color="black", ms=3, label="diary entries (mean)")
        top.axhline(3, color="grey", lw=0.8, ls="--")
        top.set(title=name, ylim=(0, 10))
        top.legend(fontsize=7, loc="lower left")
        it = _column(result, name, "it_mg", patient)
        programmed = _column(result, name, "it_programmed_mg_per_day", patient)
        mid.step(days, programmed, where="mid", color=colour, label="IT basal programmed")
        mid.plot(days, it, color=colour, ls=":", marker=".", label="IT delivered")
        mid.set(ylim=(0, max(0.1, float(np.nanmax(np.r_[it, programmed, 0])) * 1.15)))
        mid.legend(fontsize=7, loc="lower right")
        oral.plot(days, _column(result, name, "oral_mg", patient), color="grey",
                  marker=".", label="oral taken (with rescue)")
        oral.set(ylim=(0, None))
        oral.legend(fontsize=7, loc="lower left")
        given = _column(result, name, "given", patient)
        refused = _column(result, name, "refused", patient)
        low.bar(days, given, color=colour, label="boluses given")
        low.bar(days, refused, bottom=np.nan_to_num(given), color="white", edgecolor=colour,
                hatch="//", label="presses refused")
        low.set(ylim=(0, None))
        low.yaxis.set_major_locator(MaxNLocator(integer=True))
        bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
        low.legend(fontsize=7, loc="upper right")
        bottom.plot(days, _column(result, name, "toxicity_composite", patient), color=colour)
        bottom.set(xlabel="trial day", ylim=(0, None))
    for row, label in enumerate(("pain NRS", "IT mg/day", "oral mg/day", "boluses per day",
                                 "toxicity (CTCAE sum)")):
        axes[row, 0].set_ylabel(label)
    return ReportFigure(
        "patient", f"Patient {patient}, day by day",
        f"Virtual patient {patient} of the cohort under each arm (the same patient, so only "
        "the strategy differs). Rows: daily mean pain with the diary entries (dots; dashed: "
        "NRS 3); the programmed intrathecal basal and the intrathecal drug delivered; oral "
        "morphine taken, rescue included; patient boluses given and presses refused "
        "(hatched); composite toxicity. Empty days after the last one are days after death.", fig)
