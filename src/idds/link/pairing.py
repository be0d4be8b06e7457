"""Pairing: the window opened over the near-field channel, and the two handshake payloads.

The pump accepts a pairing request only while a window is open. The programmer's wand (or the
remote held over the pump) opens it: a near-field event (physical presence, ref, security)
carrying the role and a fresh 16-byte one-time secret. The window is for ONE role and lasts
`window_seconds` of the injected clock (60 s by default); one successful pairing closes it, and
so does any failed attempt by someone who knows the secret (docs/protocol.md, "Pairing").

PAIR_REQUEST payload (device -> pump)::

    role (1) | id length n (1) | device id (n, ASCII) | SPAKE2 message A (33)
    | filter MAC (32) = HMAC-SHA-256(filter key, header | payload before the MAC)

PAIR_ACCEPT payload (pump -> device)::

    role (1) | id length n (1) | pump id (n, ASCII) | SPAKE2 message B (33)
    | confirmation (32) = HMAC-SHA-256(confirm key, transcript hash)

ERROR payload (pump -> device; only to refuse a request that passed the filter)::

    code (2, big-endian) | reason (UTF-8, rest of the payload)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from idds.link.errors import ErrorCode, PairingError, ProtocolError
from idds.link.keys import MAC_SIZE, SPAKE_MESSAGE_SIZE, filter_key
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
    """A window opened by a near-field event: for `role`, from `opened_at` (seconds), for the
    device that holds `secret` (kept out of every repr and log)."""

    role: Role
    opened_at: float
    seconds: float
    secret: bytes = field(repr=False)
    key: bytes = field(repr=False)  # the filter MAC key derived from the secret

    @classmethod
    def open(cls, role: Role, now: float, seconds: float, secret: bytes) -> PairingWindow:
        """A window for `role` keyed by the near-field `secret` (16 bytes)."""
        return cls(role, now, seconds, secret, filter_key(secret))

    def is_open(self, now: float) -> bool:
        """True while the window accepts requests (inclusive of its last instant)."""
        return self.opened_at <= now <= self.closes_at

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
    """One side's half of the handshake: role, identifier, SPAKE2 message."""

    role: Role
    identifier: str
    message: bytes


def encode_hello(hello: Hello) -> bytes:
    """The payload before its 32-byte trailer (filter MAC or confirmation)."""
    ident = check_identifier(hello.identifier, "identifier").encode()
    if len(hello.message) != SPAKE_MESSAGE_SIZE:
        raise ValueError(f"SPAKE2 message of {len(hello.message)} bytes")
    return bytes([hello.role, len(ident)]) + ident + hello.message


def decode_hello(payload: bytes) -> tuple[Hello, bytes]:
    """Parse a request or accept payload strictly; return (hello, 32-byte trailer)."""
    if len(payload) < 2 + SPAKE_MESSAGE_SIZE + MAC_SIZE:
        raise ProtocolError(ErrorCode.MALFORMED_PAYLOAD, "pairing payload too short")
    role_byte, size = payload[0], payload[1]
    if role_byte not in Role._value2member_map_:
        raise ProtocolError(ErrorCode.MALFORMED_PAYLOAD, f"role {role_byte}")
    if len(payload) != 2 + size + SPAKE_MESSAGE_SIZE + MAC_SIZE:
        raise ProtocolError(ErrorCode.MALFORMED_PAYLOAD, "pairing payload length")
    try:
        ident = payload[2 : 2 + size].decode("ascii")
    except UnicodeDecodeError:
        raise ProtocolError(ErrorCode.MALFORMED_PAYLOAD, "identifier is not ASCII") from None
    if not IDENTIFIER.fullmatch(ident):
        raise ProtocolError(ErrorCode.MALFORMED_PAYLOAD, "identifier")
    message = bytes(payload[2 + size : 2 + size + SPAKE_MESSAGE_SIZE])
    return Hello(Role(role_byte), ident, message), bytes(payload[-MAC_SIZE:])


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
