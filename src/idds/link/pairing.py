"""Pairing: the presence-opened window and the two handshake payloads.

The pump accepts a pairing request only while a window is open. A presence event on the pump
(magnet or button: physical presence, ref, security) opens it for ONE role and for
`window_seconds` of the injected clock (60 s by default); a successful pairing closes it.

PAIR_REQUEST payload (device -> pump)::

    role (1) | device X25519 public key (32) | id length n (1) | device id (n, ASCII)

PAIR_ACCEPT payload (pump -> device)::

    role (1) | pump X25519 public key (32) | id length n (1) | pump id (n, ASCII)
    | confirmation (32) = HMAC-SHA-256(confirm key, transcript hash)

ERROR payload (pump -> device; only to refuse a well-formed pairing request)::

    code (2, big-endian) | reason (UTF-8, rest of the payload)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from idds.link.errors import ErrorCode, PairingError, ProtocolError
from idds.link.keys import CONFIRM_SIZE, PUBLIC_KEY_SIZE
from idds.link.roles import Role

DEFAULT_WINDOW_SECONDS = 60.0
IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def check_identifier(value: str, what: str) -> str:
    """A pump or device id: 1-64 ASCII letters, digits, '.', '_' or '-'."""
    if not IDENTIFIER.fullmatch(value):
        raise ValueError(f"{what} {value!r} must be 1-64 ASCII letters, digits, '.', '_', '-'")
    return value


@dataclass(frozen=True)
class PairingWindow:
    """A window opened by a presence event: for `role`, from `opened_at` (seconds)."""

    role: Role
    opened_at: float
    seconds: float = DEFAULT_WINDOW_SECONDS

    @property
    def closes_at(self) -> float:
        """Link-clock seconds after which the window no longer accepts requests."""
        return self.opened_at + self.seconds

    def check(self, role: Role, now: float) -> None:
        """Raise `PairingError` unless a `role` device may pair at `now`."""
        if not self.opened_at <= now <= self.closes_at:
            raise PairingError(
                ErrorCode.PAIRING_WINDOW_CLOSED,
                f"the window for a {self.role.label} was open for {self.seconds:g} s",
            )
        if role is not self.role:
            raise PairingError(
                ErrorCode.PAIRING_WRONG_ROLE,
                f"the window is open for a {self.role.label}; this device asked to pair as a "
                f"{role.label}",
            )


@dataclass(frozen=True)
class Hello:
    """One side's half of the handshake: role, X25519 public key, identifier."""

    role: Role
    public: bytes
    identifier: str


def encode_hello(hello: Hello, confirm: bytes = b"") -> bytes:
    """PAIR_REQUEST payload (no `confirm`) or PAIR_ACCEPT payload (with `confirm`)."""
    ident = check_identifier(hello.identifier, "identifier").encode()
    return bytes([hello.role]) + hello.public + bytes([len(ident)]) + ident + confirm


def decode_hello(payload: bytes, confirm_size: int = 0) -> tuple[Hello, bytes]:
    """Parse a request (`confirm_size` 0) or accept payload strictly; return (hello, confirm)."""
    if len(payload) < 2 + PUBLIC_KEY_SIZE + confirm_size:
        raise ProtocolError(ErrorCode.MALFORMED_PAYLOAD, "pairing payload too short")
    role_byte = payload[0]
    if role_byte not in Role._value2member_map_:
        raise ProtocolError(ErrorCode.MALFORMED_PAYLOAD, f"role {role_byte}")
    public = payload[1 : 1 + PUBLIC_KEY_SIZE]
    size = payload[1 + PUBLIC_KEY_SIZE]
    start = 2 + PUBLIC_KEY_SIZE
    if len(payload) != start + size + confirm_size:
        raise ProtocolError(ErrorCode.MALFORMED_PAYLOAD, "pairing payload length")
    try:
        ident = payload[start : start + size].decode("ascii")
    except UnicodeDecodeError:
        raise ProtocolError(ErrorCode.MALFORMED_PAYLOAD, "identifier is not ASCII") from None
    if not IDENTIFIER.fullmatch(ident):
        raise ProtocolError(ErrorCode.MALFORMED_PAYLOAD, "identifier")
    return Hello(Role(role_byte), bytes(public), ident), bytes(payload[start + size :])


def decode_accept(payload: bytes) -> tuple[Hello, bytes]:
    """Parse a PAIR_ACCEPT payload: (pump hello, confirmation)."""
    return decode_hello(payload, CONFIRM_SIZE)


MAX_REASON = 512


def encode_error(code: ErrorCode, reason: str) -> bytes:
    """ERROR payload: code and a reason (truncated to 512 bytes of UTF-8)."""
    return int(code).to_bytes(2, "big") + reason.encode()[:MAX_REASON]


def decode_error(payload: bytes) -> tuple[ErrorCode, str]:
    """Parse an ERROR payload; unknown codes or bad text are malformed."""
    if len(payload) < 2:
        raise ProtocolError(ErrorCode.MALFORMED_PAYLOAD, "error payload too short")
    number = int.from_bytes(payload[:2], "big")
    if number not in ErrorCode._value2member_map_:
        raise ProtocolError(ErrorCode.MALFORMED_PAYLOAD, f"error code {number}")
    return ErrorCode(number), payload[2:].decode("utf-8", errors="replace")
