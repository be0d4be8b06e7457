"""Trial outputs: metrics.json (keys documented), report.html, report.pdf and
patient_days.csv.

The HTML embeds its figures as PNG data URIs and its style inline, so it opens offline from
any folder; the PDF holds the same sections for sharing. Sections: methods (cohort, arms in
words, model version, seed and the command that reproduces the run), an interpretation read
from the numbers, the checks against published findings, baseline characteristics, outcomes,
side effects, survival, the distance from the oracle, the cohort figures with captions
(`idds.trial.figures`), and one chosen patient's day view (`idds.trial.patient_view`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from idds import DISCLAIMER
from idds.drugs import load_library
from idds.physiology.symptoms import Item, Symptom
from idds.trial import figures as cohort
from idds.trial import narrative, tables
from idds.trial.case import Case, follow, story
from idds.trial.export import write_patient_days
from idds.trial.figures import FIGURES
from idds.trial.metrics import METRIC_KEYS, ORACLE_DISTANCE_KEYS
from idds.trial.patient_view import check_patient, patient_figure
from idds.trial.report_html import render_html
from idds.trial.report_pdf import write_pdf
from idds.trial.runner import TrialResult
from idds.trial.summary import ArmResult
from idds.trial.tables import oracle_distances
from idds.trial.weekly import WEEKLY_KEYS

__all__ = ["FIGURES", "ReportFiles", "metrics_json", "write_report"]
TITLE = "IDDS in-silico trial"


def metrics_json(result: TrialResult) -> dict[str, Any]:
    config = asdict(result.config)
    for key in ("library", "scenario", "criteria"):
        config[key] = None if config[key] is None else str(config[key])
    return {
        "disclaimer": DISCLAIMER,
        "config": config,
        "histories_kept": result.histories_kept,
        "precision": None if result.precision is None else result.precision.as_json(),
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
                **({} if arm.flow is None else {"intake": _intake(arm)}),
                "forecast_calibration": arm.calibration.summary(),
            }
            for name, arm in result.arms.items()
        },
    }


def _intake(arm: ArmResult) -> dict[str, Any]:
    """A screened arm's flow, as-treated metrics and the screen's predictive value."""
    assert arm.flow is not None and arm.as_treated is not None
    return {
        "flow": arm.flow.as_json(),
        "as_treated": {group: {key: est.as_json() for key, est in found.items()}
                       for group, found in arm.as_treated.items()},
        "predictive_value": None if arm.predictive is None else arm.predictive.as_json(),
    }


def _baseline(arm: ArmResult) -> dict[str, float]:
    """The run-in day's means (the same in every arm)."""
    row = arm.baseline.row
    return {"pain_mean": float(row["pain_mean"].mean()),
            "toxicity_composite": float(row["toxicity_composite"].mean()),
            "oral_mg_per_day": float(row["oral_mg"].mean()),
            "plasma_ng_per_ml": float(row["plasma_mean"].mean())}


#: The seed article's patient, followed day by day in the report (`idds.trial.case`).
SEED_CASE = "seed-case"
CASE_DAYS = 14
CASE_ARMS = ("cmm", "it-standard")


def seed_case(result: TrialResult) -> Case | None:
    """The seed case under the trial's own oral and pump arms (None if it lacks them)."""
    if not all(arm in result.arms for arm in CASE_ARMS):
        return None
    days = min(CASE_DAYS, result.config.days)
    return follow(SEED_CASE, CASE_ARMS, days, load_library(result.config.library),
                  result.config.dt_min)


def sections(result: TrialResult, case: Case | None, patient: int = 0
             ) -> list[tuple[str, list[str]]]:
    """The report's text sections, (heading, paragraphs), the same in the HTML and the PDF;
    `patient`: the cohort index of the patient shown day by day."""
    found = [("Methods", narrative.methods(result)),
             ("Interpretation", narrative.interpretation(result)),
             ("Checks against published findings", narrative.checks(result))]
    referred = narrative.intake(result)
    if referred:
        found.append(("From referral to treatment", referred))
    believed = narrative.forecasts(result, patient)
    if believed:
        found.append(("What the controllers believed and predicted", believed))
    if case is not None:
        found.append(("The seed case", [f"The patient: {case.description}.", *story(case)]))
    return [*found, ("Survival", narrative.survival(result))]


def report_tables(result: TrialResult, case: Case | None) -> list[tables.Table]:
    found = [tables.baseline(result), tables.metrics(result), tables.week4(result)]
    oracle = tables.oracle(result)
    found += [] if oracle is None else [oracle]
    found += tables.as_treated(result)
    return found + ([] if case is None else [tables.case_table(case, a) for a in CASE_ARMS])


@dataclass(frozen=True)
class ReportFiles:
    """What `write_report` wrote (None: not asked for)."""

    metrics: Path
    html: Path
    pdf: Path | None
    csv: Path | None


def write_report(result: TrialResult, out: Path, *, patient: int = 0, pdf: bool = True,
                 csv: bool = True) -> ReportFiles:
    """Write metrics.json, report.html, report.pdf and patient_days.csv into `out` (created
    if missing); `patient` is the cohort index of the patient shown day by day."""
    check_patient(patient, result.config.patients, result.histories_kept)
    out.mkdir(parents=True, exist_ok=True)
    metrics_path = out / "metrics.json"
    metrics_path.write_text(json.dumps(metrics_json(result), indent=2) + "\n")
    drawn = [*cohort.cohort_figures(result), patient_figure(result, patient)]
    try:
        case = seed_case(result)
        text, found = sections(result, case, patient), report_tables(result, case)
        html_path = out / "report.html"
        html_path.write_text(render_html(TITLE, text, found, drawn))
        pdf_path = write_pdf(out / "report.pdf", TITLE, text, found, drawn) if pdf else None
    finally:
        cohort.close(drawn)
    csv_path = write_patient_days(result, out / "patient_days.csv") if csv else None
    return ReportFiles(metrics_path, html_path, pdf_path, csv_path)
