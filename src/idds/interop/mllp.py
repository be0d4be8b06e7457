"""MLLP (HL7 v2 Minimal Lower Layer Protocol, HL7 v2 Implementation Guide, appendix C):
frames, and a client that sends one message and waits for its acknowledgement.

A frame is 0x0B, the message (UTF-8), 0x1C 0x0D. `MllpClient.send` opens a TCP connection,
sends the framed message, reads one framed answer within `timeout_s` seconds and checks it:
MSA-1 AA is accepted; AE or AR is refused with the receiver's text (`MllpRefused`, not sent
again: the receiver has the message and said no); MSA-2 must be the sent MSH-10
(`MllpRefused` otherwise: the answer is to another message). A connection refused or dropped,
a timeout, or an answer that is not one MLLP frame holding an ACK is retried: `attempts`
tries in all, waiting `backoff_s`, then twice that, and so on between them (the wait through
the injected `sleep`). The same message, same control id, is sent each time, so a receiver
that did get an earlier copy can recognise it (HL7 original-mode duplicate detection by
MSH-10). After the last try, `MllpUnreachable` says how each try failed. Nothing is dropped
silently: `send` returns the accepted ACK or raises.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from idds.errors import IddsError
from idds.interop.hl7v2 import Ack, AckCode, Hl7v2Error, msh_field, read_ack

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c\x0d"
#: The largest answer read (an ACK is a few hundred bytes).
MAX_FRAME = 1 << 20
#: Bounds of the client's settings: tries per message; timeout and backoff (s).
MAX_ATTEMPTS = 100
MAX_WAIT_S = 3600.0


class MllpReason(StrEnum):
    """Why a try failed."""

    ADDRESS = "bad address"
    CONNECT = "connection refused"
    DROPPED = "connection dropped"
    TIMEOUT = "timed out"
    GARBLED = "garbled answer"
    REFUSED = "refused"
    WRONG_ID = "wrong control id"


class MllpError(IddsError):
    """An MLLP exchange that failed, with its reason."""

    def __init__(self, reason: MllpReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class MllpRefused(MllpError):
    """The receiver answered AE or AR, or acknowledged another message: not retried."""

    def __init__(self, reason: MllpReason, message: str, ack: Ack) -> None:
        super().__init__(reason, message)
        self.ack = ack


class MllpUnreachable(MllpError):
    """Every try failed on the connection or the frame; `failures` says how, in order."""

    def __init__(self, message: str, failures: tuple[MllpError, ...]) -> None:
        super().__init__(failures[-1].reason if failures else MllpReason.CONNECT, message)
        self.failures = failures


def frame(message: str) -> bytes:
    """`message` (ER7) as one MLLP frame."""
    body = message.encode("utf-8")
    if START_BLOCK in body or b"\x1c" in body:
        raise MllpError(MllpReason.GARBLED, "the message holds an MLLP block character")
    return START_BLOCK + body + END_BLOCK


def unframe(data: bytes) -> str:
    """The message of exactly one frame; `MllpError` (garbled) otherwise."""
    if not data.startswith(START_BLOCK) or not data.endswith(END_BLOCK):
        raise MllpError(MllpReason.GARBLED, "the answer is not one MLLP frame (0x0B ... "
                        "0x1C 0x0D)")
    body = data[1:-2]
    if START_BLOCK in body or b"\x1c" in body:
        raise MllpError(MllpReason.GARBLED, "the answer holds more than one MLLP frame")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise MllpError(MllpReason.GARBLED, "the answer is not UTF-8 text") from None


def read_frame(sock: socket.socket, limit: int = MAX_FRAME) -> bytes:
    """Bytes from `sock` up to and including the first 0x1C 0x0D (the socket's timeout
    applies to each read); `MllpError` when the peer closes first or sends too much."""
    data = b""
    while not data.endswith(END_BLOCK):
        chunk = sock.recv(4096)
        if not chunk:
            raise MllpError(MllpReason.DROPPED, "the connection closed before a whole frame "
                            f"came ({len(data)} bytes)")
        data += chunk
        if len(data) > limit:
            raise MllpError(MllpReason.GARBLED, f"the answer is over {limit} bytes")
        if END_BLOCK in data[:-2]:
            break  # bytes after the frame's end: unframe refuses it
    return data


def parse_address(text: str) -> tuple[str, int]:
    """HOST:PORT (a port 1-65535; an IPv6 host in brackets: [::1]:2575)."""
    host, sep, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise MllpError(MllpReason.ADDRESS, f"{text!r} is not HOST:PORT (a port 1 to 65535)")
    return host, int(port)


@dataclass
class MllpClient:
    """Sends messages to one MLLP listener (see the module docstring). Times in seconds."""

    host: str
    port: int
    timeout_s: float = 10.0
    attempts: int = 3
    backoff_s: float = 1.0
    sleep: Callable[[float], None] = field(default=time.sleep)

    def __post_init__(self) -> None:
        if not 1 <= self.attempts <= MAX_ATTEMPTS or not 0 < self.timeout_s <= MAX_WAIT_S \
                or not 0 <= self.backoff_s <= MAX_WAIT_S:
            raise MllpError(MllpReason.ADDRESS, f"attempts must be 1 to {MAX_ATTEMPTS}, the "
                            f"timeout above 0 and the backoff 0, both at most {MAX_WAIT_S} s")

    @classmethod
    def to(cls, address: str, timeout_s: float = 10.0, attempts: int = 3,
           backoff_s: float = 1.0, sleep: Callable[[float], None] = time.sleep) -> MllpClient:
        """A client for HOST:PORT."""
        host, port = parse_address(address)
        return cls(host, port, timeout_s, attempts, backoff_s, sleep)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def exchange(self, data: bytes) -> str:
        """One try: connect, send the framed message, read the answer's frame (no retry)."""
        try:
            with socket.create_connection((self.host, self.port), self.timeout_s) as sock:
                sock.settimeout(self.timeout_s)
                sock.sendall(data)
                return unframe(read_frame(sock))
        except TimeoutError:
            raise MllpError(MllpReason.TIMEOUT, f"no answer from {self.address} within "
                            f"{self.timeout_s:g} s") from None
        except ConnectionRefusedError:
            raise MllpError(MllpReason.CONNECT, f"{self.address} refused the connection"
                            ) from None
        except OSError as exc:  # reset, aborted, unreachable, name not known
            raise MllpError(MllpReason.DROPPED, f"{self.address}: {exc.strerror or exc}"
                            ) from None

    def send(self, message: str) -> Ack:
        """Send `message` until it is acknowledged (AA) or the tries run out."""
        sent_id, data = msh_field(message, 10), frame(message)
        failures: list[MllpError] = []
        for attempt in range(1, self.attempts + 1):
            if attempt > 1:
                self.sleep(self.backoff_s * 2 ** (attempt - 2))
            try:
                answer = self.exchange(data)
                ack = read_ack(answer)
            except Hl7v2Error as exc:
                failures.append(MllpError(MllpReason.GARBLED, str(exc)))
                continue
            except MllpError as exc:
                failures.append(exc)
                continue
            return checked(ack, sent_id, self.address)
        said = "; ".join(f"try {n}: {f}" for n, f in enumerate(failures, start=1))
        raise MllpUnreachable(f"message {sent_id} not acknowledged by {self.address} after "
                              f"{self.attempts} tries ({said})", tuple(failures))


def checked(ack: Ack, sent_id: str, address: str) -> Ack:
    """`ack` when it accepts the message `sent_id`; `MllpRefused` otherwise."""
    if ack.code in (AckCode.ERROR, AckCode.REJECTED):
        raise MllpRefused(MllpReason.REFUSED, f"{address} refused message {sent_id} ("
                          f"{ack.code}): {ack.text or 'no reason given'}", ack)
    if ack.code != AckCode.ACCEPTED:
        raise MllpRefused(MllpReason.REFUSED, f"{address} answered message {sent_id} with "
                          f"MSA-1 {ack.code!r}, not AA", ack)
    if ack.control_id != sent_id:
        raise MllpRefused(MllpReason.WRONG_ID, f"{address} acknowledged message "
                          f"{ack.control_id!r}, not the one sent ({sent_id})", ack)
    return ack
