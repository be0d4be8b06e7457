"""`idds demo`: the main job. For now, the clinician calculators on a worked example."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from rich.panel import Panel

from idds.cli.calc import _limits_table
from idds.cli.output import DISCLAIMER, console
from idds.cli.pump import show_demo_run
from idds.dosing import catheter_volume, convert, plan_refill, rate_from_dose
from idds.drugs import Route, load_library
from idds.units import Kind, parse_quantity


def demo() -> None:
    """Run the worked example: a patient on 300 mg/day oral morphine moves to a pump."""
    out = console()
    out.print(Panel.fit(f"IDDS demo\n{DISCLAIMER}", style="bold"))
    library = load_library()
    out.print(f"Drug library: {library.data.library.name} {library.data.library.version}, "
              f"signature verified (key {library.signed_by}).")
    oral = parse_quantity("300 mg/day", Kind.DOSE_RATE, "dose")
    out.print(f"\n[bold]1. Conversion[/bold]: {oral} oral morphine to intrathecal")
    result = convert(library, "morphine", oral, Route.ORAL, Route.INTRATHECAL)
    out.print(f"   equianalgesic {result.equianalgesic.display()}, suggested start "
              f"[green]{result.suggested_start.display()}[/green]")
    for reason in result.reasons:
        out.print(f"   - {reason}", markup=False)
    out.print(_limits_table(library.drug("morphine"), tolerant=True))
    concentration = parse_quantity("10 mg/mL", Kind.CONCENTRATION, "concentration")
    flow = rate_from_dose(result.suggested_start, concentration)
    out.print(f"\n[bold]2. Pump rate[/bold]: {result.suggested_start} at {concentration} = "
              f"{flow.display('mL/day')} ({flow.display('uL/h')})")
    dead = catheter_volume(Fraction(48))
    out.print(f"\n[bold]3. Priming[/bold]: a 48 cm catheter holds {dead.display('mL')} "
              "(Prometra 0.0026 mL/cm)")
    plan = plan_refill(
        parse_quantity("20 mL", Kind.VOLUME, "volume"),
        parse_quantity("2 mL", Kind.VOLUME, "alarm volume"),
        concentration,
        result.suggested_start,
        date(2026, 12, 1),
        parse_quantity("0.1 mg", Kind.MASS, "bolus"),
        4,
    )
    out.print(f"\n[bold]4. Refill[/bold]: 20 mL at {concentration}, {result.suggested_start} "
              "plus up to 4 x 0.1 mg patient boluses a day, from 2026-12-01:")
    out.print(f"   worst-case use {plan.total_flow.display('mL/day')}; low-reservoir alarm "
              f"(2 mL) after {float(plan.days_to_alarm):.1f} days, on [green]{plan.alarm_date}"
              f"[/green]; empty on {plan.empty_date}.")
    out.print("\n[bold]5. The pump[/bold]: a short run of the implant model")
    show_demo_run(out)
