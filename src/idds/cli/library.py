"""`idds library`: show, verify, sign a drug library; make a signing key pair."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from idds.cli.druglib import LibraryOption, TrustOption, open_library
from idds.cli.output import JsonOption, console, print_json
from idds.drugs import DrugLibrary, TrustStore, generate_keypair, sign_file, verify_file
from idds.drugs.library import parse_library

app = typer.Typer(help="The signed drug library: show, verify, sign, keygen.", no_args_is_help=True)


def _summary(library: DrugLibrary) -> dict[str, object]:
    info = library.data.library
    return {
        "name": info.name,
        "version": info.version,
        "issued_by": info.issued_by,
        "file": str(library.path),
        "signed_by_key": library.signed_by,
        "drugs": {
            key: {
                "name": drug.name,
                "class": drug.drug_class,
                "concentration_max": str(drug.concentration_max.value),
                "start_daily_dose": f"{drug.start_daily_dose.low} to {drug.start_daily_dose.high}",
                "max_daily_dose": None if drug.max_daily_dose is None
                else f"{drug.max_daily_dose.value} ({drug.max_daily_dose.kind})",
                "max_bolus": None if drug.max_bolus is None
                else f"{drug.max_bolus.value} ({drug.max_bolus.kind})",
                "hard_max_daily_dose": str(drug.hard_max_daily_dose.value),
                "hard_max_bolus": str(drug.hard_max_bolus.value),
            }
            for key, drug in library.drugs.items()
        },
    }


@app.command()
def show(
    library_path: LibraryOption = None,
    trust_store: TrustOption = None,
    as_json: JsonOption = False,
) -> None:
    """Verify and show the library in force (limits per drug)."""
    library = open_library(library_path, trust_store)
    summary = _summary(library)
    if as_json:
        print_json(summary)
        return
    info = library.data.library
    table = Table(title=f"{info.name} {info.version} (signed by key {library.signed_by})")
    for column in ("drug", "max concentration", "starting dose/day", "max dose/day",
                   "max bolus"):
        table.add_column(column)
    for key, drug in library.drugs.items():
        table.add_row(
            key,
            f"{drug.concentration_max.value} [red]hard[/red]"
            if drug.concentration_max.kind == "hard" else f"{drug.concentration_max.value} soft",
            f"{drug.start_daily_dose.low} to {drug.start_daily_dose.high}",
            ("" if drug.max_daily_dose is None
             else f"{drug.max_daily_dose.value} {drug.max_daily_dose.kind}; ")
            + f"{drug.hard_max_daily_dose.value} [red]hard[/red]",
            ("" if drug.max_bolus is None else f"{drug.max_bolus.value} {drug.max_bolus.kind}; ")
            + f"{drug.hard_max_bolus.value} [red]hard[/red]",
        )
    console().print(table)
    console().print(f"File: {library.path}", markup=False)


@app.command()
def verify(
    file: Annotated[Path, typer.Argument(help="Library TOML; its signature is FILE.sig.")],
    key: Annotated[
        list[Path] | None,
        typer.Option("--key", help="Trust only this public key (repeatable); default: the "
                     "trust store."),
    ] = None,
    trust_store: TrustOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check a library's signature and contents; exit 2 if either is bad."""
    trust = TrustStore.only(*key) if key else TrustStore.default(trust_store)
    raw, signer = verify_file(file, trust)
    data = parse_library(raw, file)
    if as_json:
        print_json({"file": str(file), "valid": True, "signed_by_key": signer,
                    "drugs": sorted(data.drugs)})
        return
    console().print(f"[green]OK[/green] {file}: signature valid (key {signer}), "
                    f"{len(data.drugs)} drugs", highlight=False)


@app.command()
def sign(
    file: Annotated[Path, typer.Argument(help="Library TOML to sign.")],
    key: Annotated[Path, typer.Option("--key", help="Private key (.key) from keygen.")],
) -> None:
    """Sign a library (writes FILE.sig). The contents are checked first."""
    from idds.drugs.signing import read_toml

    parse_library(read_toml(file), file)
    target = sign_file(file, key)
    console().print(f"Signed {file} -> {target}", markup=False)


@app.command()
def keygen(
    out: Annotated[Path, typer.Option("--out", help="Prefix: writes PREFIX.key and PREFIX.pub.")],
) -> None:
    """Make an Ed25519 key pair for signing a site library (keep the .key secret)."""
    private, public = generate_keypair(out)
    console().print(f"Private key: {private} (mode 0600, keep it secret)\nPublic key: {public} "
                    "(give it to every site that should trust your library)", markup=False)
