"""The device's own audit log: append-only JSON lines, hash-chained, fsync'd per entry.

Each line: {"seq", "time" (wall-clock ISO text given by the caller's clock), "kind", "details",
"prev", "hash"} with hash = SHA-256(prev + canonical JSON of [seq, time, kind, details]).
Kinds: "paired", "unpaired", "sent", "refused", "override", "warning", "advice" (advisory mode).
ref, security: the audit trail is append-only and tamper-evident; every refusal is logged on both
sides.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from idds.errors import IddsError

GENESIS = "0" * 64


class DeviceLogError(IddsError):
    """The device log cannot be read or does not verify."""


def _digest(prev: str, seq: int, time: str, kind: str, details: dict[str, Any]) -> str:
    body = json.dumps([seq, time, kind, details], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev + body).encode()).hexdigest()


@dataclass(frozen=True)
class DeviceLogCheck:
    """Result of verifying the device log."""

    ok: bool
    entries: int
    reason: str = ""


class DeviceLog:
    """Append-only log file. `clock` returns the time text to record (injected)."""

    def __init__(self, path: Path, clock: Callable[[], str]) -> None:
        self.path = Path(path)
        self.clock = clock

    def entries(self) -> list[dict[str, Any]]:
        """Every entry, oldest first."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        try:
            return [json.loads(line) for line in lines if line.strip()]
        except ValueError as exc:
            raise DeviceLogError(f"{self.path}: unreadable line ({exc})") from None

    def append(self, kind: str, **details: Any) -> dict[str, Any]:
        """Append one entry durably and return it."""
        entries = self.entries()
        prev = entries[-1]["hash"] if entries else GENESIS
        seq, time = len(entries), self.clock()
        clean = {k: v for k, v in details.items() if v is not None}
        entry = {"seq": seq, "time": time, "kind": kind, "details": clean, "prev": prev,
                 "hash": _digest(prev, seq, time, kind, clean)}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (json.dumps(entry, sort_keys=True) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        return entry

    def verify(self) -> DeviceLogCheck:
        """Recompute the chain."""
        prev = GENESIS
        entries = self.entries()
        for index, e in enumerate(entries):
            try:
                good = (e["seq"] == index and e["prev"] == prev
                        and e["hash"] == _digest(prev, index, e["time"], e["kind"], e["details"]))
            except (KeyError, TypeError):
                good = False
            if not good:
                return DeviceLogCheck(False, len(entries), f"entry {index} does not verify")
            prev = e["hash"]
        return DeviceLogCheck(True, len(entries))
