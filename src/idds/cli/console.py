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
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import URL

from idds.cli.clinic import DeviceOption, open_clinic
from idds.cli.database import DbOption, local_admin, shown
from idds.cli.devices import (
    check_port,
    device_dir,
    hold_wand,
    one_line_errors,
    pairing_client,
    run_with,
)
from idds.cli.druglib import LibraryOption, open_library
from idds.cli.output import DISCLAIMER
from idds.drugs import DrugLibrary
from idds.errors import IddsError
from idds.link import Role
from idds.programmer import Programmer

#: The demo clinic's pumps: one per demo patient (`idds.api.democlinic.PATIENTS`).
DEMO_PUMPS = 3

#: Pump seconds per wall second of the demo's emulated pumps.
DEMO_SPEED = 60
#: The demo's sync period (wall seconds: 20 pump minutes at `DEMO_SPEED`), so that alarms and
#: bolus use reach the console as they happen.
DEMO_SYNC_S = 20.0
#: How long an emulated pump may take to start (wall s).
START_WAIT_S = 60


def _emulator(state: Path, seed: int) -> subprocess.Popen[bytes]:
    log = open(state.parent / f"{state.name}.out", "ab")  # noqa: SIM115 (the child keeps it)
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "idds", "pump", "serve", "--state", str(state), "--port",
             "0", "--speed", str(DEMO_SPEED), "--seed", str(seed), "--secure-element",
             str(state.parent / f"{state.name}.se")], stdout=log, stderr=subprocess.STDOUT)
    finally:
        log.close()


def _port_of(state: Path, process: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + START_WAIT_S
    while time.monotonic() < deadline:
        text = (state / "port").read_text().strip() if (state / "port").exists() else ""
        if text:
            return int(text)
        if process.poll() is not None:
            raise IddsError(f"the emulated pump in {state} exited at start (see {state}.out)")
        time.sleep(0.05)
    raise IddsError(f"the emulated pump in {state} did not start within {START_WAIT_S} s")


@contextmanager
def _demo_pumps(root: Path, device: Path, library: DrugLibrary) -> Iterator[list[str]]:
    """Emulated pumps, one per demo patient, paired with the programmer directory `device`;
    their ids; stopped when the block ends."""
    processes: list[subprocess.Popen[bytes]] = []
    try:
        serials = []
        dev = device_dir(device, "programmer")
        for number in range(DEMO_PUMPS):
            state = root / f"pump-{number + 1}"
            state.mkdir()
            processes.append(_emulator(state, seed=number + 1))
            port = _port_of(state, processes[-1])
            secret = hold_wand(state, Role.CLINICIAN)
            client = pairing_client(dev, port)
            prog = Programmer(client, dev.log, library, date.today)
            pairing = run_with(client, partial(prog.pair, dev.device_id, secret))
            serials.append(pairing.pump_id)
        yield serials
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


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
            serials = stack.enter_context(_demo_pumps(root, device,
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
