"""`idds console [--host 127.0.0.1] [--port 8000] [--db URL] [--device DIR] [--demo]
[--sync-every S]`: the clinic's server: the clinician console's pages at / (docs/console.md)
and the HTTP API under /api/v1 (docs/api.md).

The server opens the record (migrating an empty one), installs the drug library in force, and
talks to the pumps paired with its programmer directory (`--device`, default
`clinic-programmer` in the data directory; pair pumps into it with
`idds program pair --device DIR`). `--demo` starts a demo clinic in a new temporary
directory instead: emulated pumps (`idds pump serve`, accelerated 60 times), paired, with one
virtual patient each and users of every role, whose logins are printed at start.
"""

from __future__ import annotations

import asyncio
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import URL

from idds.cli.clinic import DeviceOption, open_clinic
from idds.cli.database import DbOption, local_admin, shown
from idds.cli.demopumps import DEMO_SYNC_S, demo_pumps
from idds.cli.devices import (
    check_port,
    one_line_errors,
)
from idds.cli.druglib import LibraryOption, open_library
from idds.cli.output import DISCLAIMER
from idds.errors import IddsError


def console(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    db: DbOption = None,
    device: DeviceOption = None,
    library: LibraryOption = None,
    demo: Annotated[bool, typer.Option(
        "--demo", help="A demo clinic in a new temporary directory: emulated pumps, virtual "
        "patients and demo users (logins printed).")] = False,
    sync_every: Annotated[float | None, typer.Option(
        "--sync-every", min=1.0, help="Sync every pump every this many seconds (the demo: "
        f"every {DEMO_SYNC_S:g} s).")] = None,
) -> None:
    """Start the clinic's server: the console at / and the HTTP API under /api/v1 (OpenAPI
    at /api/v1/openapi.json)."""
    import uvicorn  # the server stack loads only for this command

    from idds.api.democlinic import seed_demo
    from idds.console.app import create_console

    with one_line_errors(), ExitStack() as stack:
        check_port(port)
        if demo:
            if db is not None or device is not None:
                raise IddsError("--demo makes its own database and programmer: leave out "
                                "--db and --device")
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="idds-demo-")))
            db = str(URL.create("sqlite", database=str(root / "demo.db")))
            device = root / "clinic-programmer"
            serials = stack.enter_context(demo_pumps(root, device,
                                                      open_library(library, None)))
        clinic = stack.enter_context(open_clinic(db, device, library))
        if demo:
            logins = asyncio.run(seed_demo(clinic, serials, local_admin()))
            print("Demo clinic (invented patients on emulated pumps). Logins:")
            for login in logins:
                print(f"  {login.username:<12} {login.role.value:<11} {login.password}")
        print(f"{DISCLAIMER}\nIDDS console on http://{host}:{port}/ and the API under "
              f"http://{host}:{port}/api/v1 (record: {shown(clinic.db.engine.url)}); OpenAPI "
              f"at http://{host}:{port}/api/v1/openapi.json. Ctrl-C stops it.", flush=True)
        app = create_console(clinic, DEMO_SYNC_S if demo and sync_every is None else
                             sync_every)
        uvicorn.run(app, host=host, port=port, log_level="warning")
