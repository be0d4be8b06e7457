"""The advisory screen of `idds program advise`: the settings side by side, the flex shape by
hour, why, the data used, the supervisor's verdict and every check applied."""

from __future__ import annotations

from rich.console import Console

from idds.programmer.advisory import AdvisoryRun, flex_rows, setting_rows
from idds.programmer.screens import advice_table, flex_table


def show_advice(out: Console, run: AdvisoryRun, state_note: str) -> None:
    """The advisory screen: settings side by side, flex by hour, why, data, verdict, checks."""
    a = run.advice
    out.print(advice_table(f"Advice for pump {run.status.pump_id} ({run.controller} controller, "
                           f"pump day {a.day + 1})", setting_rows(run)))
    flex = flex_rows(run)
    if flex:
        out.print(flex_table(flex))
    out.print("[bold]Why[/bold]")
    out.print(f"  {a.reason_text}", markup=False)
    if run.explanation is not None:
        out.print("[bold]What the controller believes[/bold] (posterior median and 90% "
                  "interval, from the diary, presses and pump log only)")
        for line in run.explanation.lines():
            out.print(f"  {line}", markup=False)
    elif a.predicted_nrs is None:
        out.print("  Predicted effect: none (this controller makes no prediction)", markup=False)
    else:
        out.print(f"  Predicted effect: mean diary pain NRS {a.predicted_nrs:.1f} in 3 days "
                  "at the recommended dose", markup=False)
    out.print("[bold]Data used[/bold] (missing or stale entries count as missing)")
    for note in run.data_notes:
        out.print(f"  {note}", markup=False)
    for signal in run.interlock:
        out.print(f"  Interlock: {signal}", markup=False)
    out.print(f"[bold]Supervisor verdict[/bold]: {a.verdict.text}",
              highlight=False)
    out.print("  Checks applied:")
    for name, hit, text in run.checks:
        mark = "LIMIT" if hit else "ok   "
        out.print(f"    {mark} {name}" + (f": {text}" if hit else ""), markup=False)
    out.print(f"  {state_note}", markup=False)
