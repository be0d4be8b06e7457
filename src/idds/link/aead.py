"""Authenticated encryption of sealed frames: ChaCha20-Poly1305; associated data = the header
and the pairing's binding (SHA-256 of pump id, device id and role, `keys.binding`).

The 12-byte nonce is built, never chosen at random: one direction byte, three zero bytes and
the 8-byte big-endian frame counter. Each direction has its own key and the sender's counter
strictly increases and is stored before the frame leaves (docs/protocol.md, "Nonces"), so a
(key, nonce) pair is never used twice. ref, security: "every frame carries a MAC (authenticated
encryption)"; a bit flip anywhere in header or payload fails `open_frame`, and so does a key
used under another role or device id than the one it was paired as.
"""

from __future__ import annotations

from enum import IntEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from idds.link.errors import AuthenticationError, ErrorCode
from idds.link.frame import Frame, FrameType, build_frame

KEY_SIZE = 32


class Direction(IntEnum):
    """Who sends: the nonce's first byte, and which of the two session keys is used."""

    DEVICE_TO_PUMP = 1
    PUMP_TO_DEVICE = 2


FRAME_DIRECTION = {
    FrameType.COMMAND: Direction.DEVICE_TO_PUMP,
    FrameType.REPLY: Direction.PUMP_TO_DEVICE,
}


def nonce(direction: Direction, counter: int) -> bytes:
    """direction (1 byte) | 0x000000 | counter (8 bytes, big-endian)."""
    return bytes([direction]) + bytes(3) + counter.to_bytes(8, "big")


def seal_frame(
    key: bytes,
    ftype: FrameType,
    key_id: bytes,
    counter: int,
    plaintext: bytes,
    binding: bytes,
) -> bytes:
    """Encrypt `plaintext` into a COMMAND or REPLY frame; header and binding are authenticated."""
    direction = FRAME_DIRECTION[ftype]
    length = len(plaintext) + 16
    header = build_frame(ftype, key_id, counter, bytes(length)).header
    sealed = ChaCha20Poly1305(key).encrypt(
        nonce(direction, counter), plaintext, header.encode() + binding
    )
    return build_frame(ftype, key_id, counter, sealed).encode()


def open_frame(key: bytes, frame: Frame, binding: bytes) -> bytes:
    """Decrypt a parsed sealed frame; `AuthenticationError` (AUTH_FAILED) if anything changed,
    including the binding (who the key was paired to, and as what)."""
    direction = FRAME_DIRECTION[frame.header.type]
    try:
        return ChaCha20Poly1305(key).decrypt(
            nonce(direction, frame.header.counter), frame.payload, frame.header.encode() + binding
        )
    except InvalidTag:
        raise AuthenticationError(ErrorCode.AUTH_FAILED) from None
