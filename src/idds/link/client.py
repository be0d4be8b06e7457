"""`LinkClient`: the device side (programmer or remote) over any `Transport`.

It pairs, sends a command, and returns the pump's result or raises a typed error carrying the
pump's refusal code and reason (`RefusedError`), or `TransportError(NO_REPLY)` when the pump
stayed silent. The pairing and both counters are stored through a `ClientStore` before each
frame leaves and after each reply (ref, security: no counter, hence no nonce, is reused).
"""

from __future__ import annotations

from collections.abc import Mapping

from idds.link.clientstore import ClientPairing, ClientStore
from idds.link.clock import Clock
from idds.link.errors import ErrorCode, LinkError, RefusedError, TransportError
from idds.link.messages import JsonValue
from idds.link.roles import Role
from idds.link.session import open_reply, seal_command, start_pairing
from idds.link.transport import Transport

DEFAULT_TTL_SECONDS = 30.0


class LinkClient:
    """A paired (or pairing) device. `ttl` is how long a command stays valid, in seconds."""

    def __init__(
        self,
        transport: Transport,
        store: ClientStore,
        clock: Clock,
        *,
        ttl: float = DEFAULT_TTL_SECONDS,
    ) -> None:
        self.transport = transport
        self.store = store
        self.clock = clock
        self.ttl = ttl

    @property
    def pairing(self) -> ClientPairing | None:
        """The stored pairing, if any."""
        return self.store.load()

    async def pair(self, device_id: str, role: Role, secret: bytes) -> ClientPairing:
        """Pair as `role` with the one-time `secret` this device gave the pump over the
        near-field channel (which opened the window); store and return the pairing."""
        attempt = start_pairing(device_id, role, secret)
        answer = await self.transport.exchange(attempt.request)
        if answer is None:
            raise TransportError(ErrorCode.NO_REPLY, "no answer to the pairing request")
        pairing = attempt.finish(answer)
        self.store.save(pairing)
        return pairing

    async def send(
        self, command: str, args: Mapping[str, JsonValue] | None = None
    ) -> dict[str, JsonValue]:
        """Send one command; the handler's result, or `RefusedError` with the pump's code."""
        pairing = self.store.load()
        if pairing is None:
            raise LinkError(ErrorCode.NOT_PAIRED)
        pairing, frame = seal_command(pairing, command, args or {}, self.clock() + self.ttl)
        self.store.save(pairing)  # the counter is spent before the frame leaves
        answer = await self.transport.exchange(frame)
        if answer is None:
            raise TransportError(ErrorCode.NO_REPLY)
        pairing, reply = open_reply(pairing, answer)
        self.store.save(pairing)
        if not reply.ok:
            raise RefusedError(ErrorCode(reply.code), reply.reason)
        return reply.result

    async def aclose(self) -> None:
        """Close the transport."""
        await self.transport.aclose()
