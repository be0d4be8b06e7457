"""A small MLLP listener: receives HL7 v2 messages over TCP (loopback by default) and answers
each with an original-mode ACK built by hl7apy (`hl7v2.ack`), for tests and for a user who
wants to see what IDDS sends.

One thread accepts connections and one thread serves each connection: every frame
(0x0B ... 0x1C 0x0D) is one message, given to the `decide` callable, which says the
acknowledgement code and, when not accepted, why. The default (`validate`) accepts what
hl7apy reads and validates strictly as HL7 v2.6 (AA), rejects text that is not an HL7
message (AR) and answers AE with hl7apy's reason otherwise. Bytes that are not a frame close
the connection unanswered (the sender retries). Each message received, and the answer
given, is kept in `exchanges`. The ACK time comes from the injected `clock`.
"""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType

from idds.interop.hl7v2 import AckCode, Hl7v2Error, ack, parse
from idds.interop.mllp import MllpError, MllpReason, frame, read_frame, unframe
from idds.store.clock import wall_clock

Decision = tuple[AckCode, str | None]
#: How long a connection may stay silent before the listener closes it (s).
IDLE_S = 30.0
_POLL_S = 0.05


def validate(message: str) -> Decision:
    """AA for a message hl7apy reads and validates strictly; AR for text with no MSH (not an
    HL7 message); AE with hl7apy's reason otherwise."""
    if not message.lstrip("\r\n").startswith("MSH"):
        return AckCode.REJECTED, "not an HL7 v2 message (no MSH segment first)"
    try:
        parse(message)
    except Hl7v2Error as exc:
        return AckCode.ERROR, str(exc)
    return AckCode.ACCEPTED, None


@dataclass(frozen=True)
class Exchange:
    """One message the listener received and the ACK it answered (ER7 both)."""

    message: str
    ack: str


class MllpListener:
    """Listens on `host`:`port` (port 0: any free port; `address` says which) once started;
    a context manager (started on entry, stopped on exit)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 decide: Callable[[str], Decision] = validate,
                 clock: Callable[[], datetime] = wall_clock) -> None:
        self._host, self._port = host, port
        self._decide, self._clock = decide, clock
        self._server: socket.socket | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._exchanges: list[Exchange] = []

    @property
    def address(self) -> tuple[str, int]:
        if self._server is None:
            raise MllpError(MllpReason.ADDRESS, "the listener is not started")
        host, port = self._server.getsockname()[:2]
        return str(host), int(port)

    @property
    def exchanges(self) -> list[Exchange]:
        with self._lock:
            return list(self._exchanges)

    def start(self) -> MllpListener:
        self._server = socket.create_server((self._host, self._port))
        self._spawn(self._accept_loop)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2)
        if self._server is not None:
            self._server.close()

    def __enter__(self) -> MllpListener:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        assert self._server is not None
        while not self._stop.is_set():
            ready, _, _ = select.select([self._server], [], [], _POLL_S)
            if ready:
                connection, _ = self._server.accept()
                self._spawn(self._serve, connection)

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            idle = 0.0
            while not self._stop.is_set() and idle < IDLE_S:
                ready, _, _ = select.select([connection], [], [], _POLL_S)
                if not ready:
                    idle += _POLL_S
                    continue
                idle = 0.0
                connection.settimeout(IDLE_S)
                try:
                    message = unframe(read_frame(connection))
                except (MllpError, OSError):
                    return  # not a frame, or the peer went: nothing to answer
                connection.sendall(self._answer(message))

    def _answer(self, message: str) -> bytes:
        try:
            code, reason = self._decide(message)
        except Exception as exc:  # a decide that fails is the receiver's error: AE, said
            code, reason = AckCode.ERROR, f"the listener failed: {exc}"
        with self._lock:
            control = f"IDDSACK{len(self._exchanges) + 1}"
            answer = ack(message, code, self._clock(), control, reason)
            self._exchanges.append(Exchange(message, answer))
        return frame(answer)
