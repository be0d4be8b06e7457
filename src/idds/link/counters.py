"""Counter high-water marks, stored durably through an injected `CounterStore`.

The pump keeps, per pairing, the highest counter it accepted from the device and the last
counter it used for its own replies. It stores the receive mark BEFORE it hands a command to
the handler, and the send counter BEFORE a reply leaves (ref, security: "the counter high-water
mark is stored before the command acts"). A pump restored from the store after a crash rejects
any frame from before the crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from idds.link.aead import Direction
from idds.link.atomic import dump_json, parse_json
from idds.link.errors import ErrorCode, LinkError
from idds.link.storage import PlainFiles, Sealer


class CounterStore(Protocol):
    """Durable counters keyed by (key id, direction). `put` returns only once it is durable."""

    def get(self, key_id: bytes, direction: Direction) -> int:
        """The stored counter, 0 if none."""

    def put(self, key_id: bytes, direction: Direction, counter: int) -> None:
        """Store `counter` durably."""

    def forget(self, key_id: bytes) -> None:
        """Drop both counters of a pairing (unpaired)."""


def _slot(key_id: bytes, direction: Direction) -> str:
    return f"{key_id.hex()}:{direction.name.lower()}"


@dataclass
class MemoryCounterStore:
    """Counters in a dict: for tests and simulations that do not model crashes."""

    counters: dict[str, int] = field(default_factory=dict)

    def get(self, key_id: bytes, direction: Direction) -> int:
        """The stored counter, 0 if none."""
        return self.counters.get(_slot(key_id, direction), 0)

    def put(self, key_id: bytes, direction: Direction, counter: int) -> None:
        """Store `counter`."""
        self.counters[_slot(key_id, direction)] = counter

    def forget(self, key_id: bytes) -> None:
        """Drop both counters of a pairing."""
        for direction in Direction:
            self.counters.pop(_slot(key_id, direction), None)


class FileCounterStore:
    """Counters in one JSON file, rewritten atomically with fsync on every `put`, through
    `sealer` (default `PlainFiles`; the emulator's seals them under its secure element)."""

    def __init__(self, path: Path, sealer: Sealer | None = None) -> None:
        self.path = Path(path)
        self._io: Sealer = sealer or PlainFiles()
        loaded = parse_json(self.path, self._io.read(self.path))
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict) or not all(
            isinstance(k, str) and type(v) is int and v >= 0 for k, v in loaded.items()
        ):
            raise LinkError(ErrorCode.MALFORMED_PAYLOAD, f"{self.path}: not a counter file")
        self._counters: dict[str, int] = loaded

    def get(self, key_id: bytes, direction: Direction) -> int:
        """The stored counter, 0 if none."""
        return self._counters.get(_slot(key_id, direction), 0)

    def put(self, key_id: bytes, direction: Direction, counter: int) -> None:
        """Store `counter`; durable on return."""
        updated = {**self._counters, _slot(key_id, direction): counter}
        self._io.write(self.path, dump_json(updated))
        self._counters = updated

    def forget(self, key_id: bytes) -> None:
        """Drop both counters of a pairing; durable on return."""
        drop = {_slot(key_id, d) for d in Direction}
        updated = {k: v for k, v in self._counters.items() if k not in drop}
        self._io.write(self.path, dump_json(updated))
        self._counters = updated
