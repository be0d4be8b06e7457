"""`idds demo`: the main job, run by `make demo`.

The seed article's case (a 47-year-old man with kidney cancer and bone metastases, severe back
pain despite escalating oral opioids) from referral to an intrathecal pump: candidacy, the
screening trial, conversion, pump program and refill plan, a short run of the implant model,
then the man day by day on oral opioids and on the pump, then a small trial of a few hundred
virtual patients across the arms, with the report's path at the end.
"""

from __future__ import annotations

import io
from dataclasses import asdict
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from idds.cli.calc import _limits_table
from idds.cli.output import DISCLAIMER, JsonOption, console, print_json
from idds.cli.pump import demo_program, show_demo_run
from idds.cli.trial import run_with_progress, summary_table
from idds.dosing import catheter_volume, convert, plan_refill, rate_from_dose, refill_due_for
from idds.drugs import DrugLibrary, Route, load_library
from idds.errors import IddsError
from idds.units import Kind, Quantity, parse_quantity

if TYPE_CHECKING:  # the trial stack loads only when the demo runs
    from idds.selection import CandidacyCriteria, CandidacyVerdict, CandidateRecord
    from idds.trial.case import Case

DEMO_ARMS = ("cmm", "it-standard", "it-intelligent", "oracle")


def _calculators(out: Console, library: DrugLibrary, oral_mg_per_day: float,
                 data: dict[str, object]) -> dict[str, dict[str, object]]:
    """Steps 3 and 4: the conversion, the pump program and its refill plan (also put into
    `data`, the --json document); returns the program that step 5 runs (the same numbers)."""
    oral = Quantity.of(round(oral_mg_per_day), "mg/day")
    out.print(f"\n[bold]3. Conversion[/bold]: his {oral} oral morphine to intrathecal")
    result = convert(library, "morphine", oral, Route.ORAL, Route.INTRATHECAL)
    start = result.suggested_start
    if start is None:  # the reference library has a practice rule for oral to intrathecal
        raise IddsError("the drug library suggests no start for oral to intrathecal morphine")
    out.print(f"   equianalgesic {result.equianalgesic.display()}, suggested start "
              f"[green]{start.display()}[/green]")
    for reason in result.reasons:
        out.print(f"   - {reason}", markup=False)
    out.print(_limits_table(library.drug("morphine"), tolerant=True))
    concentration = parse_quantity("10 mg/mL", Kind.CONCENTRATION, "concentration")
    flow = rate_from_dose(start, concentration)
    out.print(f"\n[bold]4. Pump program[/bold]: {start.display()} at "
              f"{concentration} = {flow.display('mL/day')} ({flow.display('uL/h')}); a 48 cm "
              f"catheter holds {catheter_volume(Fraction(48)).display('mL')} to prime "
              "(Prometra 0.0026 mL/cm)")
    bolus = parse_quantity("0.3 mg", Kind.MASS, "bolus")
    fill = parse_quantity("20 mL", Kind.VOLUME, "volume")
    alarm = parse_quantity("2 mL", Kind.VOLUME, "alarm volume")
    plan = plan_refill(fill, alarm, concentration, start, date(2026, 12, 1), bolus, 4)
    due = refill_due_for(plan, library.drug("morphine"))
    out.print(f"   Refill plan from 2026-12-01 with up to 4 x {bolus} patient boluses a day: "
              f"worst-case use {plan.total_flow.display('mL/day')}, low-reservoir alarm "
              f"after {float(plan.days_to_alarm):.1f} days on [green]{plan.alarm_date}[/green], "
              f"empty on {plan.empty_date}; refill by {due.date} ({due.reason}).")
    program = demo_program(start, bolus, 4, fill, alarm)
    data["conversion"] = {"oral": oral.as_json(), "equianalgesic": result.equianalgesic.as_json(),
                          "suggested_start": start.as_json(), "reasons": list(result.reasons)}
    data["program"] = program
    data["refill_plan"] = {"total_rate": plan.total_flow.as_json("mL/day"),
                           "days_to_alarm": float(plan.days_to_alarm),
                           "alarm_date": plan.alarm_date.isoformat(),
                           "empty_date": plan.empty_date.isoformat(),
                           "refill_by": due.date.isoformat(), "refill_by_reason": due.reason}
    return program


