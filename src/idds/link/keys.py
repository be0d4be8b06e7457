"""Pairing cryptography: the near-field secret, SPAKE2, HKDF-SHA-256, and the role binding.

The programmer's wand (or the remote held over the pump) carries a fresh 16-byte one-time
secret over the near-field channel, which an attacker on the radio does not have (ref,
security: pairing needs a physical-presence step; no hard-coded keys or passwords). Over the
radio the two sides run SPAKE2 (the `spake2` package, Ed25519 group) with that secret as the
password: the device is side A (idA = device id), the pump side B. The device learns the
pump's id only from the pump's answer, so SPAKE2's idB is the fixed label "idds-pump" and the
pump id is bound where both sides know it: the transcript hash and the HKDF info. Someone
without the secret learns nothing from the exchange and cannot finish it; someone who later
learns the secret still cannot compute a past key (SPAKE2 is a Diffie-Hellman exchange).

- `filter_key(secret)`: HKDF(secret, "idds-link-v2 pairing filter"), the key of the cheap
  HMAC on PAIR_REQUEST that lets the pump drop requests from anyone without the secret before
  any SPAKE2 arithmetic.
- `derive_keys`: HKDF over the SPAKE2 key, salt = the transcript hash, info = pump id | device
  id | role: one key per direction, a confirmation key and the key id, bound to who paired, as
  what, and to exactly the bytes exchanged (docs/protocol.md, "Pairing").
- `binding(pump id, device id, role)`: SHA-256 appended to every sealed frame's associated
  data, so a stored role or device id edited after pairing fails the tag.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from spake2 import SPAKE2_A, SPAKE2_B, SPAKEError
from spake2.ed25519_basic import NotOnCurve

from idds.link.errors import ErrorCode, PairingError
from idds.link.roles import Role

SECRET_SIZE = 16  # bytes carried by the near-field channel (128 bits)
SPAKE_MESSAGE_SIZE = 33  # side byte + Ed25519 element
MAC_SIZE = 32  # HMAC-SHA-256
CONFIRM_SIZE = 32
FILTER_INFO = b"idds-link-v2 pairing filter"
TRANSCRIPT_LABEL = b"idds-link-v2 pairing transcript\x00"
INFO_LABEL = b"idds-link-v2 keys"
BINDING_LABEL = b"idds-link-v2 binding"
SPAKE_PUMP_ID = b"idds-pump"


def _field(value: bytes) -> bytes:
    """One length-prefixed field (1 byte of length): no two id pairs hash alike."""
    return bytes([len(value)]) + value


def _hkdf(ikm: bytes, salt: bytes | None, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def check_secret(secret: bytes) -> bytes:
    """A near-field secret is exactly 16 bytes (ValueError otherwise: a caller bug)."""
    if len(secret) != SECRET_SIZE:
        raise ValueError(f"the near-field secret is {SECRET_SIZE} bytes, not {len(secret)}")
    return secret


def filter_key(secret: bytes) -> bytes:
    """HKDF-SHA-256(secret, info "idds-link-v2 pairing filter"), 32 bytes."""
    return _hkdf(check_secret(secret), None, FILTER_INFO, 32)


def request_mac(key: bytes, signed: bytes) -> bytes:
    """HMAC-SHA-256 of the request bytes before the MAC (header and payload)."""
    return hmac.new(key, signed, hashlib.sha256).digest()


def mac_ok(key: bytes, signed: bytes, mac: bytes) -> bool:
    """Constant-time check of a PAIR_REQUEST's filter MAC."""
    return hmac.compare_digest(request_mac(key, signed), mac)


@dataclass
class Spake:
    """One side of one SPAKE2 run; `message` goes on the wire. Use once."""

    side: SPAKE2_A | SPAKE2_B = field(repr=False)
    message: bytes

    @classmethod
    def device(cls, secret: bytes, device_id: str) -> Spake:
        """Side A (the device): idA = device id, idB = "idds-pump"."""
        side = SPAKE2_A(check_secret(secret), idA=device_id.encode(), idB=SPAKE_PUMP_ID)
        return cls(side, side.start())

    @classmethod
    def pump(cls, secret: bytes, device_id: str) -> Spake:
        """Side B (the pump), for the device id named in the request."""
        side = SPAKE2_B(check_secret(secret), idA=device_id.encode(), idB=SPAKE_PUMP_ID)
        return cls(side, side.start())

    def finish(self, peer_message: bytes) -> bytes:
        """The 32-byte SPAKE2 key; `PairingError(PAIRING_FAILED)` on a bad peer message."""
        try:
            key: bytes = self.side.finish(peer_message)
        except (SPAKEError, NotOnCurve, ValueError, TypeError):
            raise PairingError(ErrorCode.PAIRING_FAILED, "unusable SPAKE2 message") from None
        return key


@dataclass(frozen=True)
class SessionKeys:
    """What a pairing derives: one key per direction, a confirmation key and the key id."""

    device_to_pump: bytes = field(repr=False)
    pump_to_device: bytes = field(repr=False)
    confirm: bytes = field(repr=False)
    key_id: bytes


def transcript_hash(request_frame: bytes, accept_body: bytes) -> bytes:
    """SHA-256 over the whole PAIR_REQUEST frame and the PAIR_ACCEPT payload before its
    confirmation (role, pump id, the pump's SPAKE2 message)."""
    return hashlib.sha256(TRANSCRIPT_LABEL + request_frame + accept_body).digest()


def derive_keys(
    spake_key: bytes, transcript: bytes, pump_id: str, device_id: str, role: Role
) -> SessionKeys:
    """HKDF(SHA-256, ikm = SPAKE2 key, salt = transcript, info = label | pump id | device id |
    role) -> 32 + 32 + 32 + 8 bytes."""
    info = INFO_LABEL + _field(pump_id.encode()) + _field(device_id.encode()) + bytes([role])
    material = _hkdf(spake_key, transcript, info, 32 * 3 + 8)
    return SessionKeys(material[0:32], material[32:64], material[64:96], material[96:104])


def confirmation(keys: SessionKeys, transcript: bytes) -> bytes:
    """HMAC-SHA-256 of the transcript under the confirmation key (proves the pump derived it)."""
    return hmac.new(keys.confirm, transcript, hashlib.sha256).digest()


def binding(pump_id: str, device_id: str, role: Role) -> bytes:
    """SHA-256("idds-link-v2 binding" | pump id | device id | role): the part of every sealed
    frame's associated data that names who the key belongs to and what it may do."""
    return hashlib.sha256(
        BINDING_LABEL + _field(pump_id.encode()) + _field(device_id.encode()) + bytes([role])
    ).digest()
