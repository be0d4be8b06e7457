"""The demo clinic's emulated pumps for `idds console --demo`: each `idds pump serve` in its
own process on loopback, accelerated `DEMO_SPEED` times, paired with the clinic's programmer
directory, with its patient's remote paired too and pressed now and then."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from functools import partial
from pathlib import Path

from idds.cli.devices import client_for, device_dir, hold_wand, pairing_client, run_with
from idds.drugs import DrugLibrary
from idds.errors import IddsError
from idds.link import Role
from idds.programmer import DeviceDir, Programmer, Remote

#: The demo clinic's pumps: one per demo patient (`idds.api.democlinic.PATIENTS`).
DEMO_PUMPS = 3

#: Pump seconds per wall second of the demo's emulated pumps.
DEMO_SPEED = 60
#: The demo's sync period (wall seconds: 20 pump minutes at `DEMO_SPEED`), so that alarms and
#: bolus use reach the console as they happen.
DEMO_SYNC_S = 20.0
#: The demo patients' presses of their remotes: one every this many wall seconds on average,
#: among all of them (about one an hour of pump time each at `DEMO_SPEED`: invented demo
#: behaviour, enough to fill the boluses-by-hour chart and meet the lockout now and then).
PRESS_EVERY_S = 20.0
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


def _pair_remote(root: Path, state: Path, port: int) -> DeviceDir:
    """The demo patient's remote, held over the pump and paired as a patient."""
    remote_dir = device_dir(root / f"remote-{state.name}", "remote")
    client = pairing_client(remote_dir, port)
    remote = Remote(client, remote_dir.log)
    secret = hold_wand(state, Role.PATIENT)
    run_with(client, partial(remote.pair, remote_dir.device_id, secret))
    return remote_dir


def _press(remotes: list[DeviceDir], stop: threading.Event, seed: int) -> None:
    """The demo patients pressing their remotes: one press every `PRESS_EVERY_S` wall seconds
    on average (exponential waits, seeded), each on one patient's remote chosen at random;
    a press inside the lockout is refused by the pump, as it would be."""
    rng = random.Random(seed)
    while not stop.wait(rng.expovariate(1 / PRESS_EVERY_S)):
        dev = rng.choice(remotes)
        remote = Remote(client_for(dev, None), dev.log, sleep=asyncio.sleep)
        try:
            run_with(remote.client, remote.bolus)
        except IddsError:  # the pump busy or its answer lost: the next press tries again
            continue


@contextmanager
def demo_pumps(root: Path, device: Path, library: DrugLibrary) -> Iterator[list[str]]:
    """Emulated pumps, one per demo patient, paired with the programmer directory `device`,
    each with its patient's remote paired and pressed now and then (`_press`); their ids;
    stopped when the block ends."""
    processes: list[subprocess.Popen[bytes]] = []
    stop = threading.Event()
    try:
        serials, remotes = [], []
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
            remotes.append(_pair_remote(root, state, port))
        threading.Thread(target=_press, args=(remotes, stop, DEMO_PUMPS), daemon=True,
                         name="demo-remotes").start()
        yield serials
    finally:
        stop.set()
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
