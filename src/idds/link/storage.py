"""How a link store reads and writes its file: the `Sealer` the pump side injects.

The link layer does not know where its files live or how they are protected. A file store
(`FileCounterStore`, `FilePairingStore`) hands its bytes to a `Sealer`: `PlainFiles` (the
default: atomic, durable writes, no symbolic link followed) or, in the emulator, the secure
element's sealed files (`idds.emulator.sealed`: HMAC under the device key with a monotonic
generation, so an edited, deleted or older file is refused rather than read).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from idds.link.atomic import read_nofollow, write_atomic


class Sealer(Protocol):
    """Reads and writes one store's file. `write` returns only once the data is durable."""

    def read(self, path: Path) -> bytes | None:
        """The file's verified content, or None if it was never written; a file that is
        missing, altered or older than the last one written raises an `IddsError`."""

    def write(self, path: Path, data: bytes) -> None:
        """Replace the file's content durably."""


class PlainFiles:
    """Files as they are: `write_atomic` (owner-only, fsync) and `read_nofollow`."""

    def read(self, path: Path) -> bytes | None:
        """The bytes, or None if the file does not exist."""
        return read_nofollow(path)

    def write(self, path: Path, data: bytes) -> None:
        """Atomic, durable replace."""
        write_atomic(path, data)
