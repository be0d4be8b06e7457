"""Key agreement and key derivation for pairing: X25519, then HKDF-SHA-256.

Both sides make a fresh X25519 key pair for each pairing; nothing is hard-coded (ref, security:
"no hard-coded keys or passwords"). The shared secret goes through HKDF with the SHA-256 hash
of the pairing transcript as salt, and the pump id, device id and role in the info string, so
the keys are bound to who paired, as what, and to exactly the bytes exchanged
(docs/protocol.md, "Key derivation").
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from idds.link.errors import ErrorCode, PairingError
from idds.link.roles import Role

TRANSCRIPT_LABEL = b"idds-link-v1 pairing transcript\x00"
INFO_LABEL = b"idds-link-v1 keys"
PUBLIC_KEY_SIZE = 32
CONFIRM_SIZE = 32
SAS_DIGITS = 6


@dataclass(frozen=True)
class SessionKeys:
    """What a pairing derives: one key per direction, a confirmation key, key id, short code."""

    device_to_pump: bytes
    pump_to_device: bytes
    confirm: bytes
    key_id: bytes
    code: str  # short authentication code: both sides may display it and a person compares


def transcript_hash(request_frame: bytes, role: Role, pump_public: bytes, pump_id: str) -> bytes:
    """SHA-256 over the whole pairing request frame and the pump's half of the exchange."""
    pump_id_bytes = pump_id.encode()
    return hashlib.sha256(
        TRANSCRIPT_LABEL
        + request_frame
        + bytes([role])
        + pump_public
        + bytes([len(pump_id_bytes)])
        + pump_id_bytes
    ).digest()


def derive_keys(
    private: X25519PrivateKey,
    peer_public: bytes,
    transcript: bytes,
    pump_id: str,
    device_id: str,
    role: Role,
) -> SessionKeys:
    """X25519 with the peer, then HKDF(SHA-256, salt=transcript, info=ids and role)."""
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(peer_public))
    except ValueError:
        raise PairingError(ErrorCode.MALFORMED_PAYLOAD, "unusable public key") from None
    info = b"|".join([INFO_LABEL, pump_id.encode(), device_id.encode(), role.name.encode()])
    out = HKDF(algorithm=hashes.SHA256(), length=32 * 3 + 8 + 4, salt=transcript, info=info)
    material = out.derive(shared)
    code = int.from_bytes(material[104:108], "big") % 10**SAS_DIGITS
    return SessionKeys(
        device_to_pump=material[0:32],
        pump_to_device=material[32:64],
        confirm=material[64:96],
        key_id=material[96:104],
        code=f"{code:0{SAS_DIGITS}d}",
    )


def confirmation(keys: SessionKeys, transcript: bytes) -> bytes:
    """HMAC-SHA-256 of the transcript under the confirmation key (proves the pump derived it)."""
    return hmac.new(keys.confirm, transcript, hashlib.sha256).digest()


def public_bytes(private: X25519PrivateKey) -> bytes:
    """The 32 raw bytes of the public half."""
    return private.public_key().public_bytes_raw()
