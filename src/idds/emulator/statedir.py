"""The emulator's state directory: everything that survives a kill -9.

- `emulator.json`: pump id and seed, made at first start (once, atomically);
- `pump.json`: the pump's non-volatile image (`idds.pump.snapshot`: settings, state,
  hardware, random generator, hash-chained event log and its head), written after every
  command BEFORE its reply, and about once a wall second;
- `pairings.json`: paired devices and their keys (`FilePairingStore`, 0600), at pairing;
- `counters.json`: counter high-water marks (`FileCounterStore`), before a command acts and
  before a reply leaves;
- `security.jsonl` (and `security.jsonl.1`): link security events, one JSON object a line,
  bounded in bytes (`idds.emulator.securitylog.SecurityLog`);
- `port`: the TCP port of the running emulator, at start;
- `nearfield.json`: a pending near-field record written by a device's wand (role, one-time
  secret; `idds.link.nearfield`), removed when taken;
- `lock`: flock held while an emulator runs on the directory.

Every rewrite is atomic and durable (`idds.link.atomic.write_atomic`: temp file, fsync, rename,
fsync the directory), so a crash leaves the old or the new file, never a mix.
"""

from __future__ import annotations

import fcntl
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from idds.errors import IddsError
from idds.link import FileCounterStore, FilePairingStore, LinkError
from idds.link.atomic import read_json, write_atomic, write_json
from idds.pump import Pump, SnapshotError, restore, snapshot


class StateDirError(IddsError):
    """The state directory cannot be used (busy, unreadable, corrupt)."""


@dataclass(frozen=True)
class Identity:
    """Who the emulated pump is: its link id and the seed it was implanted with."""

    pump_id: str
    seed: int


class StateDir:
    """One emulated pump's directory."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

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

    # -- lock ----------------------------------------------------------------------------------
    def lock(self) -> IO[bytes]:
        """Hold the directory's lock (released by the OS when the process dies)."""
        self.path.mkdir(parents=True, exist_ok=True)
        handle = open(self.path / "lock", "ab")  # noqa: SIM115 - held for the process lifetime
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise StateDirError(f"another emulator is running on {self.path}") from None
        return handle

    # -- identity and pump ---------------------------------------------------------------------
    def identity(self, seed: int) -> tuple[Identity, bool]:
        """(identity, new): read it, or make one at first start."""
        try:
            value = read_json(self.identity_path)
        except LinkError as exc:
            raise StateDirError(str(exc)) from None
        if value is not None:
            try:
                return Identity(str(value["pump_id"]), int(value["seed"])), False
            except (KeyError, TypeError, ValueError):
                raise StateDirError(f"{self.identity_path}: not an emulator identity") from None
        made = Identity(f"pump-{secrets.token_hex(4)}", seed)
        write_json(self.identity_path, {"pump_id": made.pump_id, "seed": made.seed})
        return made, True

    def load_pump(self) -> Pump | None:
        """The stored pump, or None before the first snapshot."""
        try:
            data = self.snapshot_path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            return restore(data)
        except SnapshotError as exc:
            raise StateDirError(f"{self.snapshot_path}: {exc}") from None

    def save_pump(self, pump: Pump) -> None:
        """Store the pump's image durably (atomic replace + fsync)."""
        write_atomic(self.snapshot_path, snapshot(pump))

    # -- link stores ---------------------------------------------------------------------------
    def pairings(self) -> FilePairingStore:
        return FilePairingStore(self.path / "pairings.json")

    def counters(self) -> FileCounterStore:
        return FileCounterStore(self.path / "counters.json")

    def write_port(self, port: int) -> None:
        write_atomic(self.port_path, f"{port}\n".encode(), mode=0o644)
