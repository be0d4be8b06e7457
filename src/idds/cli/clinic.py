"""`idds clinic`: the clinic's pumps and patients from the terminal, on the same record and
programmer directory as `idds console`.

- `idds clinic sync [--db URL] [--device DIR] [--json]`: interrogate every implanted pump,
  store its reading, its new log entries (hash chain verified) and its alarms; a pump that
  cannot be reached is reported and the others are synced (exit 1 if any was not).
- `idds clinic seed-demo [--db URL] [--device DIR]`: write the demo clinic into an empty
  record, one demo patient per pump paired with the directory (`idds pump serve`, then
  `idds program pair --device DIR`), with a refill and a therapy sent to each; prints logins.
- `idds clinic patients [--db URL] [--json]`: the patients with their ids and implants.
- `idds clinic export --format json|csv [--patient ID] --out PATH [--db URL]`: the whole
  clinic (every table, a backup; JSON file or a folder of CSV files, owner-only) or one
  patient's record; `idds clinic restore FILE [--db URL]` puts a clinic export into an empty
  database (docs/store.md "Export and restore").

The person at the terminal acts as `cli:<login>` in the role the work needs (a nurse's for a
sync and the list; the demo's own users for the demo), as every store command does.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from idds.cli.database import DbOption, local_admin, local_operator, open_record
from idds.cli.devices import device_dir
from idds.cli.druglib import LibraryOption, open_library
from idds.cli.output import JsonOption, console, print_json
from idds.errors import IddsError
from idds.store import UserRole
from idds.store.backup import as_csv, export_clinic, export_patient, restore
from idds.store.patients import implants_of, list_patients
from idds.store.therapy import install_library
from idds.store.url import data_dir

if TYPE_CHECKING:  # the server stack loads only for the commands that talk to pumps
    from idds.api import Clinic

app = typer.Typer(help="The clinic's pumps and patients: sync, seed-demo, patients, export, "
                  "restore.",
                  no_args_is_help=True)

DeviceOption = Annotated[Path | None, typer.Option(
    "--device", help="The clinic programmer's directory: its pairings and pump addresses "
    "(default: clinic-programmer in the data directory).")]


def clinic_device(device: Path | None) -> Path:
    return device or data_dir(os.environ, Path.home()) / "clinic-programmer"


@contextmanager
def open_clinic(db: str | None, device: Path | None, library: Path | None) -> Iterator[Clinic]:
    """The record at `--db` (an empty one migrated) with the drug library in force installed,
    and the pumps paired with the programmer directory `--device`."""
    from idds.api import Clinic, DevicePumps

    chosen = open_library(library, None)
    with open_record(db) as record:
        installed = install_library(record, local_admin(), chosen)
        yield Clinic(record, chosen, installed.id,
                     DevicePumps(device_dir(clinic_device(device), "programmer"), chosen,
                                 lambda: record.now().date()))


@app.command()
def sync(db: DbOption = None, device: DeviceOption = None, library: LibraryOption = None,
         as_json: JsonOption = False) -> None:
    """Interrogate every implanted pump and store its reading, new log entries and alarms."""
    from idds.api.sync import sync_all

    with open_clinic(db, device, library) as clinic:
        results = asyncio.run(sync_all(clinic, local_operator(UserRole.NURSE)))
    if as_json:
        print_json([r.model_dump(mode="json") for r in results])
    else:
        out = console()
        for r in results:
            if r.synced is None:
                out.print(f"patient {r.patient_id} pump {r.pump_serial}: NOT SYNCED: {r.error}",
                          markup=False, soft_wrap=True)
                continue
            s = r.synced
            out.print(f"patient {r.patient_id} pump {r.pump_serial}: {s.therapy}; reservoir "
                      f"{s.reservoir}; refill due {s.refill_due_on or '-'}; battery "
                      f"{s.battery}; {s.stored} new log entries, {s.alarms_recorded} new "
                      f"alarms{'; alarms: ' + ', '.join(s.alarms) if s.alarms else ''}",
                      markup=False, soft_wrap=True)
        if not results:
            out.print("no implanted pumps in the record", markup=False)
    if any(r.synced is None for r in results):
        raise typer.Exit(1)


@app.command("seed-demo")
def seed_demo_command(db: DbOption = None, device: DeviceOption = None,
                      library: LibraryOption = None) -> None:
    """Write the demo clinic into an empty record: one demo patient per paired pump."""
    from idds.api.democlinic import PATIENTS, seed_demo

    pumps = device_dir(clinic_device(device), "programmer").paired_pumps()
    if not pumps:
        raise IddsError(f"no pump is paired with {clinic_device(device)}: start `idds pump "
                        "serve` and pair it with `idds program pair --device DIR` first")
    with open_clinic(db, device, library) as clinic:
        if list_patients(clinic.db, local_operator(UserRole.NURSE)):
            raise IddsError("the record already has patients: seed the demo into an empty one")
        logins = asyncio.run(seed_demo(clinic, pumps[:len(PATIENTS)], local_admin()))
    print(f"Demo clinic written ({min(len(pumps), len(PATIENTS))} patients). Logins:")
    for login in logins:
        print(f"  {login.username:<12} {login.role.value:<11} {login.password}")


@app.command()
def patients(db: DbOption = None, as_json: JsonOption = False) -> None:
    """The patients with their record ids and implants."""
    reader = local_operator(UserRole.NURSE)
    with open_record(db) as record:
        rows = [(p, implants_of(record, reader, p.id)) for p in list_patients(record, reader)]
    if as_json:
        print_json([{"id": p.id, "identifier": p.identifier, "name": p.name,
                     "birth_date": p.birth_date.isoformat(),
                     "implants": [{"id": i.id, "pump_serial": i.pump_serial,
                                   "implanted_on": i.implanted_on.isoformat(),
                                   "explanted_on": None if i.explanted_on is None
                                   else i.explanted_on.isoformat()} for i in implants]}
                    for p, implants in rows])
        return
    out = console()
    for p, implants in rows:
        pumps = ", ".join(f"implant {i.id} pump {i.pump_serial}" for i in implants) or "no pump"
        out.print(f"{p.id}  {p.identifier}  {p.name}  (born {p.birth_date}): {pumps}",
                  markup=False, soft_wrap=True)
    if not rows:
        out.print("no patients in the record", markup=False)


class ExportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


def _write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, owner-only (an export is as secret as the record)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise IddsError(f"--out {path}: {exc.strerror}") from None
    os.fchmod(fd, 0o600)  # a file that was there keeps its mode through O_CREAT: not this one
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


@app.command("export")
def export_command(
    out: Annotated[Path, typer.Option("--out", help="The JSON file, or the folder for the CSV "
                                      "files (one per table).")],
    export_format: Annotated[ExportFormat, typer.Option("--format", help="json or csv.")]
    = ExportFormat.JSON,
    patient: Annotated[int | None, typer.Option(
        help="One patient's record (default: the whole clinic, a backup).")] = None,
    db: DbOption = None,
) -> None:
    """Export the clinic (every table: a backup) or one patient's record."""
    with open_record(db, migrate_empty=False) as record:
        document = (export_clinic(record, local_admin()) if patient is None else
                    export_patient(record, local_operator(UserRole.NURSE), patient))
    if export_format is ExportFormat.JSON:
        _write_private(out, json.dumps(document, sort_keys=True, indent=1) + "\n")
    else:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise IddsError(f"--out {out}: {exc.strerror}") from None
        files = as_csv(document)
        for name, text in files.items():
            _write_private(out / name, text)
    rows = sum(len(r) for r in document["tables"].values())
    print(f"exported {document['scope']}: {rows} rows of {len(document['tables'])} tables to "
          f"{out}")


@app.command("restore")
def restore_command(
    source: Annotated[Path, typer.Argument(help="A clinic export (JSON) to restore.")],
    db: DbOption = None,
) -> None:
    """Restore a clinic export into an empty database (created and migrated if need be)."""
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise IddsError(f"{source}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IddsError(f"{source} is not JSON: {exc}") from None
    with open_record(db) as record:
        counts = restore(record, local_admin(), document, source.name)
    print(f"restored {sum(counts.values())} rows of {len(counts)} tables from {source}")
