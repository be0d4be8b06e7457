"""Clinician calculators: route conversion, refill date, rate from dose, catheter volume."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from idds.cli.druglib import LibraryOption, TrustOption, open_library, soft_warnings
from idds.cli.output import DISCLAIMER, JsonOption, console, print_json
from idds.dosing import (
    PROMETRA_CATHETER_FULL_LENGTH_CM,
    PROMETRA_CATHETER_ML_PER_CM,
    ConversionResult,
    RefillDue,
    RefillPlan,
    catheter_volume,
    dose_from_rate,
    plan_refill,
    rate_from_dose,
    refill_due_for,
)
from idds.dosing import convert as convert_dose
from idds.drugs import (
    DrugEntry,
    Proposal,
    Route,
)
from idds.errors import IddsError
from idds.pump.limits import LIMITS
from idds.pump.rules import flow_range_problem
from idds.units import Kind, Quantity, parse_quantity
from idds.units.numbers import parse_decimal


def _route(text: str, what: str) -> Route:
    try:
        return Route(text.strip().lower())
    except ValueError as exc:
        raise IddsError(
            f"{what} route {text!r} is unknown; routes: {', '.join(r.value for r in Route)}"
        ) from exc


def convert(
    drug: Annotated[str, typer.Option(help="Drug in the library, e.g. morphine.")],
    dose: Annotated[str, typer.Option(help='Total daily dose, e.g. "300 mg/day".')],
    from_route: Annotated[str, typer.Option("--from", help="oral, iv, epidural or intrathecal.")],
    to_route: Annotated[str, typer.Option("--to", help="oral, iv, epidural or intrathecal.")],
    frail: Annotated[bool, typer.Option(help="Frail or opioid-sensitive: start lower.")] = False,
    side_effect_switch: Annotated[
        bool, typer.Option(help="Switching for side effects at a low systemic dose (300:1).")
    ] = False,
    library_path: LibraryOption = None,
    trust_store: TrustOption = None,
    as_json: JsonOption = False,
) -> None:
    """Convert an opioid daily dose between routes; suggest a conservative start, with reasons."""
    daily = parse_quantity(dose, Kind.DOSE_RATE, "dose")
    source, target = _route(from_route, "--from"), _route(to_route, "--to")
    library = open_library(library_path, trust_store)
    result = convert_dose(library, drug, daily, source, target, frail, side_effect_switch)
    entry = library.drug(result.drug)
    if as_json:
        print_json(_conversion_json(result, entry))
        return
    _show_conversion(result, entry)


def _limits_json(drug: DrugEntry) -> dict[str, object]:
    limits: dict[str, object] = {
        name: {**limit.value.as_json(), "kind": limit.kind.value, "source": limit.source}
        for name, limit in drug.quantity_limits().items()}
    if drug.max_increase_percent is not None:
        limit = drug.max_increase_percent
        limits["max_increase_percent"] = {"value": limit.value, "unit": "%",
                                          "kind": limit.kind.value, "source": limit.source}
    return limits


def _conversion_json(result: ConversionResult, drug: DrugEntry) -> dict[str, object]:
    start = drug.start_range(tolerant=result.from_route in (Route.ORAL, Route.IV))
    return {
        "drug": result.drug,
        "dose": result.dose.as_json(),
        "from": result.from_route.value,
        "to": result.to_route.value,
        "oral_morphine_equivalent": result.oral_morphine_equivalent.as_json(),
        "equianalgesic": result.equianalgesic.as_json(),
        "suggested_start": (None if result.suggested_start is None
                            else result.suggested_start.as_json()),
        "below_start_range": result.below_start_range,
        "start_ratio": None if result.ratio_used is None else float(result.ratio_used),
        "reasons": list(result.reasons),
        "start_range": {"low": start.low.as_json(), "high": start.high.as_json(),
                        "source": start.source},
        "limits": _limits_json(drug) if result.to_route is Route.INTRATHECAL else {},
        "limit_breaches": [
            {"limit": b.limit_name, "kind": b.kind.value, "message": b.message}
            for b in result.breaches
        ],
    }


def _show_conversion(result: ConversionResult, drug: DrugEntry) -> None:
    out = console()
    table = Table(title=f"{result.drug}: {result.dose} {result.from_route} -> {result.to_route}")
    table.add_column("", style="bold")
    table.add_column("daily dose", justify="right")
    table.add_row("oral morphine equivalent", result.oral_morphine_equivalent.display())
    table.add_row("equianalgesic (300:100:10:1)", result.equianalgesic.display())
    start = result.suggested_start
    hard = any(b.kind.value == "hard" for b in result.breaches)
    if start is None:
        table.add_row("suggested start", "none: no practice rule (see 3.)")
    elif result.breaches:
        colour = "red" if hard else "yellow"
        table.add_row(f"[{colour}]suggested start[/{colour}]",
                      f"[{colour}]{start.display()}: breaks a library limit[/{colour}]")
    elif result.below_start_range:
        table.add_row("[yellow]suggested start[/yellow]",
                      f"[yellow]{start.display()}: below the usual starting range[/yellow]")
    else:
        table.add_row("[green]suggested start[/green]", f"[green]{start.display()}")
    out.print(table)
    for breach in result.breaches:
        kind = "HARD" if breach.kind.value == "hard" else "soft"
        out.print(f"[bold red]{kind} library limit[/bold red]: {escape(breach.message)}",
                  highlight=False)
    for number, reason in enumerate(result.reasons, 1):
        out.print(f"  {number}. {reason}", markup=False)
    if result.to_route is Route.INTRATHECAL:
        out.print(_limits_table(drug, result.from_route in (Route.ORAL, Route.IV)))
    out.print(f"[dim]{DISCLAIMER}[/dim]")


def _limits_table(drug: DrugEntry, tolerant: bool) -> Table:
    table = Table(title=f"Drug library limits: {drug.name}")
    for column in ("limit", "value", "kind", "source"):
        table.add_column(column)
    start = drug.start_range(tolerant)
    table.add_row("starting range", f"{start.low.display()} to {start.high.display()}",
                  start.kind.value, start.source)
    for name, limit in _limits_json(drug).items():
        assert isinstance(limit, dict)
        table.add_row(name.replace("_", " "), f"{limit['value']:g} {limit['unit']}",
                      str(limit["kind"]), str(limit["source"]))
    return table


def refill(
    volume: Annotated[str, typer.Option(help='Volume in the reservoir after refill, "18 mL".')],
    alarm_volume: Annotated[str, typer.Option(help='Low-reservoir alarm volume, "2 mL".')],
    concentration: Annotated[str, typer.Option(help='Drug concentration, "10 mg/mL".')],
    dose: Annotated[str, typer.Option(help='Programmed daily dose, "1 mg/day".')],
    bolus: Annotated[str | None, typer.Option(help='Patient bolus dose, "0.05 mg".')] = None,
    max_boluses: Annotated[int, typer.Option(help="Maximum patient boluses per day.")] = 0,
    start: Annotated[
        str | None, typer.Option("--from", help="Refill date YYYY-MM-DD (default: today).")
    ] = None,
    reservoir: Annotated[str, typer.Option(help='Reservoir capacity, "20 mL" or "40 mL".')] = (
        "40 mL"
    ),
    drug: Annotated[
        str | None, typer.Option(help="Drug, to check every library limit and its stability.")
    ] = None,
    library_path: LibraryOption = None,
    trust_store: TrustOption = None,
    as_json: JsonOption = False,
) -> None:
    """Days until the low-reservoir alarm and the refill date (every allowed bolus used)."""
    strength = parse_quantity(concentration, Kind.CONCENTRATION, "concentration")
    daily = parse_quantity(dose, Kind.DOSE_RATE, "dose")
    bolus_dose = None if bolus is None else parse_quantity(bolus, Kind.MASS, "bolus")
    entry = None if drug is None else open_library(library_path, trust_store).drug(drug)
    warnings: list[str] = []
    if entry is not None:
        # every library limit of the drug: concentration, the daily dose with every allowed
        # bolus, the bolus (a refill keeps a running therapy: no starting-range check)
        warnings = soft_warnings(entry, Proposal(
            concentration=strength, daily_dose=daily, bolus=bolus_dose,
            boluses_per_day=max_boluses, current_daily_dose=daily))
    _deliverable(rate_from_dose(daily, strength), f"--dose {dose} at {concentration}")
    plan = plan_refill(
        parse_quantity(volume, Kind.VOLUME, "volume"),
        parse_quantity(alarm_volume, Kind.VOLUME, "alarm volume"),
        strength,
        daily,
        _parse_date(start) if start else date.today(),
        bolus_dose,
        max_boluses,
        parse_quantity(reservoir, Kind.VOLUME, "reservoir"),
    )
    due = refill_due_for(plan, entry)
    if as_json:
        print_json(_refill_json(plan, entry, due, warnings))
        return
    _show_refill(plan, entry, due, warnings)


def _deliverable(flow: Quantity, what: str) -> None:
    """Refuse a pump rate the device cannot run (`pump.rules.flow_range_problem`)."""
    problem = flow_range_problem(flow, LIMITS)
    if problem:
        raise IddsError(f"{what} needs {problem}: choose another concentration")


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise IddsError(f"--from {text!r} is not a date like 2026-12-01") from exc


def _refill_json(plan: RefillPlan, entry: DrugEntry | None, due: RefillDue,
                 warnings: list[str]) -> dict[str, object]:
    return {
        "refill_by": due.date.isoformat(),
        "refill_by_reason": due.reason,
        "library_warnings": warnings,
        "days_to_alarm": float(plan.days_to_alarm),
        "alarm_date": plan.alarm_date.isoformat(),
        "days_to_empty": float(plan.days_to_empty),
        "empty_date": plan.empty_date.isoformat(),
        "refill_date": plan.start.isoformat(),
        "usable_volume": plan.usable_volume.as_json(),
        "basal_rate": plan.basal_flow.as_json(),
        "bolus_allowance_rate": plan.bolus_flow.as_json(),
        "total_rate": plan.total_flow.as_json(),
        "assumption": "every allowed patient bolus is used every day",
        "library_checked_for": None if entry is None else entry.name,
    }


def _show_refill(plan: RefillPlan, entry: DrugEntry | None, due: RefillDue,
                 warnings: list[str]) -> None:
    out = console()
    table = Table(title=f"Refill plan from {plan.start.isoformat()}")
    table.add_column("", style="bold")
    table.add_column("value", justify="right")
    table.add_row("basal rate", plan.basal_flow.display("mL/day"))
    table.add_row("bolus allowance", plan.bolus_flow.display("mL/day"))
    table.add_row("total (worst case)", plan.total_flow.display("mL/day"))
    table.add_row("usable volume", plan.usable_volume.display("mL"))
    table.add_row("days to alarm", f"{float(plan.days_to_alarm):.2f}")
    table.add_row("[green]low-reservoir alarm on[/green]", f"[green]{plan.alarm_date}")
    table.add_row("days to empty", f"{float(plan.days_to_empty):.2f}")
    table.add_row("[red]empty on[/red]", f"[red]{plan.empty_date}")
    table.add_row("[bold]refill by[/bold]", f"[bold]{due.date}")
    out.print(table)
    out.print(f"Refill by {due.date}: {due.reason}.", markup=False, highlight=False)
    out.print("Assumes every allowed patient bolus is used every day (as real programmers do).")
    for warning in warnings:
        out.print(f"[yellow]Drug library {escape(warning)}[/yellow]", highlight=False)
    if entry is None:
        out.print("[yellow]No --drug given: not checked against the drug library (limits, "
                  "stability).")
    out.print(f"[dim]{DISCLAIMER}[/dim]")


def rate(
    concentration: Annotated[str, typer.Option(help='Drug concentration, "10 mg/mL".')],
    dose: Annotated[str | None, typer.Option(help='Daily dose, "1 mg/day" (gives the rate).')] = (
        None
    ),
    flow: Annotated[
        str | None, typer.Option("--flow", help='Pump rate, "0.1 mL/day" (gives the dose).')
    ] = None,
    drug: Annotated[
        str | None, typer.Option(help="Drug, to check the concentration and dose against "
                                 "the library.")
    ] = None,
    library_path: LibraryOption = None,
    trust_store: TrustOption = None,
    as_json: JsonOption = False,
) -> None:
    """Pump rate from a daily dose and concentration, or the dose from a rate."""
    strength = parse_quantity(concentration, Kind.CONCENTRATION, "concentration")
    if (dose is None) == (flow is None):
        raise IddsError("give exactly one of --dose or --flow")
    if dose is not None:
        given = parse_quantity(dose, Kind.DOSE_RATE, "dose")
        pump_rate = rate_from_dose(given, strength)
        mass = given.unit.symbol.split("/")[0]
    else:
        pump_rate = parse_quantity(str(flow), Kind.FLOW, "flow")
        mass = strength.unit.symbol.split("/")[0]
        given = dose_from_rate(pump_rate, strength, f"{mass}/day")
    _deliverable(pump_rate, f"--dose {dose} at {concentration}" if dose is not None
                 else f"--flow {flow}")
    warnings: list[str] = []
    if drug is not None:  # a running dose: no starting-range check
        warnings = soft_warnings(open_library(library_path, trust_store).drug(drug), Proposal(
            concentration=strength, daily_dose=given, current_daily_dose=given))
    daily, hourly = given.to(f"{mass}/day"), given.to(f"{mass}/h")
    if as_json:
        print_json({"dose_per_day": daily.as_json(), "dose_per_hour": hourly.as_json(),
                    "rate_per_day": pump_rate.as_json("mL/day"),
                    "rate_per_hour": pump_rate.as_json("uL/h"),
                    "concentration": strength.as_json(), "library_warnings": warnings,
                    "library_checked_for": None if drug is None else drug.strip().lower()})
        return
    out = console()
    out.print(f"{daily.display()} (= {hourly.display()}) at {strength.display()} "
              f"= [bold]{pump_rate.display('mL/day')}[/bold] (= {pump_rate.display('uL/h')})")
    for warning in warnings:
        out.print(f"[yellow]Drug library {escape(warning)}[/yellow]", highlight=False)


def catheter(
    length_cm: Annotated[
        str | None, typer.Option(help='Implanted catheter length, "48 cm" (or a number of cm).')
    ] = None,
    trimmed_cm: Annotated[
        str | None,
        typer.Option(help='Length trimmed off the catheter, "40 cm" (Prometra: 110 cm long).'),
    ] = None,
    full_length: Annotated[
        str, typer.Option(help='The catheter before trimming, "110 cm" (Prometra).')
    ] = f"{PROMETRA_CATHETER_FULL_LENGTH_CM} cm",
    volume_per_cm: Annotated[
        str, typer.Option(help='Catheter volume per cm, "0.0026 mL" (Prometra).')
    ] = "0.0026 mL",
    as_json: JsonOption = False,
) -> None:
    """Catheter dead volume (the priming volume) from its length."""
    if (length_cm is None) == (trimmed_cm is None):
        raise IddsError("give exactly one of --length-cm or --trimmed-cm")
    full = _centimetres(full_length, "--full-length")
    if length_cm is not None:
        length = _centimetres(length_cm, "--length-cm")
        if length > full:
            raise IddsError(f"--length-cm {length_cm} is longer than the {_cm(full)} catheter "
                            "(--full-length): check the length")
        how = f"{_cm(length)} implanted"
    else:
        trimmed = _centimetres(str(trimmed_cm), "--trimmed-cm", allow_zero=True)
        if trimmed >= full:
            raise IddsError(f"--trimmed-cm {trimmed_cm} leaves nothing of the {_cm(full)} "
                            "catheter (--full-length): check the length trimmed")
        length = full - trimmed
        how = f"{_cm(full)} catheter trimmed by {_cm(trimmed)} = {_cm(length)} implanted"
    per_cm = parse_quantity(volume_per_cm, Kind.VOLUME, "volume per cm")
    volume = catheter_volume(length, per_cm)
    if as_json:
        print_json({"length_cm": float(length), "full_length_cm": float(full),
                    "trimmed_cm": None if trimmed_cm is None else float(full - length),
                    "volume": volume.as_json("mL"), "volume_per_cm": per_cm.as_json("mL")})
        return
    note = " (Prometra)" if per_cm == PROMETRA_CATHETER_ML_PER_CM else ""
    console().print(f"{how} x {per_cm.display('mL')}/cm{note} = "
                    f"[bold]{volume.display('mL')}[/bold] catheter volume", highlight=False)


def _centimetres(text: str, what: str, allow_zero: bool = False) -> Fraction:
    """'48 cm', '480 mm' or '48' (cm) -> Fraction of cm, through the one number reader
    (ASCII digits only, bounded)."""
    number, unit = text.strip(), "cm"
    for suffix in ("cm", "mm"):
        if number.endswith(suffix):
            number, unit = number[: -len(suffix)].strip(), suffix
            break
    value = parse_decimal(number, what) / (10 if unit == "mm" else 1)
    if value < 0 or (value == 0 and not allow_zero):
        raise IddsError(f"{what} must be above zero, not {text}")
    return value


def _cm(value: Fraction) -> str:
    return f"{float(value):g} cm"
