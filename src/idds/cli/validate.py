"""`idds validate`: what the virtual patients are calibrated to, and how well they land.

Every calibration target of the reference that the model represents, with its source, the
target, the model's value and pass or fail: a terminal table, `--json`, and an HTML page with
the plots behind the targets. About a minute on a 2-core machine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from idds.cli.output import DISCLAIMER, JsonOption, console, print_json
from idds.errors import IddsError


def validate(
    out: Annotated[Path, typer.Option(help="Folder for validation.json and validation.html.")]
    = Path("out/validate"),
    patients: Annotated[int, typer.Option(help="Virtual patients per cohort experiment.")] = 1000,
    as_json: JsonOption = False,
) -> None:
    """The model's validation report: every calibration target, its source and the result."""
    import json

    from idds.validation.lab import Lab
    from idds.validation.report import as_json as report_json
    from idds.validation.report import figures, render_html
    from idds.validation.targets import KNOWN_FAILURES, evaluate

    if patients < 100:
        raise IddsError(f"--patients must be at least 100 for stable shares, not {patients}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IddsError(f"--out {out} is not a writable folder: {exc.strerror or exc}") from exc
    lab = Lab(patients=patients)
    results = evaluate(lab)
    doc = report_json(results)
    json_path, html_path = out / "validation.json", out / "validation.html"
    try:
        json_path.write_text(json.dumps(doc, indent=2) + "\n")
        html_path.write_text(render_html(results, figures(lab)))
    except OSError as exc:
        raise IddsError(f"cannot write into {out}: {exc.strerror or exc}") from exc
    if as_json:
        print_json(doc)
        return
    table = Table(title=f"IDDS virtual patients: {doc['passed']} of {len(results)} targets pass"
                        " (sources and plots in the report)")
    table.add_column("target", no_wrap=True)
    for column in ("reference", "model", "basis", ""):
        table.add_column(column)
    for r in results:
        t = r.target
        value = f"{r.value:,.0f}" if abs(r.value) >= 1000 else f"{r.value:.3g}"
        table.add_row(t.key, t.target, f"{value} {t.unit}", t.basis.value,
                      "[green]pass[/green]" if r.passed else "[red]FAIL[/red]")
    o = console()
    o.print(table)
    for r in results:
        if not r.passed:
            why = KNOWN_FAILURES.get(r.target.key, "not a known failure: a regression")
            o.print(f"FAIL {r.target.key}: {why}", markup=False)
    o.print(f"Report: {html_path}\nJSON:   {json_path}", markup=False)
    o.print(f"[dim]{DISCLAIMER}[/dim]")
