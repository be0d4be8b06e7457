"""`idds trial`: run an in-silico trial and write metrics.json and report.html."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from idds.cli.output import DISCLAIMER, console, error_console, print_json
from idds.errors import IddsError

if TYPE_CHECKING:  # the trial stack (scipy, matplotlib) loads only when a trial runs
    from idds.trial import TrialConfig, TrialResult
    from idds.trial.runner import Executor

ARM_NAMES = ("cmm, it-standard, it-intelligent, it-rule-based, it-daily-target, oracle, "
             "it-screened (from referral: candidacy, screening, then it-standard or cmm); "
             "ARM+screened for any IT arm")

SUMMARY = ("time_in_target_percent", "pain_change_percent", "time_controlled_percent",
           "it_mg_per_day", "prior_oral_per_it", "oral_mg_per_day", "ome_mg_per_day",
           "toxicity_composite", "toxicity_change_percent", "off_systemic_end_percent",
           "nights_without_waking_percent", "respiratory_events_per_100_patient_days",
           "clinical_success_percent")


def _cell(mean: float, low: float, high: float) -> str:
    import math

    if not math.isfinite(mean):
        return "-"
    if not (math.isfinite(low) and math.isfinite(high)):
        return f"{mean:.3g}"
    return f"{mean:.3g} [{low:.3g}, {high:.3g}]"


def run_with_progress(config: TrialConfig, executor: Executor, quiet: bool) -> TrialResult:
    """Run a trial with a Rich progress bar on stderr (none when quiet)."""
    from idds.trial import run_trial

    if quiet:
        return run_trial(config, executor)
    errors = error_console()
    if not errors.is_terminal:  # a log file or a pipe: plain lines, one per batch
        def line(done: int, total: int) -> None:
            errors.print(f"trial: {done} of {total} batches done", markup=False,
                         highlight=False)

        return run_trial(config, executor, line)
    columns = (TextColumn("[bold]trial[/bold] batches"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=error_console(), transient=True) as bar:
        task = bar.add_task("batches", total=len(config.batches()))
        return run_trial(config, executor, lambda done, total: bar.update(task, completed=done))


def summary_table(result: TrialResult) -> Table:
    table = Table(title=f"{result.config.patients} patients x {result.config.days} days "
                        f"(seed {result.config.seed}); mean [95% CI]")
    table.add_column("metric")
    for name in result.arms:
        table.add_column(name, justify="right")
    for key in SUMMARY:
        cells = []
        for arm in result.arms.values():
            est = arm.metrics[key]
            cells.append(_cell(est.mean, est.low, est.high))
        table.add_row(key.replace("_", " "), *cells)
    days = result.config.days
    table.add_row(f"alive on day {days}, % (Kaplan-Meier)",
                  *(_cell(100 * a.survival.at(days), 100 * a.survival.low[-1],
                          100 * a.survival.high[-1]) for a in result.arms.values()))
    return table


def intake_lines(result: TrialResult) -> list[str]:
    """Each screened arm's flow, as-treated headline and the screen's predictive value."""
    from idds.trial.flow import flow_lines, predictive_lines
    from idds.trial.metrics import Estimate

    def cell(est: Estimate) -> str:
        return _cell(est.mean, est.low, est.high)

    lines = []
    for name, arm in result.arms.items():
        if arm.flow is None or arm.as_treated is None:
            continue
        lines += ["", *flow_lines(name, arm.flow)]
        for key in ("time_in_target_percent", "time_controlled_percent", "pain_change_percent",
                    "toxicity_composite"):
            cells = "; ".join(f"{group} {cell(m[key])}" for group, m in arm.as_treated.items())
            lines.append(f"  {key.replace('_', ' ')}: intention to treat "
                         f"{cell(arm.metrics[key])}; as treated: {cells}")
        lines += [f"  {line}" for line in predictive_lines(arm.predictive)]
    return lines


def forecast_lines(result: TrialResult) -> list[str]:
    """One line per arm whose controller forecast the next day's diary (the calibration)."""
    lines = []
    for name, arm in result.arms.items():
        found = arm.calibration.summary()
        if found is not None:
            lines.append(
                f"{name} forecasts: {100 * found['coverage']:.1f}% of next-day diary means "
                f"inside the {100 * found['interval_level']:.0f}% interval "
                f"({found['forecast_patient_days']:,} patient-days), bias "
                f"{found['bias_nrs']:+.2f} NRS, RMSE {found['rmse_nrs']:.2f} NRS; side effects "
                f"limiting {100 * found['limiting_predicted']:.1f}% of days predicted, "
                f"{100 * found['limiting_observed']:.1f}% observed")
    return lines