def _referral(out: Console, case: Case, criteria: CandidacyCriteria
              ) -> tuple[CandidateRecord, CandidacyVerdict]:
    """Step 1: the candidacy assessment on his record at referral (the run-in day)."""
    from idds.physiology import archetype
    from idds.selection import assess
    from idds.trial.referral import NOTHING_AGAINST, referral_record

    day0 = case.days["cmm"][0]
    record = referral_record("seed case", "renal cell carcinoma",
                             ("kidney", "lung", "bone"), day0.pain_mean,
                             case.prior_oral_mg_per_day, day0.symptom_grades,
                             archetype(case.archetype).median_survival_days)
    verdict = assess(record, criteria)
    out.print(f"\n[bold]1. Referral[/bold]: candidacy ({criteria.name} {criteria.version}): "
              f"[green]{verdict.summary}[/green]")
    for reason in verdict.reasons:
        out.print(f"   - {reason}", markup=False)
    out.print(f"   ({NOTHING_AGAINST})", markup=False)
    return record, verdict


def _screening(out: Console, case: Case, record: CandidateRecord, library: DrugLibrary,
               criteria: CandidacyCriteria) -> dict[str, object]:
    """Step 2: his screening trial (the method trials from referral use by default), then the
    candidacy decision with its result."""
    from dataclasses import replace

    from idds.selection import CandidacyOutcome, assess
    from idds.selection.screening import screen_archetype
    from idds.trial.intake import IntakeSettings

    chosen = IntakeSettings()
    result = screen_archetype(case.archetype, library, method=chosen.method, days=chosen.days)
    decision = result.decision
    after = assess(replace(record, screen=decision.as_prior_screen()), criteria)
    out.print(f"\n[bold]2. Screening trial[/bold]: {result.dose.describe()}, monitored "
              f"{decision.monitored_h:g} h: [green]{decision.verdict.value.lower()}[/green]; "
              f"then candidacy: [green]{after.summary}[/green]")
    for reason in (*result.dose.reasons, *decision.reasons):
        out.print(f"   - {reason}", markup=False)
    if after.outcome is not CandidacyOutcome.IMPLANTED_PUMP:
        out.print("   The team would not implant him; the demo goes on to show the pump "
                  "for teaching.", markup=False)
    return {"screening": result.as_json(), "candidacy_after_screening": after.as_json()}


def _grade(g: int) -> str:
    return "-" if g <= 0 else f"G{g}"


def _case_table(case: Case, arm: str) -> Table:
    table = Table(title=f"{arm}, day by day (day 0: the run-in on his prior "
                        f"{case.prior_oral_mg_per_day:g} mg/day oral morphine around the "
                        "clock). Doses mg that day; the oral column includes rescue doses; "
                        "pain NRS; drowsy, appetite lost 0-10; G = CTCAE grade; spinal = itch "
                        "or urinary retention",
                  title_justify="left", box=None, padding=(0, 1, 0, 0),
                  header_style="bold underline")
    for column in ("day", "oral", "IT", "pain", "night", "drowsy", "appetite", "constip",
                   "nausea", "spinal", "tox", "bolus"):
        table.add_column(column, justify="right")
    for r in case.days[arm]:
        spinal = max(r.pruritus_grade, r.urinary_retention_grade)
        table.add_row(str(r.day), f"{r.oral_mg:.0f}", f"{r.it_mg:.1f}", f"{r.pain_mean:.1f}",
                      "ok" if r.slept else "woken", f"{r.drowsiness:.1f}",
                      f"{r.lack_of_appetite:.1f}", _grade(r.constipation_grade),
                      _grade(r.nausea_grade), _grade(spinal), f"{r.toxicity:.0f}",
                      f"{r.given}/{r.presses}")
    return table


