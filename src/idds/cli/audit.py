"""`idds audit verify`: walk the audit trail's hash chain and name the first bad record.

Exit 0 when the chain verifies, 1 when a record was altered, inserted or removed, 2 for bad
input (a bad `--db`)."""

from __future__ import annotations

import typer

from idds.cli.database import DbOption, local_admin, open_record
from idds.cli.output import JsonOption, error_console, print_json
from idds.store import Action
from idds.store.audit import verify_chain

app = typer.Typer(help="The audit trail: verify its hash chain.", no_args_is_help=True)


def _records(count: int) -> str:
    return f"{count} record" if count == 1 else f"{count} records"


@app.command()
def verify(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Verify the audit trail; name the first record altered, inserted or removed."""
    with open_record(db, migrate_empty=False) as record, \
            record.read(local_admin(), Action.READ_AUDIT) as session:
        check = verify_chain(session)
    if as_json:
        print_json({"ok": check.ok, "records": check.count, "head": check.head,
                    "bad_record": check.bad_sequence, "problem": check.problem or None})
    elif check.ok:
        print(f"audit chain verified: {_records(check.count)} (head {check.head})")
    else:
        error_console().print(f"audit chain broken at record {check.bad_sequence}: "
                              f"{check.problem} ({_records(check.count)} before it verify)",
                              markup=False)
    if not check.ok:
        raise typer.Exit(1)
