"""Anti-rollback for the drug library: a library's version never goes back.

A correctly signed but older library (an earlier hospital policy, or the reference library
before a limit was lowered) still verifies, so the signature alone cannot stop someone who
kept an old copy from putting it back. Each library names its version in `[library] version`
as dotted whole numbers ("2026.11.29"), compared number by number. The newest version accepted
for each library name is recorded where the library is used:

- the CLI (calculators, `library show`, the programmer): `~/.idds/library-version.json`, the
  user's IDDS directory, next to the programmer's own state (`VersionRecord.for_user`);
- a long-running holder (`LibraryHolder`, e.g. in a pump): the library in force is the
  record, so a replacement older than it is refused.

A library older than the record is refused with one line (`RollbackError`) and the record is
not changed; an equal version is accepted (re-reading the same library); a newer one is
accepted and recorded (written atomically, mode 0600). A damaged record refuses every library
until it is repaired: failing safe, not starting fresh. The record protects against an old
library file put back, not against someone who can also delete the user's IDDS directory; the
site administrator's copy of the library and its trust store remain the root of trust.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from idds.errors import IddsError

#: A library version: 1 to 6 dotted whole numbers of at most 9 ASCII digits each.
VERSION = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9}){0,5}")
RECORD_FORMAT = 1


class RollbackError(IddsError):
    """A library older than the newest one accepted, or an unusable version record."""


def parse_version(text: str) -> tuple[int, ...]:
    """"2026.11.29" -> (2026, 11, 29); a RollbackError for anything else."""
    if not isinstance(text, str) or not VERSION.fullmatch(text):
        raise RollbackError(f"library version {str(text)[:24]!r} is not dotted whole numbers "
                            "(like 2026.11.29)")
    return tuple(int(part) for part in text.split("."))


@dataclass(frozen=True)
class VersionRecord:
    """The newest library version accepted, per library name, in a small JSON file."""

    path: Path

    @staticmethod
    def for_user() -> VersionRecord:
        """The CLI's record: ~/.idds/library-version.json."""
        return VersionRecord(Path.home() / ".idds" / "library-version.json")

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RollbackError(f"the library version record {self.path} is unreadable "
                                f"({type(exc).__name__}): every library is refused until it "
                                "is repaired") from None
        libraries = raw.get("libraries") if isinstance(raw, dict) else None
        if (not isinstance(raw, dict) or raw.get("format") != RECORD_FORMAT
                or not isinstance(libraries, dict)
                or not all(isinstance(v, dict) and isinstance(v.get("version"), str)
                           for v in libraries.values())):
            raise RollbackError(f"the library version record {self.path} is damaged: every "
                                "library is refused until it is repaired")
        return libraries

    def newest(self, name: str) -> str | None:
        """The newest version accepted for the library `name`, if any."""
        entry = self._read().get(name)
        return None if entry is None else entry["version"]

    def admit(self, name: str, version: str, signer: str) -> None:
        """Refuse `version` if older than the record for `name`; record it if newer."""
        wanted = parse_version(version)
        libraries = self._read()
        entry = libraries.get(name)
        if entry is not None:
            recorded = parse_version(entry["version"])
            if wanted < recorded:
                raise RollbackError(
                    f"library {name[:60]!r} version {version} is older than version "
                    f"{entry['version']} already accepted (record {self.path}): refused, a "
                    "library version never goes back")
            if wanted == recorded:
                return
        libraries[name] = {"version": version, "signed_by": signer}
        self._write({"format": RECORD_FORMAT, "libraries": libraries})

    def _write(self, document: dict[str, object]) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(document, indent=2, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)


def check_not_older(name: str, version: str, current_name: str, current_version: str) -> None:
    """Refuse a replacement library older than the one in force (same library name)."""
    if name == current_name and parse_version(version) < parse_version(current_version):
        raise RollbackError(f"library {name[:60]!r} version {version} is older than version "
                            f"{current_version} in force: refused, a library version never "
                            "goes back")
