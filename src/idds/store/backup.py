"""Export and restore: the whole clinic (a backup, every table including users and the audit
trail) or one patient's record (for handing over; not restorable on its own), as JSON or as
one CSV file per table; a clinic export restored into an empty database reproduces it, row for
row, with the audit trail verifying, plus one audit record of the restore itself.

Values are exact and typed by their column: integers (nL, ng, fraction parts) as JSON
integers, times as ISO 8601 UTC, dates as ISO dates, bytes as hex, JSON columns as their
canonical text. A clinic export holds password hashes: it is written owner-only (0600) and
is as secret as the database. The export says the schema revision it was made at; a restore
into a database at another revision is refused, except an export from a revision whose later
ones only added nullable columns (`ADDED_SINCE`): its rows restore with those columns empty.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Integer,
    LargeBinary,
    String,
    Table,
    func,
    select,
    text,
)
from sqlalchemy.orm import Session

from idds.store.audit import AuditEntry, append, verify_chain
from idds.store.database import Database
from idds.store.errors import StoreError
from idds.store.migrate import current
from idds.store.model import Base, Implant, Patient, TherapyProgram
from idds.store.model.base import INT64_MAX, UtcDateTime, json_ready
from idds.store.permissions import Action, Actor, authorize

FORMAT = "idds-clinic-export"
FORMAT_VERSION = 1
#: The tables of a patient's own record, and the column that ties each to the patient.
PATIENT_TABLES = {"patient": "id", "implant": "patient_id", "therapy_program": "patient_id",
                  "refill": "patient_id", "diary_entry": "patient_id",
                  "side_effect_assessment": "patient_id", "alarm": "patient_id",
                  "recommendation": "patient_id", "candidacy": "patient_id",
                  "screening": "patient_id", "pump_log_record": "implant_id",
                  "pump_reading": "implant_id", "library_version": "id"}
#: Each revision whose successor only added nullable columns: old revision -> (the next one,
#: the columns it added per table). An export made at the old revision restores into a
#: database at any revision reached through this table, the added columns empty.
ADDED_SINCE: dict[str, tuple[str, dict[str, frozenset[str]]]] = {
    "0002": ("0003", {"pump_reading": frozenset({"pumped_nl", "clock_epoch"})}),
}


def _tables() -> list[Table]:
    """Every table, parents before children (the order a restore inserts them in)."""
    return list(Base.metadata.sorted_tables)


def _rows(session: Session, table: Table, where: object = None) -> list[dict[str, Any]]:
    key = [c for c in table.primary_key.columns]
    query = select(table).order_by(*key)
    if where is not None:
        query = query.where(where)  # type: ignore[arg-type]
    return [{c.key: json_ready(value) for c, value in zip(table.columns, row, strict=True)}
            for row in session.execute(query)]


def _document(scope: str, tables: dict[str, list[dict[str, Any]]], revision: str | None,
              at: datetime) -> dict[str, Any]:
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "scope": scope,
            "revision": revision, "exported_at": at.isoformat(), "tables": tables}


def export_clinic(db: Database, actor: Actor) -> dict[str, Any]:
    """Every row of every table (a backup; admins only)."""
    with db.read(actor, Action.EXPORT_RECORD) as session:
        tables = {t.name: _rows(session, t) for t in _tables()}
    return _document("clinic", tables, current(db.engine), db.now())


def export_patient(db: Database, actor: Actor, patient_id: int) -> dict[str, Any]:
    """One patient's record: the patient, implants, programs (with the library versions they
    ran under), refills, pump logs and readings, diary, side effects, alarms,
    recommendations, candidacy and screening. Users and the audit trail stay behind."""
    with db.read(actor, Action.READ_RECORD, patient_id) as session:
        if session.get(Patient, patient_id) is None:
            raise StoreError(f"no patient with id {patient_id}")
        implants = list(session.scalars(select(Implant.id)
                                         .where(Implant.patient_id == patient_id)))
        libraries = list(session.scalars(select(TherapyProgram.library_version_id)
                                         .where(TherapyProgram.patient_id == patient_id)))
        tables = {}
        for table in _tables():
            column = PATIENT_TABLES.get(table.name)
            if column is None:
                continue
            values: Sequence[int] = (implants if column == "implant_id" else
                                     libraries if table.name == "library_version" else
                                     [patient_id])
            tables[table.name] = _rows(session, table, table.c[column].in_(values))
    return _document(f"patient {patient_id}", tables, current(db.engine), db.now())


#: First characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: A plain decimal number (a negative one starts with "-" and is no formula).
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")


def spreadsheet_safe(value: object) -> object:
    """A cell a spreadsheet shows as written: text that would start a formula (a name typed
    as "=HYPERLINK(...)") gets a leading apostrophe, as OWASP advises; numbers, including
    negative ones written as text, are left as they are."""
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    return value if _NUMBER.fullmatch(value) else "'" + value


def as_csv(document: dict[str, Any]) -> dict[str, str]:
    """One CSV text per table for a spreadsheet (header: the column names; empty cell: no
    value; text that would start a formula escaped, `spreadsheet_safe`). A CSV is for reading:
    restore reads the JSON document."""
    out = {}
    for name, rows in document["tables"].items():
        buffer = io.StringIO()
        columns = [c.key for c in Base.metadata.tables[name].columns]
        # RFC 4180 line ends: a field holding a lone carriage return is then quoted
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows({k: spreadsheet_safe(v) for k, v in row.items()} for row in rows)
        out[f"{name}.csv"] = buffer.getvalue()
    return out


def _value(column: Column[Any], value: object) -> object:
    """A JSON value back into the column's type; a malformed one is refused, named."""
    if value is None:
        if not column.nullable:
            raise StoreError(f"{column.table.name}.{column.key} has no value")
        return None
    try:
        if isinstance(column.type, UtcDateTime):
            moment = datetime.fromisoformat(str(value))
            if moment.tzinfo is None:
                raise ValueError("no time zone")
            return moment
        if isinstance(column.type, Date):
            return date.fromisoformat(str(value))
        if isinstance(column.type, LargeBinary):
            return bytes.fromhex(str(value))
        if isinstance(column.type, Boolean):
            if not isinstance(value, bool):
                raise ValueError("not true or false")
            return value
        if isinstance(column.type, Integer):
            if isinstance(value, bool) or not isinstance(value, int) or \
                    abs(value) > INT64_MAX:
                raise ValueError("not a whole number within 64 bits")
            return value
        if isinstance(column.type, String):
            if not isinstance(value, str):
                raise ValueError("not text")
            if column.type.length is not None and len(value) > column.type.length:
                raise ValueError(f"longer than {column.type.length} characters")
            return value
    except ValueError as exc:
        raise StoreError(f"{column.table.name}.{column.key}: {value!r} is not a "
                         f"{column.type}: {exc}") from None
    return value


