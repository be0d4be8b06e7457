"""The pump's secure element, modelled as a directory the state-file attacker does not have.

A real implant keeps its device key and its anti-rollback counters in a secure element or in
the microcontroller's protected flash with a monotonic counter (one-time-programmable fuses or
a replay-protected memory block, RPMB): memory that the firmware alone can write and that no
backup, file copy or programmer can restore to an older value (ref, security: integrity of
stored state). The emulator stands for it with a directory (`idds pump serve
--secure-element DIR`, default `~/.idds/secure-element`) that someone with the pump's state
directory is assumed not to have. One slot per state directory (named after the SHA-256 of its
resolved path), holding:

| file | content |
|---|---|
| `key` | the 32-byte device key (`secrets`, made at implant), 0600 |
| `generations.json` | per state file, the generation of its last write (only ever raised) |
| `alarms.jsonl` | memory-error alarms raised when the stored state was refused |
| `state.txt` | the state directory's path (for people) |

Keys derived from the device key with HKDF-SHA-256: the seal key (`idds.emulator.sealed`)
and the pump's event-log chain key (`idds.pump.log`); the device key itself is never used
directly and never leaves the slot. Every write is atomic and durable, and the key is written
before any generation, so a crash at any point leaves a slot that starts: with no key and no
generation it is made again; a generation one behind its file is the crash between writing
the file and raising the generation (the sealed-file rule allows exactly that).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from idds.errors import IddsError
from idds.link import LinkError
from idds.link.atomic import dump_json, parse_json, read_nofollow, write_atomic

DEFAULT_SECURE_ELEMENT = Path("~/.idds/secure-element")
KEY_BYTES = 32


class MemoryFault(IddsError):
    """The pump's stored state is missing, altered or older than the secure element allows:
    a critical memory error. The pump does not serve the link."""


def _derive(key: bytes, label: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=f"idds-secure-element-v1 {label}".encode()).derive(key)


class SecureElement:
    """The secure element slot of the pump whose state directory is `state`, under `root`."""

    def __init__(self, root: Path, state: Path) -> None:
        resolved = Path(state).expanduser().resolve()
        name = hashlib.sha256(str(resolved).encode()).hexdigest()[:16]
        self.root = Path(root).expanduser()
        self.slot = self.root / name
        self.state = resolved
        self._key: bytes | None = None
        self._seal_key: bytes | None = None
        self._generations: dict[str, int] | None = None

    # -- life cycle ----------------------------------------------------------------------------
    def exists(self) -> bool:
        """Whether this pump's slot holds a device key."""
        return self._read("key") is not None

    def create(self) -> None:
        """Make the slot at implant: a fresh device key, no generation yet."""
        self.slot.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(self.slot / "state.txt", f"{self.state}\n".encode())
        write_atomic(self.slot / "key", secrets.token_bytes(KEY_BYTES))
        self._key, self._seal_key, self._generations = None, None, None

    def remove(self) -> None:
        """Delete the slot (a start that was refused before anything was acknowledged)."""
        shutil.rmtree(self.slot, ignore_errors=True)

    # -- keys ----------------------------------------------------------------------------------
    @property
    def device_key(self) -> bytes:
        if self._key is None:
            data = self._read("key")
            if data is None or len(data) != KEY_BYTES:
                raise MemoryFault(f"the secure element {self.slot} has no device key")
            self._key = data
        return self._key

    @property
    def seal_key(self) -> bytes:
        """HMAC key of the sealed state files."""
        if self._seal_key is None:
            self._seal_key = _derive(self.device_key, "state seal")
        return self._seal_key

    @property
    def log_key(self) -> bytes:
        """Chain key of the pump's event log."""
        return _derive(self.device_key, "event log chain")

    # -- generations ---------------------------------------------------------------------------
    def generations(self) -> dict[str, int]:
        """Every state file's committed generation (0: never written)."""
        if self._generations is None:
            value = parse_json(self.slot / "generations.json", self._read("generations.json"))
            value = {} if value is None else value
            if not isinstance(value, dict) or not all(
                    isinstance(k, str) and type(v) is int and v > 0 for k, v in value.items()):
                raise MemoryFault(f"the secure element {self.slot} has unreadable generations")
            self._generations = dict(value)
        return dict(self._generations)

    def generation(self, name: str) -> int:
        return self.generations().get(name, 0)

    def commit(self, name: str, generation: int) -> None:
        """Raise the generation of `name` (never lowers it); durable on return."""
        current = self.generations()
        if generation <= current.get(name, 0):
            return
        current[name] = generation
        write_atomic(self.slot / "generations.json", dump_json(current))
        self._generations = current

    # -- alarms --------------------------------------------------------------------------------
    def record_alarm(self, at: float, alarm: str, reason: str) -> None:
        """Append a memory-error alarm to the slot's record (fsync)."""
        self.slot.mkdir(parents=True, exist_ok=True, mode=0o700)
        line = json.dumps({"at": at, "alarm": alarm, "reason": reason}, sort_keys=True)
        fd = os.open(self.slot / "alarms.jsonl",
                     os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def _read(self, name: str) -> bytes | None:
        try:
            return read_nofollow(self.slot / name)
        except LinkError as exc:
            raise MemoryFault(str(exc)) from None
