"""Ed25519 signatures over the canonical encoding of a data file (the drug library).

The signature covers the meaning of the file, not its layout: the TOML is parsed and encoded
as canonical JSON (sorted keys, no spaces, UTF-8), so a hospital may re-indent or comment its
library without re-signing, while any change to a value breaks the signature. Floats are not
allowed in signed data (their text form is not canonical); quantities are strings with units.

The signature lives beside the file, in FILE.sig (JSON: algorithm, key_id, signature). A file
is trusted only if the key that signed it is in the trust store: the project's reference key
shipped in `idds/drugs/data/trusted/`, plus the public keys a site lists in the environment
variable IDDS_TRUSTED_KEYS (paths separated by the OS path separator) or passes explicitly.
No private key is shipped or hard-coded (docs/references.md (security): unsigned drug
libraries were pushed to real infusion pumps).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time
from importlib import resources
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from idds.errors import IddsError

ALGORITHM = "Ed25519"
TRUSTED_KEYS_ENV = "IDDS_TRUSTED_KEYS"


class SignatureError(IddsError):
    """A signed file is unsigned, tampered with, signed by an untrusted key, or unreadable."""


def canonical_bytes(data: dict[str, Any]) -> bytes:
    """The canonical encoding that is signed: sorted-key compact JSON in UTF-8."""
    _refuse_floats(data, "")
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _refuse_floats(value: object, where: str) -> None:
    if isinstance(value, float):
        raise SignatureError(
            f"{where or 'value'} is a bare number {value!r}: write quantities as strings "
            'with a unit (like "0.5 mg"), counts as whole numbers'
        )
    if isinstance(value, (date, datetime, time)):
        raise SignatureError(f"{where}: dates and times are not allowed in signed data")
    if isinstance(value, dict):
        for key, item in value.items():
            _refuse_floats(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_floats(item, f"{where}[{index}]")


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise SignatureError(f"no such file: {path}") from exc
    except OSError as exc:
        raise SignatureError(f"cannot read {path}: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SignatureError(f"{path} is not valid TOML: {exc}") from exc


def signature_path(path: Path) -> Path:
    return path.with_name(path.name + ".sig")


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short fingerprint: the first 16 hex digits of SHA-256 of the raw public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


# keys ----------------------------------------------------------------------------------------
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
    except ValueError as exc:
        raise SignatureError(f"{path} is not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise SignatureError(f"{path} is not an Ed25519 public key")
    return key


@dataclass(frozen=True)
class TrustStore:
    """The public keys whose signatures are accepted, by key id."""

    keys: dict[str, Ed25519PublicKey]

    @staticmethod
    def default(extra: tuple[Path, ...] = ()) -> TrustStore:
        """Shipped reference keys + IDDS_TRUSTED_KEYS + `extra` public key files."""
        keys: dict[str, Ed25519PublicKey] = {}
        shipped = resources.files("idds.drugs") / "data" / "trusted"
        for entry in shipped.iterdir():
            if entry.name.endswith(".pub"):
                with resources.as_file(entry) as path:
                    key = load_public_key(path)
                    keys[key_id(key)] = key
        listed = os.environ.get(TRUSTED_KEYS_ENV, "")
        paths = [Path(p) for p in listed.split(os.pathsep) if p] + list(extra)
        for path in paths:
            key = load_public_key(path)
            keys[key_id(key)] = key
        return TrustStore(keys)

    @staticmethod
    def only(*paths: Path) -> TrustStore:
        keys = [load_public_key(path) for path in paths]
        return TrustStore({key_id(key): key for key in keys})


# sign / verify -------------------------------------------------------------------------------
def sign_file(path: Path, private_key_path: Path) -> Path:
    """Sign the canonical encoding of the TOML file at `path`; write and return FILE.sig."""
    key = load_private_key(private_key_path)
    payload = canonical_bytes(read_toml(path))
    record = {
        "algorithm": ALGORITHM,
        "key_id": key_id(key.public_key()),
        "signature": base64.b64encode(key.sign(payload)).decode("ascii"),
    }
    target = signature_path(path)
    target.write_text(json.dumps(record, indent=2) + "\n")
    return target


def verify_file(path: Path, trust: TrustStore) -> tuple[dict[str, Any], str]:
    """The parsed data and signing key id of a correctly signed file, else SignatureError."""
    data = read_toml(path)
    payload = canonical_bytes(data)
    sig_path = signature_path(path)
    try:
        record = json.loads(sig_path.read_text())
    except FileNotFoundError as exc:
        raise SignatureError(f"{path} is unsigned: no signature file {sig_path.name}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SignatureError(f"signature file {sig_path} is not valid JSON") from exc
    if not isinstance(record, dict) or record.get("algorithm") != ALGORITHM:
        raise SignatureError(f"signature file {sig_path} is not an {ALGORITHM} signature")
    signer = str(record.get("key_id", ""))
    public_key = trust.keys.get(signer)
    if public_key is None:
        raise SignatureError(
            f"{path} is signed by key {signer or '(none)'}, which is not in the trust store "
            f"(add its .pub with {TRUSTED_KEYS_ENV} or --trusted-key)"
        )
    try:
        signature = base64.b64decode(str(record.get("signature", "")), validate=True)
        public_key.verify(signature, payload)
    except (InvalidSignature, ValueError) as exc:
        raise SignatureError(
            f"{path} fails its signature check: it was changed after signing, or the "
            "signature is damaged"
        ) from exc
    return data, signer
