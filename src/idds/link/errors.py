"""Error codes and typed errors of the secure link.

Every refusal the link makes has a numeric code (sent on the wire, two bytes, big-endian), a
name and a sentence a clinician or engineer can read. The codes are grouped by hundreds:
1xx malformed frames, 2xx authentication and freshness, 3xx roles, 4xx pairing, 5xx rate
limiting, 6xx the pump refused the command itself, 7xx transport. docs/protocol.md lists them.

Errors raised by the link are `LinkError`s (an `IddsError`: the CLI prints the message on one
line). `ProtocolError` covers everything the pump-side endpoint rejects; the frame parser
raises only `FrameError`, one of its subclasses.
"""

from __future__ import annotations

from enum import IntEnum

from idds.errors import IddsError


class ErrorCode(IntEnum):
    """Numeric reason codes, stable on the wire (docs/protocol.md, "Error codes")."""

    OK = 0
    # 1xx: the bytes are not a well-formed frame (ref, security: fuzzing, malformed input)
    TRUNCATED = 101
    OVERSIZED = 102
    BAD_MAGIC = 103
    BAD_VERSION = 104
    BAD_TYPE = 105
    BAD_LENGTH = 106
    TRAILING_BYTES = 107
    BAD_COUNTER = 108
    BAD_KEY_ID = 109
    WRONG_DIRECTION = 110
    MALFORMED_PAYLOAD = 111
    # 2xx: authentication and freshness (ref, security: integrity and freshness)
    UNKNOWN_KEY = 201
    AUTH_FAILED = 202
    REPLAYED = 203
    EXPIRED = 204
    EXPIRY_TOO_FAR = 205
    # 3xx: roles (ref, security: authentication and authorization)
    NOT_PERMITTED = 301
    UNKNOWN_COMMAND = 302
    # 4xx: pairing (ref, security: physical presence, no hard-coded keys)
    PAIRING_NOT_OPEN = 401
    PAIRING_WINDOW_CLOSED = 402
    PAIRING_WRONG_ROLE = 403
    PAIRING_FULL = 404
    PAIRING_FAILED = 405
    NOT_PAIRED = 406
    PAIRING_ROLE_TAKEN = 407
    # 5xx: rate limiting (ref, security: Halperin 2008, battery drain)
    RATE_LIMITED = 501
    # 6xx: the pump firmware refused the command (reason comes from the pump)
    COMMAND_REFUSED = 601
    # 7xx: transport
    NO_REPLY = 701
    TRANSPORT_FAILED = 702

    @property
    def meaning(self) -> str:
        """The sentence shown to a person for this code."""
        return MEANINGS[self]


MEANINGS: dict[ErrorCode, str] = {
    ErrorCode.OK: "accepted",
    ErrorCode.TRUNCATED: "the message was cut short",
    ErrorCode.OVERSIZED: "the message is larger than the link allows",
    ErrorCode.BAD_MAGIC: "this is not an IDDS link message",
    ErrorCode.BAD_VERSION: "the message uses a protocol version this pump does not speak",
    ErrorCode.BAD_TYPE: "the message type is unknown",
    ErrorCode.BAD_LENGTH: "the message length field is impossible for its type",
    ErrorCode.TRAILING_BYTES: "the message has extra bytes after its end",
    ErrorCode.BAD_COUNTER: "the message counter is not allowed for its type",
    ErrorCode.BAD_KEY_ID: "the key identifier is not allowed for this message type",
    ErrorCode.WRONG_DIRECTION: "this kind of message is not accepted by this side of the link",
    ErrorCode.MALFORMED_PAYLOAD: "the message content is not in the expected form",
    ErrorCode.UNKNOWN_KEY: "this device is not paired with this pump",
    ErrorCode.AUTH_FAILED: "the message failed its integrity check: altered, corrupted or forged",
    ErrorCode.REPLAYED: (
        "this message was already received, or is older than one already received (replay)"
    ),
    ErrorCode.EXPIRED: "the command expired before it reached the pump; send it again",
    ErrorCode.EXPIRY_TOO_FAR: "the command is valid for longer than the pump allows",
    ErrorCode.NOT_PERMITTED: "this device's role is not allowed to give this command",
    ErrorCode.UNKNOWN_COMMAND: "the pump does not know this command",
    ErrorCode.PAIRING_NOT_OPEN: (
        "the pump is not accepting pairing: hold the programmer's wand (or the remote) over "
        "the pump for the right role first"
    ),
    ErrorCode.PAIRING_WINDOW_CLOSED: (
        "the pairing window has closed; hold the wand over the pump again"
    ),
    ErrorCode.PAIRING_WRONG_ROLE: "the pairing window was opened for a different kind of device",
    ErrorCode.PAIRING_FULL: "the pump already has as many paired devices as it allows",
    ErrorCode.PAIRING_FAILED: "pairing failed: the two sides did not agree on the keys",
    ErrorCode.NOT_PAIRED: "this device is not paired with a pump yet",
    ErrorCode.PAIRING_ROLE_TAKEN: (
        "this device id is paired as another kind of device: unpair it first"
    ),
    ErrorCode.RATE_LIMITED: "too many messages: the pump is ignoring messages for a while",
    ErrorCode.COMMAND_REFUSED: "the pump refused the command",
    ErrorCode.NO_REPLY: (
        "the pump did not answer: out of range, busy, or the message was rejected"
    ),
    ErrorCode.TRANSPORT_FAILED: "the connection to the pump failed",
}


class LinkError(IddsError):
    """A link failure or refusal with a code (`ErrorCode`) and a readable reason."""

    def __init__(self, code: ErrorCode, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        text = code.meaning if not detail else f"{code.meaning} ({detail})"
        super().__init__(f"link error {int(code)} {code.name}: {text}")

    @property
    def reason(self) -> str:
        """The sentence sent back to a device: the detail if there is one, else the meaning."""
        return self.detail or self.code.meaning


class ProtocolError(LinkError):
    """A message the pump-side endpoint (or the client) rejects."""


class FrameError(ProtocolError):
    """Bytes that are not a well-formed frame. The only error `parse_frame` raises."""


class AuthenticationError(ProtocolError):
    """Unknown key, or a frame whose authentication tag does not verify."""


class ReplayError(ProtocolError):
    """A frame whose counter is not above the high-water mark (replayed or reordered)."""


class ExpiredError(ProtocolError):
    """A command past its expiry, or with an expiry further ahead than the pump allows."""


class NotPermittedError(ProtocolError):
    """A command the sender's role may not give, or a command the link does not know."""


class PairingError(ProtocolError):
    """A pairing request refused (no window, closed window, wrong role, full, the device id
    paired as another role) or failed."""


class RefusedError(LinkError):
    """Client side: the pump answered with a refusal; `code` and `reason` are the pump's."""

    def __init__(self, code: ErrorCode, reason: str) -> None:
        super().__init__(code, reason)
        self.args = (f"the pump refused ({int(code)} {code.name}): {reason}",)

    def __str__(self) -> str:
        return str(self.args[0])


class TransportError(LinkError):
    """Client side: no reply (silence is the pump's answer to rejected frames) or no link."""
