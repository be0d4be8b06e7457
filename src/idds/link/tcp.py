"""TCP on loopback with asyncio: each frame is sent as a 2-byte big-endian length and the frame.

The server binds to 127.0.0.1 by default (port 0: the OS picks one). It reads the 2-byte prefix
first and refuses (logs OVERSIZED and closes) any length above `MAX_FRAME` before reading a
body, so a huge prefix cannot make it allocate; reads time out (`idle_timeout`, seconds of real
time: the transport, not the protocol, may wait on the event loop's clock); connections are
capped. The endpoint's rate limiter and parser do the rest (ref, security: flooding, fuzzing).
"""

from __future__ import annotations

import asyncio
import contextlib

from idds.link.endpoint import PumpEndpoint
from idds.link.errors import ErrorCode, TransportError
from idds.link.frame import MAX_FRAME

PREFIX_SIZE = 2
LOOPBACK = "127.0.0.1"


def encode_prefixed(frame: bytes) -> bytes:
    """Length prefix + frame; refuses frames the link never sends."""
    if not 0 < len(frame) <= MAX_FRAME:
        raise ValueError(f"frame of {len(frame)} bytes")
    return len(frame).to_bytes(PREFIX_SIZE, "big") + frame


async def read_prefixed(reader: asyncio.StreamReader) -> bytes:
    """Read one length-prefixed frame; `TransportError(OVERSIZED)` before reading a big body."""
    size = int.from_bytes(await reader.readexactly(PREFIX_SIZE), "big")
    if not 0 < size <= MAX_FRAME:
        raise TransportError(ErrorCode.OVERSIZED, f"length prefix {size}, at most {MAX_FRAME}")
    return await reader.readexactly(size)


class TcpServer:
    """Serves one `PumpEndpoint` over TCP. Use `async with TcpServer(endpoint) as server`."""

    def __init__(
        self,
        endpoint: PumpEndpoint,
        host: str = LOOPBACK,
        port: int = 0,
        *,
        idle_timeout: float = 10.0,
        max_connections: int = 16,
    ) -> None:
        self.endpoint = endpoint
        self.host = host
        self._port = port
        self.idle_timeout = idle_timeout
        self.max_connections = max_connections
        self._server: asyncio.Server | None = None
        self._connections = 0

    @property
    def port(self) -> int:
        """The bound port (after `start`)."""
        if self._server is None:
            raise TransportError(ErrorCode.TRANSPORT_FAILED, "server not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        """Bind and listen."""
        self._server = await asyncio.start_server(self._serve, self.host, self._port)

    async def close(self) -> None:
        """Stop listening and wait for the server to close."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> TcpServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        source = f"tcp:{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else "tcp"
        if self._connections >= self.max_connections:
            self.endpoint.report(source, ErrorCode.RATE_LIMITED, "too many connections")
            writer.close()
            return
        self._connections += 1
        try:
            while True:
                frame = await asyncio.wait_for(read_prefixed(reader), self.idle_timeout)
                answer = self.endpoint.handle_frame(frame, source)
                if answer is not None:
                    writer.write(encode_prefixed(answer))
                    await writer.drain()
        except TransportError as exc:
            self.endpoint.report(source, exc.code, exc.detail)
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            pass  # the peer went away or stalled: close the connection
        finally:
            self._connections -= 1
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


class TcpTransport:
    """Client side of the TCP transport; one connection, reopened after a silence or error."""

    def __init__(self, host: str, port: int, *, reply_timeout: float = 2.0) -> None:
        self.host = host
        self.port = port
        self.reply_timeout = reply_timeout
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def exchange(self, frame: bytes) -> bytes | None:
        """Send one frame; the answer, or None after `reply_timeout` seconds of silence."""
        try:
            if self._streams is None:
                self._streams = await asyncio.open_connection(self.host, self.port)
            reader, writer = self._streams
            writer.write(encode_prefixed(frame))
            await writer.drain()
            return await asyncio.wait_for(read_prefixed(reader), self.reply_timeout)
        except TimeoutError:
            await self.aclose()  # a late answer must not be read as the next one's
            return None
        except (OSError, asyncio.IncompleteReadError) as exc:
            await self.aclose()
            raise TransportError(
                ErrorCode.TRANSPORT_FAILED, str(exc) or type(exc).__name__
            ) from None

    async def aclose(self) -> None:
        """Close the connection."""
        if self._streams is not None:
            _, writer = self._streams
            self._streams = None
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
