"""What `idds program` and `idds remote` share: one-line errors, the event loop, the link.

The CLI is an edge: it reads the wall clock (link clock `time.time`, today's date) and
passes it into the programmer API, which never reads a clock itself.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import typer

from idds.cli.output import error_console
from idds.errors import IddsError
from idds.link import LinkClient, Role, TcpTransport
from idds.link.nearfield import new_secret, write_wand
from idds.link.transport import Transport
from idds.programmer import DeviceDir
from idds.programmer.device import PumpAddress

T = TypeVar("T")


class NotConfirmedError(IddsError):
    """The clinician did not confirm: nothing was sent."""


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Typed refusals -> one line on stderr, exit status 2 (also when run as a sub-app)."""
    try:
        yield
    except NotConfirmedError as exc:  # the clinician's choice, not an error
        error_console().print(str(exc), markup=False)
        raise typer.Exit(1) from None
    except IddsError as exc:
        error_console().print(f"idds: error: {exc}", markup=False)
        raise typer.Exit(2) from None


def check_port(port: int | None) -> None:
    """A TCP port, 1-65535."""
    if port is not None and not 0 < port < 65536:
        raise IddsError(f"--port {port} outside 1 to 65535")


class RememberPort:
    """A transport that stores a `--port` as the device's target only once the paired pump
    answered there: a wrong port fails and leaves the stored target as it was."""

    def __init__(self, inner: TcpTransport, device: DeviceDir, target: PumpAddress) -> None:
        self.inner = inner
        self.device = device
        self.target = target
        self.remembered = False

    async def exchange(self, frame: bytes) -> bytes | None:
        answer = await self.inner.exchange(frame)
        if answer is not None and not self.remembered:
            self.device.set_target(self.target)
            self.remembered = True
        return answer

    async def aclose(self) -> None:
        await self.inner.aclose()


def client_for(device: DeviceDir, port: int | None) -> LinkClient:
    """A link client to the device's paired pump (`port` overrides the stored one, and is
    stored once the pump answered on it)."""
    check_port(port)
    target = device.target(port)
    transport: Transport = TcpTransport(target.host, target.port)
    if port is not None:
        transport = RememberPort(TcpTransport(target.host, target.port), device, target)
    return LinkClient(transport, device.store(target), time.time)


def pairing_client(device: DeviceDir, port: int) -> LinkClient:
    """A link client for pairing with the pump on `port` (loopback)."""
    check_port(port)
    return LinkClient(TcpTransport("127.0.0.1", port), device.capture("127.0.0.1", port),
                      time.time)


def hold_wand(state: Path, role: Role, wait: float = 5.0) -> bytes:
    """The wand over the pump: write a fresh one-time secret into the running emulator's state
    directory (the near-field channel) and wait until the pump took it; the secret."""
    if not state.expanduser().is_dir():
        raise IddsError(f"--wand {state}: no pump state directory there (start `idds pump "
                        f"serve --state {state}` first)")
    secret = new_secret()
    path = write_wand(state.expanduser(), role, secret, time.time())
    deadline = time.monotonic() + wait
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    if path.exists():
        path.unlink(missing_ok=True)
        raise IddsError(f"--wand {state}: no running pump took the wand within {wait:g} s")
    return secret


def run_with(client: LinkClient, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run one coroutine, then close the connection."""

    async def go() -> T:
        try:
            return await make()
        finally:
            await client.aclose()

    return asyncio.run(go())


def confirm(question: str, yes: bool) -> None:
    """The confirm step: `--yes`, or an interactive yes; anything else sends nothing."""
    if yes:
        return
    try:
        ok = typer.confirm(question, default=False)
    except typer.Abort:
        ok = False
    if not ok:
        raise NotConfirmedError("Not confirmed: nothing was sent to the pump.")


def utc_now_text() -> str:
    """Wall-clock time for device log entries: the CLI is the edge that reads the clock."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def device_dir(path: Path, kind: str) -> DeviceDir:
    """A programmer or remote directory whose log is stamped with the wall clock."""
    return DeviceDir(path, kind, utc_now_text)
