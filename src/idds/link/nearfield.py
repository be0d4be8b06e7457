"""The near-field channel of the emulator: the programmer's wand (or the remote) held over the
pump, as a file the device writes into the pump's state directory.

A real wand reaches the implant only from a few centimetres; an attacker on the radio does not
have it (ref, security: pairing needs a physical-presence step). In the emulator, write access
to the pump's state directory stands for that: `idds program pair --wand DIR` and
`idds remote pair --wand DIR` write `DIR/nearfield.json` = {"role": "clinician" | "patient",
"at": wall seconds, "secret": 32 hex digits (16 bytes from `secrets`)}. The running emulator
takes it every tick (0.1 s), removes it, and opens the link's pairing window for that role and
that one-time secret (`PumpEndpoint.presence`). The device then pairs over the radio with
SPAKE2 keyed by the same secret (docs/protocol.md, "Pairing"). A record older than `MAX_AGE_S`
or malformed is removed and ignored, so a stale file cannot open a window later.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from idds.errors import IddsError
from idds.link.atomic import write_atomic
from idds.link.keys import SECRET_SIZE
from idds.link.roles import Role

#: A near-field record is honoured only this many wall seconds after it was written.
MAX_AGE_S = 10.0
FILE_NAME = "nearfield.json"


class NearFieldError(IddsError):
    """A near-field request that cannot be made."""


@dataclass(frozen=True)
class NearField:
    """One near-field event: the role to pair and the one-time secret (never shown)."""

    role: Role
    secret: bytes = field(repr=False)


def parse_role(text: str) -> Role:
    """'clinician' or 'patient' -> Role."""
    try:
        return Role[text.strip().upper()]
    except KeyError:
        raise NearFieldError(f"role {text!r}: use clinician or patient") from None


def new_secret() -> bytes:
    """16 random bytes from the operating system (`secrets`): key material."""
    return secrets.token_bytes(SECRET_SIZE)


def write_wand(state: Path, role: Role, secret: bytes, now: float) -> Path:
    """The device side: put the wand over the pump (write the record, 0600); its path."""
    if len(secret) != SECRET_SIZE:
        raise ValueError(f"the near-field secret is {SECRET_SIZE} bytes")
    path = Path(state) / FILE_NAME
    data = json.dumps({"role": role.name.lower(), "at": now, "secret": secret.hex()}).encode()
    write_atomic(path, data)
    return path


def take(state: Path, now: float) -> NearField | None:
    """The pump side: a fresh pending record (removed once read), else None."""
    path = Path(state) / FILE_NAME
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)  # a symlink is not followed
    except FileNotFoundError:
        return None
    except OSError:
        fd = None
    raw = b""
    if fd is not None:
        with os.fdopen(fd, "rb") as handle:
            raw = handle.read(4096)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    try:
        value = json.loads(raw)
        at, role, secret = value["at"], parse_role(str(value["role"])), value["secret"]
        key = bytes.fromhex(secret) if isinstance(secret, str) else b""
    except (ValueError, KeyError, TypeError, NearFieldError):
        return None
    if isinstance(at, bool) or not isinstance(at, int | float) or not 0 <= now - at <= MAX_AGE_S:
        return None
    return NearField(role, key) if len(key) == SECRET_SIZE else None
