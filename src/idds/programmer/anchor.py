"""The programmer's anchor of each pump's event log: the last (length, head) it saw.

The pump chains its log under a key only the pump holds (`idds.pump.log`), so a programmer
cannot recompute the chain; what it can do is remember where the log stood. After every
interrogation and log download it keeps, per pump, the number of entries and the hash of the
last one (`<pump id>.anchor.json` in the device directory, atomic, 0600). Next time:

| the pump now shows | finding |
|---|---|
| fewer entries than anchored | truncated or rolled back |
| as many, another head | rewritten |
| more, and entry `length - 1` has another hash | rewritten or rolled back |
| more, entry `length - 1` is the anchored head | fine: the anchor moves on |

A log is append-only, so a pump whose whole state (secure element included) was put back to
an older copy shows one of the first three, whatever it logged since. A finding leaves the
anchor where it was (every later look reports it again, and the device log records each);
after investigating, deleting the anchor file accepts the pump's log as it is now.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from idds.link.atomic import read_json, write_json


@dataclass(frozen=True)
class Anchor:
    """Where a pump's log stood: `length` entries, the last one's hash `head`."""

    length: int
    head: str


class AnchorStore:
    """Anchors of every pump this device has seen, one file each in `directory`."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def path(self, pump_id: str) -> Path:
        return self.directory / f"{pump_id}.anchor.json"

    def get(self, pump_id: str) -> Anchor | None:
        """The anchor, or None before the first look (an unreadable file counts as none
        only if absent: a malformed one is reported by `check`)."""
        value = read_json(self.path(pump_id))
        if value is None:
            return None
        if (not isinstance(value, dict) or type(value.get("length")) is not int
                or not isinstance(value.get("head"), str)):
            return Anchor(-1, "")
        return Anchor(int(value["length"]), str(value["head"]))

    def put(self, pump_id: str, anchor: Anchor) -> None:
        write_json(self.path(pump_id), {"length": anchor.length, "head": anchor.head})


def finding(anchor: Anchor | None, length: int, head: str, at_anchor: str | None) -> str | None:
    """What is wrong with a log of `length` entries ending in `head`, whose entry
    `anchor.length - 1` has the hash `at_anchor` (None: not shown), against `anchor`;
    None if nothing is."""
    if anchor is None or anchor.length == 0:
        return None
    if anchor.length < 0:
        return "this programmer's anchor of the pump's log is unreadable"
    saw = f"this programmer saw {anchor.length} entries ending in {anchor.head[:12]}"
    if length < anchor.length:
        return (f"the pump's log is TRUNCATED or ROLLED BACK: it has {length} entries, {saw}")
    if length == anchor.length and head != anchor.head:
        return f"the pump's log was REWRITTEN or ROLLED BACK: its last entry is not the one {saw}"
    if length > anchor.length and at_anchor != anchor.head:
        return (f"the pump's log was REWRITTEN or ROLLED BACK: entry {anchor.length - 1} is "
                f"not the one {saw}")
    return None
