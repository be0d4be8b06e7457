"""Rich screens of the programmer: status, finish (old and new side by side), refill, log."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction

from rich.table import Table

from idds.programmer.plans import RefillChange, Row, TherapyPlan
from idds.programmer.status import PumpStatus
from idds.pump import LogEntry
from idds.pump.clock import format_time


def _rows_table(title: str, rows: Sequence[Row]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("Setting")
    table.add_column("Now (old)")
    table.add_column("New", style="bold")
    for row in rows:
        table.add_row(row.setting, row.old, row.new)
    return table


def finish_table(plan: TherapyPlan) -> Table:
    """The finish screen of a therapy change: old and new settings side by side."""
    return _rows_table(f"Finish: therapy for pump {plan.status.pump_id}", plan.rows)


def override_table(plan: TherapyPlan) -> Table:
    """The override part of the Finish screen, shown before the clinician is asked again:
    every soft limit the therapy breaks, its source, and the reason that will be logged."""
    table = Table(title=f"OVERRIDE of {len(plan.checks.soft)} soft drug-library limit(s); "
                        f"reason: {plan.request.override_reason}", title_justify="left")
    table.add_column("Limit overridden", style="bold red")
    table.add_column("Source")
    for breach in plan.checks.soft:
        table.add_row(breach.message, breach.source)
    return table


def refill_table(change: RefillChange) -> Table:
    """The finish screen of a refill."""
    return _rows_table(f"Finish: refill of pump {change.status.pump_id}", change.rows)


def status_table(status: PumpStatus) -> Table:
    """An interrogation on one screen."""
    table = Table(title=f"Pump {status.pump_id} at {status.time}", title_justify="left",
                  show_header=False)
    table.add_column("what")
    table.add_column("value")
    due = (f"{status.refill_due_in_days:.1f} days" if status.refill_due_in_days is not None
           else "-")
    rows = [
        ("Drug", status.drug_text),
        ("Therapy", status.therapy_text + ("" if status.confirmed else " (NOT CONFIRMED)")),
        ("Infusing", "yes" if status.infusing else "NO"),
        ("Flow now", status.flow),
        ("Dose rate now", status.dose_rate),
        ("Bolus running", status.bolus or "no"),
        ("Reservoir (estimate)", str(status.reservoir_estimate)),
        ("Low-reservoir alarm at", str(status.low_reservoir_alarm)),
        ("Refill due in", due),
        ("Battery", f"{status.battery} (ERI in {status.battery_eri_in_days:.0f} days; "
                    f"{status.radio_wakeups} radio wake-ups charged)"),
        ("Alarms", "; ".join(status.alarms) or "none"),
        ("Event log", f"{status.log_length} entries, head {status.log_head[:16]}..."),
    ]
    for what, value in rows:
        table.add_row(what, value)
    return table


def log_table(entries: Sequence[LogEntry], last: int = 30,
              clock: Callable[[Fraction], str] = format_time) -> Table:
    """The last `last` entries of a downloaded log, times as `clock` shows them (the pump's
    calendar: `LogDownload.when`)."""
    table = Table(title=f"Event log (last {min(last, len(entries))} of {len(entries)})",
                  title_justify="left")
    for col in ("#", "time", "event", "details"):
        table.add_column(col)
    for e in entries[-last:]:
        table.add_row(str(e.seq), clock(e.time),
                      e.kind.value, e.summary())
    return table


def advice_table(title: str, rows: Sequence[tuple[str, str, str, str]]) -> Table:
    """Advisory mode: current, recommended and to-program (the supervisor's) side by side."""
    table = Table(title=title, title_justify="left")
    for col in ("Setting", "Current", "Recommended", "To program (supervisor)"):
        table.add_column(col, style="bold" if col.startswith("To") else None)
    for row in rows:
        table.add_row(*row)
    return table


def flex_table(rows: Sequence[tuple[str, str, str, str]]) -> Table:
    """Advisory mode: the basal rate by hour of day (mg/day rates; the daily dose is their
    mean), current, recommended and to program."""
    table = Table(title="Flex shape by hour (rates in mg/day; x = multiplier of the daily dose)",
                  title_justify="left")
    for col in ("Hour", "Current", "Recommended", "To program"):
        table.add_column(col)
    for row in rows:
        table.add_row(*row)
    return table
