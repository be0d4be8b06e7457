"""The `idds` entry point: every sub-command, and one rule for errors.

Bad input ends with exit status 2 and one line on stderr naming what was wrong, never a
traceback: typed refusals (`IddsError`) and command-line usage errors both go through `main`.
Unknown options are Click's refusal; an option given where a value belongs, and a number
option that is not plain finite ASCII decimal, are refused first (`idds.cli.strict`).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
import typer.main

from idds import DISCLAIMER, __version__
from idds.cli import (
    audit,
    calc,
    candidacy,
    clinic,
    console,
    demo,
    export,
    library,
    patient,
    program,
    pump,
    remote,
    screen,
    storedb,
    trial,
    users,
    validate,
)
from idds.cli.output import error_console
from idds.cli.strict import check_argv
from idds.errors import IddsError

app = typer.Typer(
    name="idds",
    help="IDDS: intrathecal drug delivery, reference system. Research and training software, "
    "not a medical device.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(shown: bool) -> None:
    if shown:
        print(f"idds {__version__}. {DISCLAIMER}")
        raise typer.Exit(0)


@app.callback()
def _root(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="Show the version and exit.")] = False) -> None:
    """IDDS: intrathecal drug delivery, reference system. Research and training software, not a
    medical device."""


app.command("convert")(calc.convert)
app.command("refill")(calc.refill)
app.command("rate")(calc.rate)
app.command("catheter")(calc.catheter)
app.command("candidacy")(candidacy.candidacy)
app.command("demo")(demo.demo)
app.command("console")(console.console)
app.command("trial")(trial.trial)
app.command("validate")(validate.validate)
app.command("screen")(screen.screen)
app.add_typer(library.app, name="library")
app.add_typer(patient.app, name="patient")
app.add_typer(pump.app, name="pump")
app.add_typer(program.app, name="program")
app.add_typer(remote.app, name="remote")
app.add_typer(users.app, name="users")
app.add_typer(audit.app, name="audit")
app.add_typer(storedb.app, name="store")
app.add_typer(clinic.app, name="clinic")
app.add_typer(export.app, name="export")


def _usage_error(exc: Exception) -> tuple[int, str] | None:
    """Exit code and message of a command-line usage error (Typer's vendored click), else None."""
    code, describe = getattr(exc, "exit_code", None), getattr(exc, "format_message", None)
    if isinstance(code, int) and callable(describe):
        return code, str(describe())
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the CLI on `argv` and return the exit status."""
    try:
        command = typer.main.get_command(app)
        check_argv(command, sys.argv[1:] if argv is None else argv)
        result = command.main(args=argv, prog_name="idds", standalone_mode=False)
    except IddsError as exc:
        error_console().print(f"idds: error: {exc}", markup=False)
        return 2
    except Exception as exc:
        usage = _usage_error(exc)
        if usage is None:
            raise
        code, message = usage
        if type(exc).__name__ != "NoArgsIsHelpError":  # help was shown: nothing more to say
            error_console().print(f"idds: error: {message}", markup=False)
        return code
    return result if isinstance(result, int) else 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
