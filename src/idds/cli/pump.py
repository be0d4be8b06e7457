"""`idds pump`: run the implanted-pump model alone.

- `idds pump simulate --program FILE --days N [--press DAY:HH:MM ...] [--seed S] [--json]`
- `idds pump trumpet --rate "0.5 mL/day" [--hours H] [--seed S] [--out DIR]`
- `idds pump serve --state DIR [--port P] [--speed X] [--seed S] [--library FILE]
  [--secure-element DIR]`: run one emulated pump on 127.0.0.1 (prints the port on the first
  line, writes DIR/port); its device key and anti-rollback generations are in the secure
  element directory (default ~/.idds/secure-element)

Pairing needs the near-field channel: the device's own wand (`idds program pair --wand DIR`,
`idds remote pair --wand DIR`) opens the running emulator's pairing window, so there is no
pump-side pairing command.

Bad input exits with status 2 and one line on stderr (typed `IddsError`s are caught here too,
so the sub-app behaves the same when run on its own).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from idds.cli.devices import one_line_errors
from idds.cli.druglib import LibraryOption, open_library
from idds.cli.output import JsonOption
from idds.drugs import HardLimitError
from idds.protocol.checks import check
from idds.pump.clock import DAY, HOUR, MINUTE, format_time
from idds.pump.convert import NL_PER_ML
from idds.pump.errors import PumpError
from idds.pump.programfile import ProgramFile, load_program, parse_program
from idds.pump.simulate import SimulationResult, simulate
from idds.pump.trumpet import run_trumpet, write_outputs
from idds.units import Kind, Quantity, parse_quantity

app = typer.Typer(
    help="The implanted pump model: simulate a program file with patient presses, measure "
    "flow accuracy (trumpet curve), or serve an emulated pump to program over the link (pair "
    "with the programmer's wand: idds program pair --wand DIR). Research and training "
    "software, not a medical device.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class PressError(PumpError):
    """A --press that is not DAY:HH:MM."""


def parse_press(text: str) -> Fraction:
    """'DAY:HH:MM' (day 1 is the first day of the run) -> seconds since the start."""
    parts = text.split(":")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() and len(p) <= 6 for p in parts):
        raise PressError(f"--press {text[:24]!r} is not DAY:HH:MM (for example 1:08:30)")
    day, hh, mm = (int(p) for p in parts)
    if day < 1 or not 0 <= hh < 24 or not 0 <= mm < 60:
        raise PressError(f"--press {text!r}: day from 1, HH 00-23, MM 00-59")
    return (day - 1) * DAY + hh * HOUR + mm * MINUTE


def result_json(result: SimulationResult) -> dict[str, object]:
    """The --json document of a simulation."""
    pump = result.pump
    check = pump.log.verify()
    return {
        "delivered_mg_per_day": [round(v, 6) for v in result.delivered_mg_per_day],
        "boluses": [
            {"time": format_time(p.time), "time_s": float(p.time),
             "outcome": "given" if p.given else "refused", "reason": p.reason}
            for p in result.presses
        ],
        "alarms": [
            {"time": format_time(a.time), "time_s": float(a.time), "kind": a.kind,
             "priority": a.priority}
            for a in result.alarms
        ],
        "reservoir_estimate_mL": float(pump.state.estimate_nl / NL_PER_ML),
        "reservoir_actual_mL": float(pump.hardware.reservoir_nl / NL_PER_ML),
        "systematic_flow_error_pct": round(pump.state.systematic_error * 100, 3),
        "log_entries": len(pump.log),
        "log_verified": check.ok,
    }


#: Longest run `pump simulate` accepts, days (ten years: beyond any pump battery, ref, devices).
MAX_SIMULATED_DAYS = 3650
#: Runs longer than this many days are tabled by week.
DAILY_ROWS = 31


def print_result(out: Console, program: ProgramFile, result: SimulationResult) -> None:
    """Rich tables of a simulation."""
    out.print(f"[bold]{program.drug}[/bold], {program.therapy.describe()}", highlight=False)
    delivered = result.delivered_mg_per_day
    weekly = len(delivered) > DAILY_ROWS  # a long run is shown by week, not by day
    days = Table(title="Delivered (out of the catheter tip)" + (", by week" if weekly else ""))
    days.add_column("week" if weekly else "day", justify="right")
    days.add_column("mg", justify="right")
    step = 7 if weekly else 1
    for index in range(0, len(delivered), step):
        days.add_row(str(index // step + 1), f"{sum(delivered[index:index + step]):.4f}")
    out.print(days)
    if result.presses:
        presses = Table(title="Patient presses")
        for col in ("time", "outcome", "reason"):
            presses.add_column(col)
        for p in result.presses:
            presses.add_row(format_time(p.time), "given" if p.given else "[red]refused[/red]",
                            p.reason)
        out.print(presses)
    alarms = Table(title="Alarms")
    for col in ("time", "alarm", "priority"):
        alarms.add_column(col)
    for a in result.alarms:
        alarms.add_row(format_time(a.time), a.kind, a.priority)
    out.print(alarms if result.alarms else "No alarms.")
    verified = "verified" if result.pump.log.verify().ok else "[red]FAILED[/red]"
    out.print(f"Event log: {len(result.pump.log)} entries, hash chain {verified}.")


@app.command("simulate")
def simulate_command(
    program: Annotated[Path, typer.Option(help="TOML program file (see examples/programs).")],
    days: Annotated[int, typer.Option(help="Days to run.")] = 7,
    press: Annotated[list[str] | None, typer.Option(
        help="Patient press at DAY:HH:MM (day 1 is the first); repeat for more.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed (flow error, stroke noise).")] = 0,
    library_path: LibraryOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run one pump alone on a program file with scripted patient presses. The program is
    checked against the drug library first: an unknown drug or a hard limit is refused, a
    soft limit is warned about."""
    with one_line_errors():
        if not 1 <= days <= MAX_SIMULATED_DAYS:
            raise PumpError(f"--days {days}: simulate 1 to {MAX_SIMULATED_DAYS} days (longer "
                            "than a pump's battery life is not a question this answers)")
        presses = [parse_press(p) for p in press or []]
        parsed = load_program(program)
        entry = open_library(library_path, None).drug(parsed.drug.name)
        found = check(entry, parsed.therapy, parsed.drug.concentration, None,
                      opioid_tolerant=True)
        if found.hard:
            raise HardLimitError(found.hard)
        result = simulate(parsed, days, presses, seed)
    for breach in found.soft:
        print(f"idds: warning: drug library soft limit: {breach.message} ({breach.source})",
              file=sys.stderr)
    if as_json:
        print(json.dumps({**result_json(result),
                          "library_warnings": [b.message for b in found.soft]}, indent=2))
    else:
        print_result(Console(highlight=False, emoji=False), parsed, result)


