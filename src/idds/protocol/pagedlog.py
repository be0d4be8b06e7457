"""The pump's event log over the link: pages of entries, and verification on arrival.

A link frame carries at most 2048 bytes (docs/protocol.md), so the log travels in pages:
each page is zlib-compressed compact JSON, base64 text. An entry travels as
[seq, "num/den" time, kind, [[key, value], ...], hash], each value the entry's typed JSON value
as it is (text, whole numbers, booleans, null, lists, objects: JSON carries them exactly, so
the hashes recompute); the previous hash is not sent, it is
the previous entry's hash (genesis for entry 0), so the receiver rebuilds the chain and
`idds.pump.verify_chain` checks every hash, the sequence and the head.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from idds.errors import IddsError
from idds.pump import EventKind, LogEntry
from idds.pump.log import GENESIS

#: Largest page text (base64 characters): leaves room for the reply envelope in 2048 bytes.
MAX_PAGE_CHARS = 1500


class LogPageError(IddsError):
    """A log page that cannot be decoded."""


def _compact(entry: LogEntry) -> list[object]:
    time = f"{entry.time.numerator}/{entry.time.denominator}"
    return [entry.seq, time, entry.kind.value, [list(p) for p in entry.details], entry.hash]


def encode_page(entries: Sequence[LogEntry], start: int) -> tuple[str, int]:
    """(page text, number of entries in it) for entries from `start`, fitting MAX_PAGE_CHARS."""
    count = min(64, len(entries) - start)
    while True:
        chunk = [_compact(e) for e in entries[start:start + count]]
        raw = json.dumps(chunk, separators=(",", ":")).encode()
        text = base64.b64encode(zlib.compress(raw, 9)).decode("ascii")
        if len(text) <= MAX_PAGE_CHARS or count <= 1:
            return text, count
        count = max(1, count // 2)


def decode_page(text: str, previous_hash: str) -> list[LogEntry]:
    """Entries from a page; `previous_hash` is the hash of the entry before the page."""
    try:
        raw = zlib.decompress(base64.b64decode(text.encode("ascii"), validate=True))
        chunk: Any = json.loads(raw)
        entries = []
        prev = previous_hash
        for seq, time, kind, details, digest in chunk:
            pairs = tuple((_key(k), v) for k, v in details)
            entries.append(LogEntry(int(seq), Fraction(time), EventKind(kind), pairs, prev,
                                    str(digest)))
            prev = str(digest)
        return entries
    except (binascii.Error, zlib.error, ValueError, TypeError, UnicodeError) as exc:
        raise LogPageError(f"the pump's log page could not be read: {exc}") from None


def _key(key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"detail key {key!r} is not text")
    return key


__all__ = ["GENESIS", "MAX_PAGE_CHARS", "LogPageError", "decode_page", "encode_page"]
