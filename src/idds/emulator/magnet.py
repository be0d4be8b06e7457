"""Physical presence for the emulator: the magnet held over the pump, as a file in its state
directory.

`idds pump magnet --state DIR --role R` is a local action on the pump's own directory, which
stands for physical access to the implant (ref, security: pairing needs a physical-presence
step). It writes `DIR/magnet.json` = {"role": "clinician" | "patient", "at": wall seconds}; the
running emulator checks for it every tick (0.1 s), removes it and opens the link's pairing
window for that role (60 s, one device). A request older than `MAX_AGE_S` is ignored, so a
stale file cannot open a window later. Nothing reachable over the network can do this.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from idds.errors import IddsError
from idds.link import Role
from idds.link.atomic import write_atomic

#: A presence request is honoured only this many wall seconds after it was made.
MAX_AGE_S = 10.0
FILE_NAME = "magnet.json"


class MagnetError(IddsError):
    """A magnet request that cannot be made."""


def parse_role(text: str) -> Role:
    """'clinician' or 'patient' -> Role."""
    try:
        return Role[text.strip().upper()]
    except KeyError:
        raise MagnetError(f"role {text!r}: use clinician or patient") from None


def request_presence(state: Path, role: Role, now: float) -> Path:
    """Write the presence request (wall-clock `now`, seconds); returns its path."""
    path = Path(state) / FILE_NAME
    data = json.dumps({"role": role.name.lower(), "at": now}).encode()
    write_atomic(path, data)
    return path


def take_presence(state: Path, now: float) -> Role | None:
    """The role of a fresh pending request (removed once read), else None."""
    path = Path(state) / FILE_NAME
    try:
        value = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except ValueError:
        value = None
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    if not isinstance(value, dict):
        return None
    at, role = value.get("at"), value.get("role")
    if not isinstance(at, int | float) or not 0 <= now - at <= MAX_AGE_S:
        return None
    try:
        return parse_role(str(role))
    except MagnetError:
        return None