@app.command("trumpet")
def trumpet_command(
    rate: Annotated[str, typer.Option(help='Set rate as a flow, like "0.5 mL/day".')],
    hours: Annotated[float | None, typer.Option(
        help="Run length (h); default: at least 2 h, longer for low rates.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    out: Annotated[Path, typer.Option(help="Directory for CSV, JSON and PNG.")] = Path(
        "trumpet-out"),
    as_json: JsonOption = False,
) -> None:
    """Trumpet curve (IEC 60601-2-24 method): max/min deviation per observation window."""
    with one_line_errors():
        flow = parse_quantity(rate, Kind.FLOW, what="--rate")
        if hours is not None and not 1.6 <= hours <= 24 * 14:
            raise PumpError(f"--hours {hours} outside 1.6 to 336 h (windows up to 31 min after "
                            "the first hour)")
        if not Fraction(48, 1000) <= flow.value_in("mL/day") <= 24:
            raise PumpError(f"--rate {rate} outside the device flow range 0.048 to 24 mL/day")
        result = run_trumpet(flow, Fraction(str(hours)) if hours is not None else None, seed)
        paths = write_outputs(result, out)
    if as_json:
        print(json.dumps({**result.as_json(), "files": [str(p) for p in paths]}, indent=2))
        return
    console = Console(highlight=False, emoji=False)
    table = Table(title=f"Trumpet curve at {result.rate}, {float(result.hours):g} h run, "
                        f"seed {seed}")
    for col in ("window (min)", "max deviation %", "min deviation %"):
        table.add_column(col, justify="right")
    for row in result.rows:
        table.add_row(str(row.window_min), f"{row.max_deviation_pct:+.2f}",
                      f"{row.min_deviation_pct:+.2f}")
    console.print(table)
    console.print(f"Overall error {result.overall_error_pct:+.2f}% (this pump's systematic "
                  f"error {result.systematic_error * 100:+.2f}%). Wrote "
                  + ", ".join(str(p) for p in paths))


@app.command("serve")
def serve_command(
    state: Annotated[Path, typer.Option(help="State directory (created at first start).")],
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1 (0: any free port).")] = 0,
    speed: Annotated[float, typer.Option(help="Pump seconds per wall second.")] = 1.0,
    seed: Annotated[int, typer.Option(help="Implant seed (first start only).")] = 0,
    drug_library: Annotated[Path | None, typer.Option(
        "--library", help="Signed drug library the pump checks (default: $IDDS_LIBRARY or "
        "the reference library).", show_default=False)] = None,
    secure_element: Annotated[Path, typer.Option(
        help="The pump's secure element (device key, anti-rollback counters): a directory "
        "kept apart from --state.")] = Path("~/.idds/secure-element"),
) -> None:
    """Run one emulated pump you can pair with and program (see docs/programmer.md)."""
    import asyncio
    import dataclasses

    from idds.emulator import EmulatorOptions, run_emulator

    with one_line_errors():
        if not 0 <= port < 65536:
            raise PumpError(f"--port {port} outside 0 to 65535")
        if not 0 < speed <= 1_000_000:
            raise PumpError(f"--speed {speed} outside above 0 to 1000000")
        options = dataclasses.replace(EmulatorOptions(state, port, speed, seed, drug_library),
                                      secure_element=secure_element)
        asyncio.run(run_emulator(options, lambda line: print(line, flush=True)))


def demo_program(dose: Quantity, bolus: Quantity, max_per_24h: int, fill: Quantity,
                 alarm: Quantity) -> dict[str, dict[str, object]]:
    """The demo's pump program: the plan just calculated (morphine 10 mg/mL, a 20 mL
    reservoir, a Prometra catheter trimmed by 40 cm), as a program file's tables."""
    return {
        "pump": {"reservoir": "20 mL", "catheter_trimmed_cm": 40,
                 "low_reservoir_alarm": str(alarm)},
        "drug": {"name": "morphine", "concentration": "10 mg/mL", "fill": str(fill)},
        "therapy": {"mode": "continuous", "dose": str(dose)},
        "demand": {"dose": str(bolus), "duration": "10 min", "lockout": "2 h",
                   "max_boluses": max_per_24h},
    }


def show_demo_run(console: Console, program_tables: dict[str, dict[str, object]],
                  days: int = 4, emit: Callable[[str], None] | None = None
                  ) -> dict[str, object]:
    """A short pump run for `idds demo` on the plan just made: patient presses (one inside
    the lockout), what was delivered, the alarms, the reservoir left and the log; returns the
    run as `pump simulate --json` gives it."""
    program = parse_program(program_tables, "demo program")
    presses = [parse_press(p) for p in ("1:08:00", "1:09:00", "1:12:00", "2:20:00")]
    result = simulate(program, days, presses, seed=1)
    print_result(console, program, result)
    left = result.pump.state.estimate_nl / NL_PER_ML
    console.print(f"Reservoir after {days} days: {left:.2f} mL (the pump's estimate).",
                  highlight=False)
    console.print("[bold]Last log entries[/bold]")
    for entry in result.pump.log.last(8):
        console.print(f"  {entry}", markup=False, highlight=False)
    if emit is not None:
        emit("pump demo done")
    return result_json(result)
