"""The emulator's state directory: everything that survives a kill -9.

| file | content, and when it is written |
|---|---|
| `emulator.json` | pump id, seed and the pump clock's calendar epoch: once, at first start |
| `pump.json` | the pump's image (`idds.pump.snapshot`, without the log key): after every |
| | command BEFORE its reply, and about once a wall second |
| `pairings.json` | paired devices and their keys (`FilePairingStore`, 0600): at pairing |
| `counters.json` | counter high-water marks (`FileCounterStore`): before a command acts |
| | and before a reply leaves |
| `security.jsonl`, `.1` | link security events, one JSON object a line, bounded in bytes |
| | (`idds.emulator.securitylog.SecurityLog`) |
| `port` | the TCP port of the running emulator, at start |
| `nearfield.json` | a pending near-field record from a device's wand (role, one-time |
| | secret; `idds.link.nearfield`), removed when taken |
| `lock` | flock held while an emulator runs on the directory |

The first four are sealed (`idds.emulator.sealed`: HMAC under the secure element's device key
with a generation the secure element only ever raises), so an edited, deleted or older copy
is refused: the emulator raises the critical memory error alarm and does not serve the link
(`MemoryFault`, exit status 2), instead of starting a fresh pump or honouring the edit. No
symbolic link is followed: one anywhere in the directory refuses the start, every read is
O_NOFOLLOW, and a rename replaces a link rather than writing through it.

Every rewrite is atomic and durable (`idds.link.atomic.write_atomic`: temp file, fsync, rename,
fsync the directory), so a crash leaves the old or the new file, never a mix.
"""

from __future__ import annotations

import fcntl
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from idds.emulator.sealed import SealedFiles
from idds.emulator.secure import MemoryFault, SecureElement
from idds.errors import IddsError
from idds.link import FileCounterStore, FilePairingStore, LinkError
from idds.link.atomic import dump_json, parse_json, write_atomic
from idds.pump import Pump, SnapshotError, restore, snapshot

#: The sealed files; any of them present means a pump was implanted in the directory.
SEALED = ("emulator.json", "pump.json", "pairings.json", "counters.json")


class StateDirError(IddsError):
    """The state directory cannot be used (busy, unreadable, corrupt)."""


@dataclass(frozen=True)
class Identity:
    """Who the emulated pump is: its link id and the seed it was implanted with; and the
    calendar moment of pump time 0 (local midnight of the implant day, with its UTC offset),
    so the pump's times read as dates (None in a directory made before clocks had one)."""

    pump_id: str
    seed: int
    clock_epoch: datetime | None = None


class StateDir:
    """One emulated pump's directory; `element` is its secure element (needed to read or
    write the sealed files)."""

    def __init__(self, path: Path, element: SecureElement | None = None) -> None:
        self.path = Path(path)
        self.element = element
        self._sealed = SealedFiles(element) if element is not None else None

    # -- paths ---------------------------------------------------------------------------------
    @property
    def snapshot_path(self) -> Path:
        return self.path / "pump.json"

    @property
    def identity_path(self) -> Path:
        return self.path / "emulator.json"

    @property
    def port_path(self) -> Path:
        return self.path / "port"

    @property
    def security_path(self) -> Path:
        return self.path / "security.jsonl"

    @property
    def sealed(self) -> SealedFiles:
        if self._sealed is None:
            raise StateDirError(f"{self.path}: no secure element given")
        return self._sealed

    # -- lock and checks -----------------------------------------------------------------------
    def lock(self) -> IO[bytes]:
        """Hold the directory's lock (released by the OS when the process dies)."""
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path / "lock", os.O_WRONLY | os.O_CREAT | os.O_APPEND
                         | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise MemoryFault(f"{self.path / 'lock'}: refused ({exc.strerror or exc}; a "
                              "symbolic link is never followed)") from None
        handle = os.fdopen(fd, "ab")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise StateDirError(f"another emulator is running on {self.path}") from None
        return handle

    def check_links(self) -> None:
        """Refuse a directory holding a symbolic link (none is ever followed)."""
        for entry in sorted(self.path.iterdir()):
            if entry.is_symlink():
                raise MemoryFault(f"{entry} is a symbolic link: refused (the state directory "
                                  "never follows one)")

    def implanted(self) -> bool:
        """Whether any sealed file is present (a pump was implanted here)."""
        return any(os.path.lexists(self.path / name) for name in SEALED)

    def open_element(self) -> bool:
        """Check the secure element against the directory; True if this is a first start (the
        slot is made then). A directory with sealed files and no secure element, or a
        secure element that has committed files the directory no longer has, is refused."""
        element = self.element
        if element is None:
            raise StateDirError(f"{self.path}: no secure element given")
        if not element.exists():
            if self.implanted():
                raise MemoryFault(f"{self.path} holds a pump's state but its secure element "
                                  f"{element.slot} has no record of it")
            element.create()
            return True
        committed = element.generations()
        if committed and not self.implanted():
            raise MemoryFault(f"{self.path} has lost every file of the pump its secure element "
                              f"holds (to implant a new pump here instead, remove "
                              f"{element.slot})")
        return not committed and not self.implanted()

    # -- identity and pump ---------------------------------------------------------------------
    def identity(self, seed: int, now: datetime) -> tuple[Identity, bool]:
        """(identity, new): read it, or make one at first start, `now` (the wall clock's local
        time, with its offset) setting the pump clock's calendar epoch."""
        try:
            value = parse_json(self.identity_path, self.sealed.read(self.identity_path))
        except LinkError as exc:
            raise StateDirError(str(exc)) from None
        if value is not None:
            try:
                epoch = value.get("clock_epoch")
                return Identity(str(value["pump_id"]), int(value["seed"]),
                                None if epoch is None else datetime.fromisoformat(epoch)), False
            except (KeyError, TypeError, ValueError):
                raise StateDirError(f"{self.identity_path}: not an emulator identity") from None
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        made = Identity(f"pump-{secrets.token_hex(4)}", seed, midnight)
        self.sealed.write(self.identity_path,
                          dump_json({"pump_id": made.pump_id, "seed": made.seed,
                                     "clock_epoch": midnight.isoformat()}))
        return made, True

    def load_pump(self) -> Pump | None:
        """The stored pump, or None before the first snapshot (its log verified under the
        secure element's log key)."""
        data = self.sealed.read(self.snapshot_path)
        if data is None:
            return None
        try:
            return restore(data, log_key=self.log_key)
        except SnapshotError as exc:
            raise MemoryFault(f"{self.snapshot_path}: {exc}") from None

    def save_pump(self, pump: Pump) -> None:
        """Store the pump's image durably (sealed, atomic replace + fsync), without its log
        key (the secure element holds it)."""
        self.sealed.write(self.snapshot_path, snapshot(pump, key=False))

    @property
    def log_key(self) -> bytes:
        """The pump's event-log chain key (from the secure element)."""
        if self.element is None:
            raise StateDirError(f"{self.path}: no secure element given")
        return self.element.log_key

    # -- link stores ---------------------------------------------------------------------------
    def pairings(self) -> FilePairingStore:
        return FilePairingStore(self.path / "pairings.json", self.sealed)

    def counters(self) -> FileCounterStore:
        return FileCounterStore(self.path / "counters.json", self.sealed)

    def write_port(self, port: int) -> None:
        write_atomic(self.port_path, f"{port}\n".encode(), mode=0o644)
