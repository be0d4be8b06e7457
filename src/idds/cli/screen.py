"""`idds screen`: the screening trial of intrathecal therapy on one virtual patient.

A single intrathecal test bolus or a catheter infusion over 1-3 days, monitored for at least
24 h (respiratory rate, sedation as POSS, side-effect grades, a pain diary every hour awake),
and the verdict with the numbers that decided it (`idds.selection.screening`). Research and
training software, not a medical device. Bad input exits with status 2 and one line on
stderr, before anything runs or is written.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.table import Table

from idds.cli.druglib import LibraryOption, open_library
from idds.cli.output import DISCLAIMER, JsonOption, console, print_json
from idds.cli.patient import PLOT_FORMATS
from idds.errors import IddsError
from idds.units import Kind, parse_quantity

if TYPE_CHECKING:
    from idds.selection.screening import ScreeningResult

def _fail(message: str) -> NoReturn:
    print(f"idds: error: {message}", file=sys.stderr)
    raise typer.Exit(2)


def _table(result: ScreeningResult) -> Table:
    threshold = result.decision.baseline_nrs * (1 - result.rule.relief_threshold_percent / 100)
    table = Table(title=f"{result.dose.describe()}, hour by hour (h from the test dose; "
                        f"success: diary NRS <= {threshold:.1f})")
    for name in ("h", "clock", "CSF ng/mL", "NRS", "diary", "RR/min", "POSS"):
        table.add_column(name, justify="right")
    table.add_column("side effects (grade >= 1)")
    acute = result.rule.intolerable_side_effects
    for hour in result.course:
        effects = ", ".join(f"{name.replace('_', ' ')} {grade}"
                            for name, grade in hour.side_effect_grades.items()
                            if grade >= 1 and name in acute)
        csf = hour.csf_ng_per_ml
        table.add_row(
            f"{hour.hour_h:g}", hour.clock, f"{csf:.0f}" if csf >= 10 else f"{csf:.2g}",
            f"{hour.pain_nrs:.1f}", "" if hour.diary_nrs is None else str(hour.diary_nrs),
            f"{hour.respiratory_rate_per_min:.1f}", str(hour.sedation_poss), effects or "-")
    return table


def _plot(result: ScreeningResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hours = [h.hour_h for h in result.course]
    fig, axes = plt.subplots(3, 1, figsize=(8, 8), sharex=True)
    d = result.decision
    axes[0].plot(hours, [h.pain_nrs for h in result.course], label="pain (NRS)")
    diary = [(h.hour_h, h.diary_nrs) for h in result.course if h.diary_nrs is not None]
    axes[0].plot([x for x, _ in diary], [y for _, y in diary], "o", ms=3, label="diary")
    line = d.baseline_nrs * (1 - result.rule.relief_threshold_percent / 100)
    axes[0].axhline(line, color="green", ls="--",
                    label=f"success: -{result.rule.relief_threshold_percent:g}% "
                          f"(NRS {line:.1f})")
    axes[0].set_ylim(0, 10.5)
    axes[0].set_ylabel("NRS 0-10")
    axes[0].legend(fontsize="small")
    axes[0].set_title(f"{result.dose.describe()}: {d.verdict.value}")
    axes[1].plot(hours, [h.respiratory_rate_per_min for h in result.course],
                 label="respiratory rate, lowest in the hour")
    axes[1].axhline(result.rule.stop_respiratory_rate_per_min, color="red", ls="--",
                    label="stop rule")
    axes[1].set_ylabel("breaths/min")
    axes[1].legend(fontsize="small")
    axes[2].step(hours, [h.sedation_poss for h in result.course], where="post",
                 label="sedation, POSS (highest in the hour)")
    axes[2].axhline(result.rule.stop_poss, color="red", ls="--", label="stop rule")
    axes[2].set_ylim(0.5, 4.5)
    axes[2].set_ylabel("POSS 1-4")
    axes[2].set_xlabel("hours from the test dose")
    axes[2].legend(fontsize="small")
    for ax in axes:
        ax.axvline(0, color="grey", lw=0.8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def screen(
    archetype: Annotated[str | None, typer.Option(
        "--archetype", help="Patient archetype (an unknown name lists them all; default "
                            "typical-tolerant).", show_default=False)] = None,
    patient: Annotated[Path | None, typer.Option(
        "--patient", help="Candidate record (idds candidacy's patient file): screen this "
                          "patient's regimen, pain and pain type instead of an archetype.")
    ] = None,
    seed: Annotated[int | None, typer.Option(
        "--seed", help="Sample a patient with this seed (default: the typical one).")] = None,
    method: Annotated[str, typer.Option(
        "--method", help="bolus (one intrathecal test bolus) or infusion (catheter).")
    ] = "bolus",
    days: Annotated[int, typer.Option(
        "--days", help="Days of the infusion trial, 1-3 (infusion only).")] = 1,
    drug: Annotated[str, typer.Option(
        "--drug", help="Drug of the drug library the virtual patients model "
                       "(morphine, hydromorphone, ziconotide).")] = "morphine",
    bolus: Annotated[str | None, typer.Option(
        "--bolus", help='Test bolus instead of the library-derived one, like "0.3 mg" '
                        "(never above the library's hard maximum bolus).")] = None,
    rule_path: Annotated[Path | None, typer.Option(
        "--rule", help="TOML of screening rule fields (docs/screening.md).")] = None,
    as_json: JsonOption = False,
    plot: Annotated[Path | None, typer.Option(
        "--plot", help="Write a PNG of pain, respiratory rate and sedation.")] = None,
    library_path: LibraryOption = None,
) -> None:
    """Screen one virtual patient for intrathecal therapy: test dose, monitoring, verdict."""
    from idds.selection import load_candidate
    from idds.selection.screening import screen_archetype, screen_subject
    from idds.selection.screening_rules import ScreeningMethod, ScreeningRule, load_rule
    from idds.selection.screening_subject import subject_from_record

    if patient is not None and archetype is not None:
        _fail("give --patient or --archetype, not both")

    try:
        chosen = ScreeningMethod(method.strip().lower())
    except ValueError:
        _fail(f"--method must be bolus or infusion, not {method!r}")
    if not 1 <= days <= 3:
        _fail(f"--days must be 1-3 (an infusion trial lasts 1-3 days), not {days}")
    if days != 1 and chosen is ScreeningMethod.BOLUS:
        _fail("--days is for --method infusion; a bolus is monitored for the rule's hours")
    if bolus is not None and chosen is not ScreeningMethod.BOLUS:
        _fail("--bolus is for --method bolus")
    if seed is not None and seed < 0:
        _fail(f"--seed must be a whole number >= 0, not {seed}")
    if plot is not None and plot.suffix.lower().lstrip(".") not in PLOT_FORMATS:
        _fail(f"--plot {plot}: the file name must end in one of "
              + ", ".join(f".{f}" for f in PLOT_FORMATS))
    try:
        rule = load_rule(rule_path) if rule_path is not None else ScreeningRule()
        bolus_mg = None if bolus is None else float(
            parse_quantity(bolus, Kind.MASS, "--bolus").value_in("mg"))
        library = open_library(library_path, None)
        if patient is not None:
            record = load_candidate(patient)
            who = record.label
            result = screen_subject(subject_from_record(record), library, seed=seed,
                                    drug=drug, method=chosen, days=days, rule=rule,
                                    bolus_mg=bolus_mg)
        else:
            who = f"{archetype or 'typical-tolerant'} patient"
            result = screen_archetype(archetype or "typical-tolerant", library, seed=seed,
                                      drug=drug, method=chosen, days=days, rule=rule,
                                      bolus_mg=bolus_mg)
    except IddsError as exc:
        _fail(str(exc))
    if plot is not None:
        try:
            _plot(result, plot)
        except OSError as exc:
            _fail(f"cannot write plot {plot}: {exc.strerror or exc}")
    if as_json:
        print_json({"disclaimer": DISCLAIMER, "patient": who,
                    "archetype": None if patient is not None else (archetype
                                                                   or "typical-tolerant"),
                    "seed": seed, **result.as_json()})
        return
    out = console()
    out.print(f"Screening trial, {who}"
              + (f" (seed {seed})" if seed is not None else " (typical)")
              + f": {DISCLAIMER}", markup=False)
    for reason in result.dose.reasons:
        out.print(f"  dose: {reason}", markup=False)
    out.print(f"  reachable share of the pain drive (intrathecal opioid): "
              f"{result.reachable_share:.2f}", markup=False)
    out.print(_table(result))
    out.print(f"Verdict: {result.verdict.value}", markup=False)
    for reason in result.decision.reasons:
        out.print(f"  {reason}", markup=False)
    if plot is not None:
        out.print(f"  plot: {plot}", markup=False)
