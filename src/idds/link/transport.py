"""The transport seam (httpx style): one async interface, in-memory and TCP behind it.

`exchange(frame)` sends one frame and returns the answer frame, or None if the pump stayed
silent (which is its answer to anything it rejects unauthenticated, docs/protocol.md).
"""

from __future__ import annotations

from typing import Protocol

from idds.link.endpoint import PumpEndpoint


class Transport(Protocol):
    """Carries frames to one pump and back."""

    async def exchange(self, frame: bytes) -> bytes | None:
        """Send `frame`; return the pump's answer, or None if it did not answer."""

    async def aclose(self) -> None:
        """Release the connection, if any."""


class MemoryTransport:
    """Hands frames straight to an in-process `PumpEndpoint` (tests, simulations)."""

    def __init__(self, endpoint: PumpEndpoint, source: str = "memory") -> None:
        self.endpoint = endpoint
        self.source = source
        self.sent: list[bytes] = []  # every frame sent, for tests that replay captures

    async def exchange(self, frame: bytes) -> bytes | None:
        """Deliver synchronously and return the endpoint's answer."""
        self.sent.append(frame)
        return self.endpoint.handle_frame(frame, self.source)

    async def aclose(self) -> None:
        """Nothing to release."""
