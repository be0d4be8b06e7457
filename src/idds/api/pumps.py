"""The clinic's programmer on the secure link: the seam between the API and the pumps.

`PumpLinks.open(pump_serial)` gives a `Programmer` (the programmer core: interrogate, plan
with the drug library, send, read back) talking to that implant's pump. `DevicePumps` is the
real one: a programmer device directory (`idds.programmer.DeviceDir`, the same files as
`idds program --device DIR`) holding one pairing and one address per pump, the pump's id on
the link being the implant's serial. Tests and the demo pair emulated pumps into it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import date
from typing import Protocol

from idds.drugs import DrugLibrary
from idds.link import LinkClient, TcpTransport
from idds.programmer import DeviceDir, Programmer
from idds.programmer.anchor import AnchorStore


class PumpLinks(Protocol):
    """Where the API gets a programmer for one pump."""

    def open(self, pump_serial: str) -> AbstractAsyncContextManager[Programmer]: ...


class DevicePumps:
    """The pumps paired with one programmer device directory. `today` gives the calendar
    date for refill dates; `link_clock` the link's time (s since the epoch)."""

    def __init__(self, device: DeviceDir, library: DrugLibrary, today: Callable[[], date],
                 link_clock: Callable[[], float] = time.time) -> None:
        self.device, self.library, self.today, self.link_clock = (
            device, library, today, link_clock)

    @asynccontextmanager
    async def _open(self, pump_serial: str) -> AsyncIterator[Programmer]:
        address = self.device.address(pump_serial)
        client = LinkClient(TcpTransport(address.host, address.port),
                            self.device.store(address), self.link_clock)
        try:
            yield Programmer(client, self.device.log, self.library, self.today,
                             sleep=asyncio.sleep, anchors=AnchorStore(self.device.path))
        finally:
            await client.aclose()

    def open(self, pump_serial: str) -> AbstractAsyncContextManager[Programmer]:
        """A programmer connected to the pump `pump_serial` (closed when the block ends)."""
        return self._open(pump_serial)
