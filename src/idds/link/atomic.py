"""Atomic, durable small-file writes: temp file, fsync, rename, fsync the directory.

After `write_atomic` returns, a crash (kill -9, power loss) leaves either the old or the new
content, never a mix, and the new content is on disk. ref, security: "the counter high-water mark
is stored before the command acts"; "fsync before acknowledging".
"""

from __future__ import annotations

import contextlib
import json
import os
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
    write_atomic(path, json.dumps(value, sort_keys=True, indent=1).encode() + b"\n")


def read_json(path: Path) -> Any:
    """The JSON in `path`, or None if the file does not exist; unreadable -> `LinkError`."""
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        return json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LinkError(ErrorCode.MALFORMED_PAYLOAD, f"{path}: not valid JSON ({exc})") from None
