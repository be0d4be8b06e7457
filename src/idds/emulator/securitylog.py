"""The emulator's security log: link security events as JSON lines, bounded in bytes.

`SecurityLog` appends one JSON object a line to `security.jsonl` (0600, fsync per line). It is
bounded (issue 13: the log must not grow without limit under attack): when the current file
would pass half of `max_bytes` it is renamed to `security.jsonl.1` (replacing the older one)
and a new file is started, so the two together never hold more than `max_bytes` (default
1 MiB). What reaches it is already bounded in rate: the emulator wraps it in
`idds.link.AggregatingSink`, so input from unauthenticated senders becomes at most one
summary line a minute, and the other events need physical presence or a paired key.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from idds.link import SecurityEvent

DEFAULT_MAX_BYTES = 1 << 20
#: The longest line kept (bytes); a longer detail is cut so one line can never pass the cap.
MAX_LINE_BYTES = 4096


class SecurityLog:
    """Append-only JSON lines of link security events, fsync'd per event, rotated by size."""

    def __init__(self, path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes < 2 * MAX_LINE_BYTES:
            raise ValueError(f"max_bytes must be at least {2 * MAX_LINE_BYTES}")
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.count = 0
        self.rotations = 0

    @property
    def older_path(self) -> Path:
        """Where the previous half of the log is kept after a rotation."""
        return self.path.with_name(self.path.name + ".1")

    def record(self, event: SecurityEvent) -> None:
        """Append one event (rotating first if it would pass half the cap)."""
        line = self._line(event)
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            size = 0
        if size and size + len(line) > self.max_bytes // 2:
            os.replace(self.path, self.older_path)
            self.rotations += 1
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        self.count += 1

    @staticmethod
    def _line(event: SecurityEvent) -> bytes:
        record = {"time": event.time, "peer": event.peer, "kind": event.kind.value,
                  "code": event.code.name, "detail": event.detail}
        line = (json.dumps(record, sort_keys=True) + "\n").encode()
        if len(line) > MAX_LINE_BYTES:
            cut = {**record, "detail": event.detail[: MAX_LINE_BYTES // 2] + "..."}
            line = (json.dumps(cut, sort_keys=True) + "\n").encode()
        return line
