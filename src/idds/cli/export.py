"""`idds export fhir --patient ID [--fhir-version R5|R4B] [--since DATE] --out FILE
[--db URL]`: the patient's record as a FHIR transaction Bundle, validated
(docs/interop.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from idds.cli.database import DbOption, local_operator, open_record
from idds.cli.druglib import LibraryOption, open_library
from idds.errors import IddsError
from idds.store import UserRole

app = typer.Typer(help="The record for a hospital: FHIR R5 or R4B.", no_args_is_help=True)


@app.command("fhir")
def fhir(
    patient: Annotated[int, typer.Option(help="The patient's record id (idds clinic patients).")],
    out: Annotated[Path, typer.Option(help="The Bundle's JSON file.")],
    fhir_version: Annotated[str, typer.Option("--fhir-version", help="R5 or R4B.")] = "R5",
    since: Annotated[str | None, typer.Option(
        help="Only programs, administrations, pump readings, diary, alarms and audit events "
             "from this date (YYYY-MM-DD, UTC) on.")] = None,
    db: DbOption = None, library: LibraryOption = None,
) -> None:
    """Export a patient's record as a FHIR transaction Bundle, validated before writing."""
    from idds.interop.fhir_export import FhirVersion, dose_units, fhir_json, patient_bundle

    try:
        version = FhirVersion(fhir_version.upper())
    except ValueError:
        raise IddsError(f"--fhir-version {fhir_version!r}: use R5 or R4B") from None
    try:
        start = None if since is None else datetime.combine(date.fromisoformat(since),
                                                            datetime.min.time(), UTC)
    except ValueError:
        raise IddsError(f"--since {since!r} is not a date YYYY-MM-DD") from None
    units = dose_units(open_library(library, None))
    with open_record(db, migrate_empty=False) as record:
        bundle = patient_bundle(record, local_operator(UserRole.NURSE), patient, units,
                                version, start)
    try:
        out.write_text(fhir_json(bundle) + "\n", encoding="utf-8")
    except OSError as exc:
        raise IddsError(f"--out {out}: {exc.strerror}") from None
    print(f"FHIR {version} Bundle of patient {patient}: {len(bundle.get('entry', []))} "
          f"resources, validated, written to {out}")


@app.command("hl7v2")
def hl7v2(
    patient: Annotated[int, typer.Option(help="The patient's record id (idds clinic patients).")],
    mllp: Annotated[str | None, typer.Option(
        help="Send each message to this MLLP listener (HOST:PORT) and print its ACK.")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Write the messages here (ER7: segments end in CR, messages in CR LF).")] = None,
    attempts: Annotated[int, typer.Option(help="MLLP tries per message.")] = 3,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each ACK.")] = 10.0,
    db: DbOption = None, library: LibraryOption = None,
) -> None:
    """Export a patient's pumps as IHE PCD-01 (ORU^R01) and PCD-04 (ORU^R40) HL7 v2.6
    messages, written to --out or sent over MLLP (docs/interop.md).

    `idds export hl7v2 --patient ID (--out FILE | --mllp HOST:PORT) [--attempts N]
    [--timeout S] [--db URL] [--library PATH]`."""
    from idds.interop.fhir_export import dose_units
    from idds.interop.hl7v2_export import patient_messages
    from idds.interop.mllp import MllpClient

    if (mllp is None) == (out is None):
        raise IddsError("give --mllp HOST:PORT or --out FILE (one of them)")
    client = None if mllp is None else MllpClient.to(mllp, timeout_s=timeout,
                                                        attempts=attempts)
    units = dose_units(open_library(library, None))
    with open_record(db, migrate_empty=False) as record:
        messages = patient_messages(record, local_operator(UserRole.NURSE), patient, units,
                                    record.now())
    if client is None:
        assert out is not None
        try:
            out.write_text("".join(m.text + "\r\n" for m in messages), encoding="utf-8",
                           newline="")
        except OSError as exc:
            raise IddsError(f"--out {out}: {exc.strerror}") from None
        print(f"HL7 v2.6 messages of patient {patient}: {len(messages)} (ORU^R01 and "
              f"{len(messages) - 1} ORU^R40), validated, written to {out}")
        return
    for message in messages:
        answer = client.send(message.text)
        print(f"{message.trigger.value.split('^')[1]} {message.control_id}: {answer.code} "
              f"from {client.address}")
