"""The frame: a fixed 22-byte header and a payload, and its strict parser.

Layout (all integers big-endian; docs/protocol.md, "Frame layout")::

    offset size field
    0      2    magic "ID" (0x49 0x44)
    2      1    version (2)
    3      1    type (FrameType)
    4      8    key id (which pairing; zero for PAIR_REQUEST and ERROR)
    12     8    counter (unsigned; >= 1 for sealed frames, 0 for pairing and error frames)
    20     2    payload length n (<= MAX_PAYLOAD)
    22     n    payload

For sealed frames (COMMAND, REPLY) the whole header (followed by the pairing's binding,
`keys.binding`) is the AEAD associated data and the payload is ciphertext plus a 16-byte tag,
so any change to any header byte fails authentication
(ref, security: "every frame carries a MAC"). The parser accepts exactly one frame and nothing
else: anything malformed raises `FrameError` with a code, and no other exception escapes
(ref, security: "fuzzing every external interface finds no crash or hang").
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from idds.link.errors import ErrorCode, FrameError

MAGIC = b"ID"
VERSION = 2
HEADER = struct.Struct(">2sBB8sQH")
HEADER_SIZE = HEADER.size  # 22 bytes
KEY_ID_SIZE = 8
TAG_SIZE = 16
MAX_PAYLOAD = 2048
MAX_FRAME = HEADER_SIZE + MAX_PAYLOAD  # 2070 bytes
ZERO_KEY_ID = bytes(KEY_ID_SIZE)
MAX_COUNTER = 2**64 - 1


class FrameType(IntEnum):
    """What a frame is; the type decides direction and whether the payload is sealed."""

    PAIR_REQUEST = 1  # device -> pump, plaintext
    PAIR_ACCEPT = 2  # pump -> device, plaintext with key confirmation
    COMMAND = 3  # device -> pump, sealed
    REPLY = 4  # pump -> device, sealed
    ERROR = 5  # pump -> device, plaintext: only to refuse a well-formed pairing request

    @property
    def sealed(self) -> bool:
        """True if the payload is AEAD ciphertext under a paired key."""
        return self in (FrameType.COMMAND, FrameType.REPLY)


@dataclass(frozen=True)
class Header:
    """A parsed header. `counter` is the sender's per-direction message counter."""

    type: FrameType
    key_id: bytes
    counter: int
    length: int

    def encode(self) -> bytes:
        """The 22 header bytes (also the AEAD associated data)."""
        return HEADER.pack(MAGIC, VERSION, self.type, self.key_id, self.counter, self.length)


@dataclass(frozen=True)
class Frame:
    """A whole frame: header and payload (ciphertext + tag when sealed)."""

    header: Header
    payload: bytes

    def encode(self) -> bytes:
        """The bytes on the wire."""
        return self.header.encode() + self.payload


def build_frame(ftype: FrameType, key_id: bytes, counter: int, payload: bytes) -> Frame:
    """A frame checked against the same rules the parser enforces (no bad frame is ever sent)."""
    frame = Frame(Header(ftype, key_id, counter, len(payload)), payload)
    return parse_frame(frame.encode())


def parse_frame(data: bytes) -> Frame:
    """Parse exactly one frame from `data`; raise `FrameError` (with a code) on any defect."""
    if len(data) > MAX_FRAME:
        raise FrameError(ErrorCode.OVERSIZED, f"{len(data)} bytes, at most {MAX_FRAME}")
    if len(data) < HEADER_SIZE:
        raise FrameError(ErrorCode.TRUNCATED, f"{len(data)} bytes, header is {HEADER_SIZE}")
    magic, version, ftype, key_id, counter, length = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise FrameError(ErrorCode.BAD_MAGIC)
    if version != VERSION:
        raise FrameError(ErrorCode.BAD_VERSION, f"version {version}, this pump speaks {VERSION}")
    if ftype not in FrameType._value2member_map_:
        raise FrameError(ErrorCode.BAD_TYPE, f"type {ftype}")
    kind = FrameType(ftype)
    if length > MAX_PAYLOAD:
        raise FrameError(ErrorCode.OVERSIZED, f"payload {length} bytes, at most {MAX_PAYLOAD}")
    body = len(data) - HEADER_SIZE
    if body < length:
        raise FrameError(ErrorCode.TRUNCATED, f"payload {body} of {length} bytes")
    if body > length:
        raise FrameError(ErrorCode.TRAILING_BYTES, f"{body - length} bytes after the payload")
    if kind.sealed:
        if length < TAG_SIZE:
            raise FrameError(ErrorCode.BAD_LENGTH, f"sealed payload of {length} bytes")
        if counter == 0:
            raise FrameError(ErrorCode.BAD_COUNTER, "sealed frames count from 1")
        if key_id == ZERO_KEY_ID:
            raise FrameError(ErrorCode.BAD_KEY_ID, "sealed frames name a pairing")
    else:
        if counter != 0:
            raise FrameError(ErrorCode.BAD_COUNTER, f"{kind.name} frames carry counter 0")
        if kind is not FrameType.PAIR_ACCEPT and key_id != ZERO_KEY_ID:
            raise FrameError(ErrorCode.BAD_KEY_ID, f"{kind.name} frames carry key id 0")
        if kind is FrameType.PAIR_ACCEPT and key_id == ZERO_KEY_ID:
            raise FrameError(ErrorCode.BAD_KEY_ID, "PAIR_ACCEPT names the new pairing")
    return Frame(Header(kind, key_id, counter, length), bytes(data[HEADER_SIZE:]))


def peek_pair_request(data: bytes) -> bool:
    """True if `data` looks like a PAIR_REQUEST (magic and type byte only; rate limiter)."""
    return len(data) >= HEADER_SIZE and data[:2] == MAGIC and data[3] == FrameType.PAIR_REQUEST


def peek_key_id(data: bytes) -> bytes | None:
    """The key id of what is shaped like a COMMAND frame (magic, version, type, a length field
    that matches the bytes and leaves room for the tag, counter >= 1), from the header only:
    no crypto (admission). Anything else is None, so a malformed frame naming a paired key is
    charged like garbage, not to that key's verification budget."""
    if len(data) < HEADER_SIZE or data[:2] != MAGIC or data[2] != VERSION:
        return None
    if data[3] != FrameType.COMMAND:
        return None
    length = int.from_bytes(data[20:22], "big")
    if not TAG_SIZE <= length <= MAX_PAYLOAD or len(data) != HEADER_SIZE + length:
        return None
    if data[12:20] == bytes(8) or data[4:12] == ZERO_KEY_ID:
        return None
    return bytes(data[4:12])
