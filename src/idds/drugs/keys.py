"""Ed25519 key files for signing drug libraries: make, load, fingerprint.

A private key is PKCS#8 PEM written with mode 0600 and never overwritten; a public key is
SubjectPublicKeyInfo PEM. No private key is shipped or hard-coded (ref, security: unsigned
drug libraries were pushed to real infusion pumps).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from idds.errors import IddsError


class SignatureError(IddsError):
    """A signed file is unsigned, tampered with, signed by an untrusted key, or unreadable."""


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short fingerprint: the first 16 hex digits of SHA-256 of the raw public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_keypair(prefix: Path) -> tuple[Path, Path]:
    """Write PREFIX.key (PKCS#8 PEM, mode 0600) and PREFIX.pub; refuse to overwrite."""
    private_path, public_path = prefix.with_name(prefix.name + ".key"), prefix.with_name(
        prefix.name + ".pub"
    )
    for existing in (private_path, public_path):
        if existing.exists():
            raise SignatureError(f"{existing} already exists; refusing to overwrite a key")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(private_pem)
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    public_path.chmod(0o644)  # a trust store refuses key files others may write
    return private_path, public_path


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError as exc:
        raise SignatureError(f"no such key file: {path}") from exc
    except (ValueError, TypeError) as exc:
        raise SignatureError(f"{path} is not an unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError(f"{path} is not an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except FileNotFoundError as exc:
        raise SignatureError(f"no such key file: {path}") from exc
    except IsADirectoryError as exc:
        raise SignatureError(f"{path} is a folder, not a public key file") from exc
    except ValueError as exc:
        raise SignatureError(f"{path} is not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise SignatureError(f"{path} is not an Ed25519 public key")
    return key