def demo(
    patients: Annotated[int, typer.Option(help="Patients in the closing trial.")] = 300,
    days: Annotated[int, typer.Option(help="Days of the closing trial.")] = 28,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the trial report.")] = Path(
        "out/demo"
    ),
    as_json: JsonOption = False,
) -> None:
    """The main job: the seed article's case moved to a pump, then a small trial."""
    from idds.selection import load_criteria
    from idds.trial import ARMS, LocalExecutor, TrialConfig
    from idds.trial.case import follow, story
    from idds.trial.claims import check
    from idds.trial.report import CASE_ARMS, CASE_DAYS, SEED_CASE, metrics_json, write_report

    out = Console(file=io.StringIO()) if as_json else console()  # --json: data only
    out.print(Panel.fit(f"IDDS demo\n{DISCLAIMER}", style="bold"))
    library = load_library()
    data: dict[str, object] = {
        "disclaimer": DISCLAIMER,
        "library": {"name": library.data.library.name,
                    "version": library.data.library.version, "signed_by": library.signed_by}}
    out.print(f"Drug library: {library.data.library.name} {library.data.library.version}, "
              f"signature verified (key {library.signed_by}).")
    arms = tuple(a for a in DEMO_ARMS if a in ARMS)
    case = follow(SEED_CASE, CASE_ARMS, CASE_DAYS, library)
    out.print(Panel(f"The patient: {case.description}.", title="seed case"))
    data["seed_case"] = {"description": case.description, "archetype": case.archetype,
                         "prior_oral_mg_per_day": case.prior_oral_mg_per_day}
    criteria = load_criteria()
    record, candidacy = _referral(out, case, criteria)
    data["candidacy"] = candidacy.as_json()
    data.update(_screening(out, case, record, library, criteria))
    program = _calculators(out, library, case.prior_oral_mg_per_day, data)
    out.print("\n[bold]5. The implant[/bold]: the pump model runs that program for 4 days, "
              "with four remote presses (one inside the lockout)")
    data["implant_run"] = show_demo_run(out, program)
    out.print(f"\n[bold]6. His next {CASE_DAYS} days[/bold], twice: on escalating oral "
              "morphine (cmm: comprehensive medical management, oral opioids titrated by pain "
              "specialists), and after the implant (it-standard: taper, pump, remote)")
    for arm in case.days:
        out.print(_case_table(case, arm))
    data["case_days"] = {arm: [asdict(r) for r in rows] for arm, rows in case.days.items()}
    for line in story(case):
        out.print(f"   {line}", markup=False)
    out.print(f"\n[bold]7. A small trial[/bold]: {patients} virtual patients of the "
              "typical-tolerant archetype (refractory cancer pain on >= 200 mg/day oral "
              f"morphine) x {days} days, arms {', '.join(arms)}")
    config = TrialConfig(patients=patients, days=days, arms=arms, seed=2026,
                         batch_size=max(1, (patients + 1) // 2))
    result = run_with_progress(config, LocalExecutor(2), quiet=as_json)
    out.print(summary_table(result))
    out.print("\n[bold]Does the seed's claim hold in the model?[/bold] (it-standard against "
              "cmm, the same patients)")
    claims = check(result)
    for claim in claims:
        verdict = "[green]holds[/green]" if claim.holds else "[red]does not hold[/red]"
        out.print(f" - {claim.statement}: {verdict}")
        out.print(f"   {claim.evidence}", markup=False)
    files = write_report(result, out_dir)
    out.print(f"Report: [bold]{files.html}[/bold] (PDF: {files.pdf}; metrics: {files.metrics}; "
              f"per-patient days: {files.csv})")
    out.print(f"[dim]{DISCLAIMER}[/dim]")
    if as_json:
        data["trial"] = metrics_json(result)
        data["claims"] = [asdict(c) for c in claims]
        data["report"] = {"html": str(files.html), "pdf": str(files.pdf),
                          "metrics": str(files.metrics), "csv": str(files.csv)}
        print_json(data)
