"""`idds users add|list|disable|passwd`: the people who may use the clinic's record.

Passwords come from a hidden prompt (asked twice) or, for scripts, the first line of standard
input (`--password-stdin`); they are never echoed or taken as an argument.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from idds.cli.database import DbOption, local_admin, open_record
from idds.cli.output import JsonOption, console, print_json
from idds.store import StoreError, UserRole
from idds.store import users as store_users

app = typer.Typer(help="Users of the clinic's record: add, list, disable, passwd.",
                  no_args_is_help=True)

StdinOption = Annotated[bool, typer.Option(
    "--password-stdin", help="Read the password from the first line of standard input.")]
NameArgument = Annotated[str, typer.Argument(help="User name (a-z, 0-9, '.', '_', '-').")]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise StoreError("--password-stdin: standard input is empty")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise StoreError("no terminal to ask the password on: use --password-stdin")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@app.command()
def add(
    name: NameArgument,
    role: Annotated[UserRole, typer.Option("--role", help="The user's role.")],
    patient: Annotated[int | None, typer.Option(
        "--patient", help="The patient's id (patient users only).")] = None,
    password_stdin: StdinOption = False,
    db: DbOption = None,
) -> None:
    """Add a user with a role and a password (argon2id-hashed)."""
    store_users.check_username(name)
    password = store_users.check_password(_password(password_stdin))
    with open_record(db) as record:
        user = store_users.add_user(record, local_admin(), name, role, password, patient)
    print(f"Added {user.username} ({user.role}), id {user.id}")


@app.command("list")
def list_(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List the users: name, role, disabled, locked, failed logins."""
    with open_record(db) as record:
        everyone = store_users.list_users(record, local_admin())
    rows = [{"id": u.id, "username": u.username, "role": u.role, "disabled": u.disabled,
             "patient_id": u.patient_id, "failed_logins": u.failed_logins,
             "locked_until": u.locked_until.isoformat() if u.locked_until else None}
            for u in everyone]
    if as_json:
        print_json({"users": rows})
        return
    table = Table(title=f"{len(rows)} users")
    for column in ("id", "user", "role", "state", "failed logins"):
        table.add_column(column)
    for row in rows:
        state = "disabled" if row["disabled"] else (
            f"locked until {row['locked_until']}" if row["locked_until"] else "active")
        table.add_row(str(row["id"]), str(row["username"]), str(row["role"]), state,
                      str(row["failed_logins"]))
    console().print(table)


@app.command()
def disable(
    name: NameArgument,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit trail).")],
    db: DbOption = None,
) -> None:
    """Disable a user: no more logins, open sessions end."""
    with open_record(db) as record:
        store_users.disable_user(record, local_admin(), name, reason)
    print(f"Disabled {name}")


@app.command()
def passwd(
    name: NameArgument,
    password_stdin: StdinOption = False,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit trail).")
                      ] = "password set by an administrator",
    db: DbOption = None,
) -> None:
    """Set a user's password: ends their sessions and lifts a lock-out."""
    password = store_users.check_password(_password(password_stdin))
    with open_record(db) as record:
        store_users.set_password(record, local_admin(), name, password, reason)
    print(f"New password set for {name}")
