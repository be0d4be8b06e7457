"""Ed25519 signatures over the canonical encoding of a data file (the drug library).

The signature covers the meaning of the file, not its layout: the TOML is parsed and encoded
as canonical JSON (sorted keys, no spaces, UTF-8), so a hospital may re-indent or comment its
library without re-signing, while any change to a value breaks the signature. Floats are not
allowed in signed data (their text form is not canonical); quantities are strings with units.

The signature lives beside the file, in FILE.sig (JSON: algorithm, key_id, signature). A file
is trusted only if the key that signed it is in the trust store (`idds.drugs.truststore`: the
project's reference keys shipped in `idds/drugs/data/trusted/`, plus the keys listed in the
site trust-store file the site administrator controls; no environment variable extends it).
No private key is shipped or hard-coded (ref, security: unsigned drug libraries were pushed
to real infusion pumps).
"""

from __future__ import annotations

import base64
import json
import tomllib
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature

from idds.drugs.keys import (
    SignatureError,
    generate_keypair,
    key_id,
    load_private_key,
    load_public_key,
)
from idds.drugs.truststore import TrustStore

__all__ = [
    "ALGORITHM",
    "SignatureError",
    "TrustStore",
    "canonical_bytes",
    "generate_keypair",
    "key_id",
    "load_private_key",
    "load_public_key",
    "read_toml",
    "sign_file",
    "signature_path",
    "verify_file",
]

ALGORITHM = "Ed25519"


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
            f"{path} is signed by key {signer[:16] or '(none)'}, which is not in the trust "
            f"store ({trust.describe()}); a site administrator lists a site key in the site "
            "trust-store file (--trust-store FILE, default /etc/idds/trust-store.toml)"
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