def _added(since: object, revision: str | None) -> dict[str, frozenset[str]] | None:
    """The columns added between revision `since` and `revision` (per table; {} when they
    are the same), or None when the database cannot be reached from `since` by added
    nullable columns alone."""
    added: dict[str, frozenset[str]] = {}
    at = since
    while at != revision:
        if not isinstance(at, str) or at not in ADDED_SINCE:
            return None
        at, columns = ADDED_SINCE[at]
        for table, names in columns.items():
            added[table] = added.get(table, frozenset()) | names
    return added


def _check(document: object, revision: str | None) -> dict[str, list[dict[str, Any]]]:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise StoreError(f"not an IDDS clinic export (format {FORMAT!r})")
    if document.get("format_version") != FORMAT_VERSION:
        raise StoreError(f"export format version {document.get('format_version')!r}: this "
                         f"IDDS reads version {FORMAT_VERSION}")
    if document.get("scope") != "clinic":
        raise StoreError(f"a {document.get('scope')} export cannot be restored on its own: "
                         "restore a clinic export")
    added = _added(document.get("revision"), revision)
    if added is None:
        raise StoreError(f"the export is at schema revision {document.get('revision')}, the "
                         f"database at {revision}: migrate the database to it first")
    tables = document.get("tables")
    known = {t.name for t in _tables()}
    if not isinstance(tables, dict) or set(tables) != known:
        raise StoreError("the export's tables are not the record's tables")
    for name, rows in tables.items():
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise StoreError(f"the export's {name} is not a list of rows")
        columns = {c.key for c in Base.metadata.tables[name].columns}
        older = columns - added.get(name, frozenset())
        for row in rows:
            if set(row) != columns and set(row) != older:
                raise StoreError(f"a row of {name} has columns {sorted(set(row) ^ columns)} "
                                 "the record does not, or lacks them")
    return tables


def restore(db: Database, actor: Actor, document: object, source: str) -> dict[str, int]:
    """Write a clinic export into an EMPTY database (migrated, no rows): every row as it was,
    then one audit record of the restore; the audit chain must verify, or nothing is kept.
    Returns the rows restored per table."""
    authorize(actor, Action.RESTORE_RECORD, db.now())
    tables = _check(document, current(db.engine))
    with db.session() as session:
        for table in _tables():
            if session.scalar(select(func.count()).select_from(table)):
                raise StoreError(f"the database is not empty ({table.name} has rows): restore "
                                 "into an empty one")
        for table in _tables():
            rows = [{c.key: _value(c, row.get(c.key)) for c in table.columns}
                    for row in tables[table.name]]
            for row in rows:  # one by one: the audit trail's insert trigger checks each
                session.execute(table.insert().values(**row))
            if rows and session.get_bind().dialect.name == "postgresql" and \
                    "id" in table.c and table.c["id"].autoincrement is not False:
                session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', "
                                     f"'id'), (SELECT MAX(id) FROM {table.name}))"))
        check = verify_chain(session)
        if not check.ok:
            raise StoreError(f"the export's audit trail does not verify: {check.problem}; "
                             "nothing was restored")
        counts = {name: len(rows) for name, rows in tables.items()}
        append(session, AuditEntry(actor.username, str(actor.role), str(Action.RESTORE_RECORD),
                                   "clinic", "restore", None, {"rows": counts,
                                                               "head": check.head},
                                   f"restored from {source}"), db.now())
    return counts


__all__ = ["FORMAT", "as_csv", "export_clinic", "export_patient", "restore"]
