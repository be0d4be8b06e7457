"""TCP on loopback with asyncio: each frame is sent as a 2-byte big-endian length and the frame.

The server binds to 127.0.0.1 by default (port 0: the OS picks one). It reads the 2-byte prefix
first and refuses (logs OVERSIZED and closes) any length above `MAX_FRAME` before reading a
body, so a huge prefix cannot make it allocate. Connections cannot hold the pump (issue 13:
16 idle connections sending garbage every 5 s locked every device out):

- a connection that has not yet carried an authenticated frame is closed at a fixed deadline
  (`unauthenticated_timeout` after it opened), whatever it sends;
- after authenticated progress (a verified command or a completed pairing, as the endpoint's
  `Received.authenticated` says) the idle timeout (`idle_timeout`) restarts, and only such
  progress restarts it again: garbage on an authenticated connection does not;
- at the cap (`max_connections`) a new connection evicts the oldest unauthenticated one
  (if every connection is authenticated, the new one is refused);
- each connection has its own frame budget (`frames_per_second`, burst `frame_burst`) that
  only frames which do not authenticate use up; frames over it are read and dropped without
  reaching the endpoint.

Times are seconds of the injected `clock` (default `time.monotonic`: the transport, not the
protocol, waits on real time). Events go to the endpoint (`report`), which aggregates them.
The endpoint's budgets and parser do the rest (ref, security: flooding, fuzzing).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from idds.link.endpoint import PumpEndpoint
from idds.link.errors import ErrorCode, TransportError
from idds.link.frame import MAX_FRAME
from idds.link.ratelimit import SECONDS_PER_MINUTE, TokenBucket

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


@dataclass
class _Connection:
    """One accepted connection: when it opened, its deadline, whether it authenticated."""

    writer: asyncio.StreamWriter
    opened: float
    deadline: float
    frames: TokenBucket
    authenticated: bool = False
    evicted: bool = False


class TcpServer:
    """Serves one `PumpEndpoint` over TCP. Use `async with TcpServer(endpoint) as server`."""

    def __init__(
        self,
        endpoint: PumpEndpoint,
        host: str = LOOPBACK,
        port: int = 0,
        *,
        idle_timeout: float = 10.0,
        unauthenticated_timeout: float = 10.0,
        max_connections: int = 16,
        frames_per_second: float = 10.0,
        frame_burst: int = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if min(idle_timeout, unauthenticated_timeout, frames_per_second) <= 0:
            raise ValueError("timeouts and the frame rate must be positive")
        if min(max_connections, frame_burst) < 1:
            raise ValueError("max_connections and frame_burst must be at least 1")
        self.endpoint = endpoint
        self.host = host
        self._port = port
        self.idle_timeout = idle_timeout
        self.unauthenticated_timeout = unauthenticated_timeout
        self.max_connections = max_connections
        self.frames_per_second = frames_per_second
        self.frame_burst = frame_burst
        self._clock = clock
        self._server: asyncio.Server | None = None
        self._open: list[_Connection] = []  # oldest first
        self._tasks: set[asyncio.Task[None]] = set()
        self.evicted = 0

    @property
    def connections(self) -> int:
        """Connections open now."""
        return len(self._open)

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
        """Stop listening, close the connections and wait for the server to close."""
        if self._server is not None:
            self._server.close()
            for conn in list(self._open):
                conn.writer.transport.abort()
            await self._server.wait_closed()
            self._server = None
        if self._tasks:  # let each connection's handler finish its clean-up
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def __aenter__(self) -> TcpServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _make_room(self, source: str) -> bool:
        """At the cap, evict the oldest unauthenticated connection; False if none can go."""
        if len(self._open) < self.max_connections:
            return True
        victim = next((c for c in self._open if not c.authenticated), None)
        if victim is None:
            self.endpoint.report(source, ErrorCode.RATE_LIMITED, "too many connections")
            return False
        victim.evicted = True
        self._open.remove(victim)
        victim.writer.transport.abort()
        self.evicted += 1
        self.endpoint.report(source, ErrorCode.RATE_LIMITED, "evicted an unauthenticated "
                             "connection")
        return True

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        source = f"tcp:{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else "tcp"
        if not self._make_room(source):
            writer.close()
            return
        now = self._clock()
        conn = _Connection(writer, now, now + self.unauthenticated_timeout,
                           TokenBucket.full(self.frame_burst,
                                            self.frames_per_second * SECONDS_PER_MINUTE))
        self._open.append(conn)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        try:
            await self._frames(conn, reader, source)
        except TransportError as exc:
            self.endpoint.report(source, exc.code, exc.detail)
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            pass  # the peer went away, stalled, or passed its deadline: close the connection
        finally:
            if conn in self._open:
                self._open.remove(conn)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _frames(self, conn: _Connection, reader: asyncio.StreamReader,
                      source: str) -> None:
        while not conn.evicted:
            left = conn.deadline - self._clock()
            if left <= 0:
                return
            frame = await asyncio.wait_for(read_prefixed(reader), left)
            now = self._clock()
            if not conn.frames.take(now):
                self.endpoint.report(source, ErrorCode.RATE_LIMITED, "connection frame rate")
                continue
            received = self.endpoint.receive(frame, source)
            if received.authenticated:  # authenticated progress costs no connection budget
                conn.frames.tokens = min(conn.frames.capacity, conn.frames.tokens + 1.0)
                conn.authenticated = True
                conn.deadline = now + self.idle_timeout
            if received.answer is not None:
                conn.writer.write(encode_prefixed(received.answer))
                await conn.writer.drain()


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
