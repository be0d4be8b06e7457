"""Atomic, durable small-file writes: temp file, fsync, rename, fsync the directory.

After `write_atomic` returns, a crash (kill -9, power loss) leaves either the old or the new
content, never a mix, and the new content is on disk. The rename replaces a symbolic link at
`path` rather than writing through it, and reads never follow one (`read_nofollow`).
ref, security: "the counter high-water mark is stored before the command acts"; "fsync
before acknowledging".
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from idds.link.errors import ErrorCode, LinkError


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace `path` with `data` atomically and durably (owner-only permissions)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_json(path: Path, value: object) -> None:
    """`write_atomic` of sorted, indented JSON."""
    write_atomic(path, dump_json(value))


#: Largest state file read (bytes): a file swapped for something huge is refused, not read.
MAX_READ_BYTES = 64 * 1024 * 1024


def read_nofollow(path: Path) -> bytes | None:
    """The bytes of `path`, or None if it does not exist. A symbolic link is never followed
    (O_NOFOLLOW) and anything but a regular file (a FIFO, a device) is refused: `LinkError`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise LinkError(ErrorCode.MALFORMED_PAYLOAD,
                        f"{path}: refused ({exc.strerror or exc}; a symbolic link is never "
                        "followed)") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_READ_BYTES:
            raise LinkError(ErrorCode.MALFORMED_PAYLOAD,
                            f"{path}: refused (not a regular file of at most {MAX_READ_BYTES} "
                            "bytes)")
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def parse_json(path: Path, data: bytes | None) -> Any:
    """The JSON value of `data` read from `path` (None stays None); unreadable -> `LinkError`."""
    if data is None:
        return None
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LinkError(ErrorCode.MALFORMED_PAYLOAD, f"{path}: not valid JSON ({exc})") from None


def read_json(path: Path) -> Any:
    """The JSON in `path`, or None if the file does not exist; unreadable -> `LinkError`.
    A symbolic link is not followed (`read_nofollow`)."""
    return parse_json(path, read_nofollow(path))


def dump_json(value: object) -> bytes:
    """Sorted, indented JSON bytes (what `write_json` writes)."""
    return json.dumps(value, sort_keys=True, indent=1).encode() + b"\n"
