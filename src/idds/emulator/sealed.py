"""Sealed state files: what the emulator writes in its state directory is authenticated by
its secure element (`idds.emulator.secure`) and cannot be rolled back.

A sealed file is one header line, then the content exactly as before (JSON, readable):

    {"file": "counters.json", "generation": 7, "mac": "<64 hex>", "seal": "idds-state-v1"}

`mac` = HMAC-SHA-256(seal key, "idds-state-v1\\0" | file name | "\\0" | generation (8 bytes,
big-endian) | content), the seal key derived from the device key. The file name is covered,
so one file cannot stand in for another; the generation, so an older copy is recognised.

Writing: seal with the next generation, write the file atomically (fsync), THEN raise the
secure element's generation. Reading, with g the secure element's generation of that file:

| file | outcome |
|---|---|
| absent, g = 0 | never written: None (first start) |
| absent, g > 0 | refused: the file was deleted |
| MAC fails, or no header | refused: edited, or not this pump's |
| generation < g | refused: an older copy put back (rollback) |
| generation = g | read |
| generation = g + 1 | read, and g raised: the crash between the two writes |
| generation > g + 1 | refused |

A refusal is a `MemoryFault` (critical memory error): the pump does not start from it. The
one older state that can come back is the file of a write the crash interrupted, whose
command never acted and whose reply never left (the counters are stored before either).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

from idds.emulator.secure import MemoryFault, SecureElement
from idds.link import LinkError
from idds.link.atomic import read_nofollow, write_atomic

SEAL = "idds-state-v1"


def _mac(key: bytes, name: str, generation: int, content: bytes) -> str:
    message = (SEAL.encode() + b"\0" + name.encode() + b"\0" + generation.to_bytes(8, "big")
               + content)
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def seal(key: bytes, name: str, generation: int, content: bytes) -> bytes:
    """The bytes of a sealed file."""
    header = {"file": name, "generation": generation, "mac": _mac(key, name, generation, content),
              "seal": SEAL}
    return json.dumps(header, sort_keys=True).encode() + b"\n" + content


def unseal(key: bytes, name: str, raw: bytes) -> tuple[int, bytes]:
    """(generation, content) of a sealed file; `MemoryFault` if it is not authentic."""
    line, _, content = raw.partition(b"\n")
    try:
        header = json.loads(line)
        generation, mac = header["generation"], header["mac"]
        ok = (header["seal"] == SEAL and header["file"] == name and type(generation) is int
              and generation > 0 and isinstance(mac, str))
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok or not hmac.compare_digest(mac, _mac(key, name, generation, content)):
        raise MemoryFault(f"{name} fails its integrity check (edited, or not this pump's)")
    return generation, content


class SealedFiles:
    """The `idds.link.storage.Sealer` of one pump: files sealed under its secure element."""

    def __init__(self, element: SecureElement) -> None:
        self.element = element
        self._current: dict[str, int] = {}

    def read(self, path: Path) -> bytes | None:
        """The verified content, or None if never written; `MemoryFault` otherwise."""
        name = path.name
        committed = self.element.generation(name)
        try:
            raw = read_nofollow(path)
        except LinkError as exc:
            raise MemoryFault(str(exc)) from None
        if raw is None:
            if committed:
                raise MemoryFault(f"{name} is missing (the secure element holds generation "
                                  f"{committed} of it)")
            self._current[name] = 0
            return None
        generation, content = unseal(self.element.seal_key, name, raw)
        if generation < committed:
            raise MemoryFault(f"{name} is an older copy (generation {generation}, the secure "
                              f"element holds {committed}): rollback refused")
        if generation > committed + 1:
            raise MemoryFault(f"{name} has generation {generation}, beyond the secure "
                              f"element's {committed}")
        self.element.commit(name, generation)
        self._current[name] = generation
        return content

    def write(self, path: Path, data: bytes) -> None:
        """Seal with the next generation, write durably, then commit the generation."""
        name = path.name
        if name not in self._current:
            self.read(path)
        generation = self._current[name] + 1
        write_atomic(path, seal(self.element.seal_key, name, generation, data))
        self.element.commit(name, generation)
        self._current[name] = generation
