"""`idds candidacy`: is this patient a candidate for intrathecal therapy, and by which route?

Reads a patient file (examples/patients/*.toml) and the signed candidacy criteria (the
reference criteria, or a site's own `--criteria FILE` verified against the trust store), and
shows the verdict, every criterion with its value, threshold and source, and what to fix
first for a deferred patient (docs/selection.md). The only file written is the record of the
newest criteria version accepted (~/.idds/criteria-version.json, so an older signed criteria
file cannot be put back); a refusal writes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from idds.cli.druglib import TrustOption
from idds.cli.output import DISCLAIMER, JsonOption, console, print_json
from idds.drugs import TrustStore
from idds.selection import (
    CandidacyOutcome,
    CandidacyVerdict,
    CriterionKind,
    CriterionStatus,
    assess,
    criteria_version_record,
    load_candidate,
    load_criteria,
)

_COLOUR = {
    CandidacyOutcome.IMPLANTED_PUMP: "green",
    CandidacyOutcome.EXTERNAL_CATHETER: "green",
    CandidacyOutcome.SCREENING_TRIAL_FIRST: "cyan",
    CandidacyOutcome.DEFERRED: "yellow",
    CandidacyOutcome.NOT_A_CANDIDATE: "red",
}
#: The order of the finish screen's groups.
_ORDER = (CriterionKind.INDICATION, CriterionKind.ABSOLUTE, CriterionKind.RELATIVE,
          CriterionKind.ROUTE, CriterionKind.SCREENING, CriterionKind.CONSIDERATION)
_STATUS = {CriterionStatus.MET: "met", CriterionStatus.NOT_MET: "not met",
           CriterionStatus.NOT_APPLICABLE: "n/a"}


def candidacy(
    patient: Annotated[Path, typer.Option("--patient", help="Patient file (TOML, see "
                                          "examples/patients/).", show_default=False)],
    criteria_path: Annotated[Path | None, typer.Option(
        "--criteria", help="Signed candidacy criteria TOML (default: the reference criteria); "
        "its signature is FILE.sig.", show_default=False)] = None,
    trust_store: TrustOption = None,
    as_json: JsonOption = False,
) -> None:
    """Assess a patient for intrathecal therapy: verdict, every criterion, what to fix."""
    record = load_candidate(patient)
    criteria = load_criteria(criteria_path, TrustStore.default(trust_store),
                             criteria_version_record())
    verdict = assess(record, criteria)
    if as_json:
        print_json({"patient": record.label, "file": str(patient),
                    "life_expectancy": record.life_expectancy.as_json("day"),
                    "oral_morphine_equivalent":
                        record.regimen.oral_morphine_equivalent.as_json("mg/day"),
                    "criteria_file": _shown(criteria.path), "signed_by_key": criteria.signed_by,
                    **verdict.as_json(), "disclaimer": DISCLAIMER})
        return
    _show(verdict, record.label, _shown(criteria.path), criteria.signed_by)


def _shown(path: Path) -> str:
    """A path relative to the working folder when it lies under it, else as it is."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _show(verdict: CandidacyVerdict, label: str, criteria_file: str, signer: str) -> None:
    out = console()
    colour = _COLOUR[verdict.outcome]
    out.print(f"Patient: {label}", markup=False)
    out.print(f"[bold {colour}]Verdict: {verdict.outcome.value.upper()}[/bold {colour}]: "
              f"{verdict.summary}")
    out.print("Decided by:", markup=False)
    for reason in verdict.reasons:
        out.print(f"  - {reason}", markup=False)
    table = Table(title=f"Criteria: {verdict.criteria_name} {verdict.criteria_version} "
                        f"(signed by key {signer})")
    table.add_column("criterion", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("value", ratio=1, overflow="fold")
    table.add_column("threshold", ratio=1, overflow="fold")
    table.add_column("src", no_wrap=True)
    sources: list[str] = []
    kind = None
    for f in sorted(verdict.findings, key=lambda f: _ORDER.index(f.kind)):
        if f.source not in sources:
            sources.append(f.source)
        if f.kind is not kind:
            kind = f.kind
            table.add_row(Text(f"{kind.label}:", style="italic"), "", "", "", "")
        mark = "* " if f.criterion in verdict.deciding else "  "
        table.add_row(Text(f"{mark}{f.criterion}"), _STATUS[f.status], Text(f.value),
                      Text(f.threshold), f"[{sources.index(f.source) + 1}]",
                      style="bold" if mark.strip() else None)
    out.print(table)
    out.print("* decided the verdict", markup=False)
    assumed = [f for f in verdict.findings if f.criterion in verdict.deciding and f.assumption]
    if assumed:
        out.print("Behind the deciding criteria:", markup=False)
        for f in assumed:
            out.print(f"  - {f.criterion}: {f.assumption}", markup=False)
    out.print("Sources:", markup=False)
    for number, source in enumerate(sources, 1):
        out.print(f"  [{number}] {source}", markup=False)
    if verdict.to_fix:
        out.print("[bold yellow]Fix first, then assess again:[/bold yellow]")
        for item in verdict.to_fix:
            out.print(f"  - {item}", markup=False)
    out.print(f"Criteria file: {criteria_file}", markup=False)
    out.print(f"[dim]{DISCLAIMER}[/dim]")