def _writable_folder(out: Path) -> None:
    """Refuse an unusable --out before the trial runs, not after."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".idds-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise IddsError(f"--out {out} is not a writable folder: {exc.strerror or exc}") from exc


def trial(
    patients: Annotated[int, typer.Option(help="Virtual patients in the cohort.")] = 200,
    days: Annotated[int, typer.Option(help="Simulated days per arm.")] = 28,
    arms: Annotated[str, typer.Option(help=f"Comma-separated arms: {ARM_NAMES}.")] = (
        "cmm,it-standard"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the cohort and every random stream.")] = 0,
    archetype: Annotated[str, typer.Option(help="Patient archetype of the cohort.")] = (
        "typical-tolerant"
    ),
    out: Annotated[Path, typer.Option(help="Folder for metrics.json and report.html.")] = Path(
        "out/trial"
    ),
    workers: Annotated[int, typer.Option(help="Local worker processes.")] = 1,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (tcp://host:port).")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Patients per batch (larger: faster).")] = 2000,
    scenario: Annotated[Path | None, typer.Option(
        help="Scenario file, or a built-in robustness scenario: missing-diaries-30, "
        "noisy-diary, never-press, press-at-lockout-end, fast-progression, pump-flow-high-14, "
        "catheter-obstruction (docs/controllers.md)."
    )] = None,
    patient: Annotated[int, typer.Option(
        help="Cohort index (0-based) of the patient the report shows day by day.")] = 0,
    screening: Annotated[str, typer.Option(
        help="Screened arms: the screening trial, infusion (catheter) or bolus (one test "
        "dose).")] = "infusion",
    screening_days: Annotated[int, typer.Option(
        help="Screened arms: days of a catheter infusion trial, 1-3.")] = 1,
    criteria: Annotated[Path | None, typer.Option(
        help="Screened arms: a signed candidacy criteria file (default: the reference "
        "criteria).")] = None,
    histories: Annotated[int, typer.Option(
        help="Patients (the cohort's first) whose day-by-day histories are kept for the "
        "report's daily curves, --patient and patient_days.csv; every metric uses every "
        "patient, so millions of patients fit in memory.")] = 10_000,
    target_precision: Annotated[float | None, typer.Option(
        help="Run batches until the exact 95% interval of --target-outcome, in every arm, is "
        "no wider than this share of the rate (0.5: about +-25%), or --patients is spent."
    )] = None,
    target_outcome: Annotated[str, typer.Option(
        help="The rare outcome of --target-precision: respiratory_events_per_100_patient_days, "
        "withdrawal_episodes_per_100_patient_days or "
        "severe_side_effect_days_per_100_patient_days."
    )] = "respiratory_events_per_100_patient_days",
    as_json: Annotated[bool, typer.Option("--json", help="Print metrics.json to stdout.")] = False,
) -> None:
    """Run an in-silico trial: the same virtual patients under each arm, side by side."""
    from idds.trial import DaskExecutor, LocalExecutor, TrialConfig
    from idds.trial.patient_view import check_patient
    from idds.trial.precision import Precision
    from idds.trial.report import metrics_json, write_report

    if target_precision is None and target_outcome != Precision.outcome:
        raise IddsError("--target-outcome is the outcome of --target-precision: give both")
    config = TrialConfig(
        patients=patients,
        days=days,
        arms=tuple(a.strip() for a in arms.split(",") if a.strip()),
        seed=seed,
        archetype=archetype,
        batch_size=batch_size,
        scenario=scenario,
        screening=screening,
        screening_days=screening_days,
        criteria=criteria,
        histories=histories,
        precision=None if target_precision is None else Precision(target_precision,
                                                                  target_outcome),
    )
    check_patient(patient, patients, histories)
    if target_precision is not None and patient >= batch_size:
        raise IddsError(f"--patient {patient}: a trial run to a precision may stop after its "
                        f"first batch of {batch_size} patients: choose 0 to {batch_size - 1}")
    executor: Executor = DaskExecutor(scheduler) if scheduler else LocalExecutor(workers)
    _writable_folder(out)
    result = run_with_progress(config, executor, quiet=as_json)
    files = write_report(result, out, patient=patient)
    if as_json:
        print_json(metrics_json(result))
        return
    out_console = console()
    out_console.print(summary_table(result))
    lines = intake_lines(result) + forecast_lines(result)
    if result.precision is not None:
        lines.append(result.precision.line())
    for line in lines:
        out_console.print(line, markup=False, highlight=False)
    kept = result.histories_kept
    patients_note = ("" if kept >= result.config.patients
                     else f" (the first {kept:,} patients: --histories)")
    out_console.print(f"Report:  {files.html}\nPDF:     {files.pdf}\nMetrics: {files.metrics}\n"
                      f"Per-patient days (CSV): {files.csv}{patients_note}", markup=False)
    out_console.print(f"[dim]{DISCLAIMER}[/dim]")
