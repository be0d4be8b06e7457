"""`idds patient`: simulate one virtual patient given one drug by one route.

Research and training software, not a medical device. Bad input exits with status 2 and one
line on stderr (also when this app runs on its own, outside `idds.cli.main`).
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from idds.cli.druglib import LibraryOption, open_library
from idds.cli.output import JsonOption
from idds.drugs import DrugLibrary, Proposal, check_therapy
from idds.errors import IddsError
from idds.units import Kind, parse_quantity

if TYPE_CHECKING:
    from idds.physiology import Regimen

app = typer.Typer(
    help="Virtual patients: simulate PK, effects and pain for one patient "
    "(research and training software, not a medical device).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def patient() -> None:
    """Virtual patients (research and training software, not a medical device)."""


#: Image formats `--plot` writes (matplotlib's Agg backend), from the file name's ending.
PLOT_FORMATS = ("png", "pdf", "svg", "jpg", "jpeg", "tif", "tiff", "webp", "eps", "ps")


def _fail(message: str) -> NoReturn:
    print(f"idds: error: {message}", file=sys.stderr)
    raise typer.Exit(2)


def _dose(bolus: str | None, rate: str | None) -> Proposal:
    """The dose given, as a library proposal; refuses none, both, or a zero dose."""
    if (bolus is None) == (rate is None):
        _fail("give exactly one of --bolus DOSE or --rate RATE")
    if bolus is not None:
        given = parse_quantity(bolus, Kind.MASS, "--bolus")
        if not given.is_positive():
            _fail(f"--bolus must be above zero, not {bolus}: nothing would be given")
        return Proposal(bolus=given)
    assert rate is not None
    flow = parse_quantity(rate, Kind.DOSE_RATE, "--rate")
    if not flow.is_positive():
        _fail(f"--rate must be above zero, not {rate}: nothing would be given")
    return Proposal(daily_dose=flow)


def _regimen(drug: str, route: str, dose: Proposal) -> Regimen:
    from idds.physiology import Regimen

    if dose.bolus is not None:
        return Regimen(drug=drug, route=route, bolus_mg=float(dose.bolus.value_in("mg")))
    assert dose.daily_dose is not None
    return Regimen(drug=drug, route=route,
                   rate_mg_per_min=float(dose.daily_dose.value_in("mg/min")))


def library_warnings(library: DrugLibrary, drug: str, route: str, dose: Proposal,
                     tolerant: bool) -> list[str]:
    """The drug library's limits an intrathecal dose breaks, as sentences (the simulation
    still runs: overdose is a question a researcher may ask; the library's limits are for
    intrathecal use, so other routes get none)."""
    if route.strip().lower() != "intrathecal":
        return []
    entry = library.drug(drug)
    proposal = replace(dose, opioid_tolerant=tolerant)
    return [f"{b.kind.value} limit: {b.message} ({b.source})"
            for b in check_therapy(entry, proposal).breaches]


def _summary(series: dict[str, list[float]]) -> dict[str, float]:
    peak = max(series["analgesia"])
    above = [t for t, a in zip(series["time_min"], series["analgesia"], strict=True)
             if peak > 0 and a >= 0.5 * peak]
    return {
        "peak_csf_ng_per_ml": max(series["csf_ng_per_ml"]),
        "peak_plasma_ng_per_ml": max(series["plasma_ng_per_ml"]),
        "min_respiratory_rate_per_min": min(series["respiratory_rate_per_min"]),
        "max_sedation_poss": max(series["sedation_poss"]),
        "max_analgesia": peak,
        "analgesia_above_half_peak_until_h": above[-1] / 60.0 if above else 0.0,
        "final_pain_nrs": series["pain_nrs"][-1],
    }


def _plot(series: dict[str, list[float]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hours = [t / 60.0 for t in series["time_min"]]
    fig, axes = plt.subplots(3, 1, figsize=(8, 9), sharex=True)
    ax = axes[0]
    ax.plot(hours, series["csf_ng_per_ml"], label="lumbar CSF")
    ax.plot(hours, series["plasma_ng_per_ml"], label="plasma")
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_ylabel("concentration (ng/mL)")
    ax.legend()
    ax.set_title(title)
    ax = axes[1]
    ax.plot(hours, series["pain_nrs"], label="pain (NRS 0-10)")
    ax.plot(hours, [10 * a for a in series["analgesia"]], label="analgesia x10")
    ax.set_ylim(0, 10.5)
    ax.legend()
    ax = axes[2]
    ax.plot(hours, series["respiratory_rate_per_min"], label="respiratory rate (/min)")
    ax.plot(hours, series["sedation_poss"], label="sedation (POSS 1-4)")
    for key in ("nausea", "somnolence", "pruritus", "urinary_retention"):
        ax.plot(hours, series[key], label=f"{key} (0-10)", lw=0.8)
    ax.set_xlabel("time (h)")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


@app.command()
def simulate(
    drug: Annotated[str, typer.Option("--drug", help="morphine, hydromorphone or ziconotide.")],
    route: Annotated[str, typer.Option("--route", help="oral, iv or intrathecal.")],
    hours: Annotated[float, typer.Option("--hours", help="Simulated hours (> 0).")],
    bolus: Annotated[
        str | None, typer.Option("--bolus", help='One dose at time 0, like "0.5 mg".')
    ] = None,
    rate: Annotated[
        str | None, typer.Option("--rate", help='Constant rate, like "1 mg/day" or "20 mcg/h".')
    ] = None,
    archetype: Annotated[
        str | None,
        typer.Option("--archetype", help="Patient archetype (default: the refractory "
                     "typical-tolerant patient; an unknown name lists them all)."),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option("--seed", help="Sample a patient with this seed (default: typical one)."),
    ] = None,
    step_min: Annotated[float, typer.Option("--step-min", help="Step length, min.")] = 1.0,
    as_json: JsonOption = False,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write a PNG of concentrations and effects.")
    ] = None,
    library_path: LibraryOption = None,
) -> None:
    """Simulate one patient from a drug-free start (the prior oral regimen stopped)."""
    from idds.physiology import DEFAULT_ARCHETYPE, simulate_patient  # scipy loads only here
    from idds.physiology import archetype as get_archetype

    archetype = archetype or DEFAULT_ARCHETYPE
    if not (math.isfinite(hours) and hours > 0):
        _fail(f"--hours must be a positive number of hours, got {hours}")
    if not (math.isfinite(step_min) and 0 < step_min <= 60):
        _fail(f"--step-min must be in (0, 60] minutes, got {step_min}")
    if hours * 60.0 / step_min > 200_000:
        _fail("too many steps: shorten --hours or lengthen --step-min")
    if plot is not None and plot.suffix.lower().lstrip(".") not in PLOT_FORMATS:
        _fail(f"--plot {plot}: the file name must end in one of "
              + ", ".join(f".{f}" for f in PLOT_FORMATS))
    try:
        dose = _dose(bolus, rate)
        regimen = _regimen(drug, route, dose)
        warnings = library_warnings(open_library(library_path, None), regimen.drug,
                                    regimen.route, dose,
                                    get_archetype(archetype).tolerance_factor > 1)
        series = simulate_patient(regimen, hours, archetype, seed, step_min)
    except IddsError as exc:
        _fail(str(exc))
    for warning in warnings:
        print(f"idds: warning: drug library {warning}", file=sys.stderr)
    title = f"{regimen.drug} {regimen.route} ({archetype})"
    if plot is not None:
        try:
            _plot(series, plot, title)
        except OSError as exc:
            _fail(f"cannot write plot {plot}: {exc.strerror or exc}")
    summary = _summary(series)
    if as_json:
        doc = {
            "drug": regimen.drug,
            "route": regimen.route,
            "bolus_mg": regimen.bolus_mg,
            "rate_mg_per_min": regimen.rate_mg_per_min,
            "archetype": archetype,
            "seed": seed,
            "step_min": step_min,
            "summary": summary,
            "library_warnings": warnings,
            **series,
        }
        print(json.dumps(doc))
        return
    print(f"{title}, {hours:g} h (research and training software, not a medical device)")
    for key, value in summary.items():
        print(f"  {key}: {value:.4g}")
    if plot is not None:
        print(f"  plot: {plot}")
