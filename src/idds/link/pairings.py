"""The pump's paired devices, stored durably through an injected `PairingStore`.

A pairing record holds the device id, the role it paired as (fixed until unpaired) and the two
session keys. The device id and role are also bound into the keys' associated data
(`keys.binding`): editing them in the store makes the key useless rather than more powerful.
Keys live only here and in the device's own store; none is hard-coded (ref, security). The
file store writes owner-only (0600), atomically, with fsync.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from idds.link.atomic import dump_json, parse_json
from idds.link.errors import ErrorCode, LinkError
from idds.link.keys import binding
from idds.link.roles import Role
from idds.link.storage import PlainFiles, Sealer


@dataclass(frozen=True)
class PumpPairing:
    """One paired device as the pump knows it. `paired_at` is link-clock seconds."""

    key_id: bytes
    device_id: str
    role: Role
    receive_key: bytes  # device -> pump
    send_key: bytes  # pump -> device
    paired_at: float

    def binding(self, pump_id: str) -> bytes:
        """The associated-data binding of this pairing on pump `pump_id`: computed from the
        stored device id and role, so an edited record fails every tag."""
        return binding(pump_id, self.device_id, self.role)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready record (keys in hex)."""
        return {
            "key_id": self.key_id.hex(),
            "device_id": self.device_id,
            "role": self.role.name.lower(),
            "receive_key": self.receive_key.hex(),
            "send_key": self.send_key.hex(),
            "paired_at": self.paired_at,
        }

    @classmethod
    def from_json(cls, value: Any) -> PumpPairing:
        """Read a record written by `to_json`; anything else raises `LinkError`."""
        try:
            return cls(
                key_id=bytes.fromhex(value["key_id"]),
                device_id=str(value["device_id"]),
                role=Role[str(value["role"]).upper()],
                receive_key=bytes.fromhex(value["receive_key"]),
                send_key=bytes.fromhex(value["send_key"]),
                paired_at=float(value["paired_at"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise LinkError(ErrorCode.MALFORMED_PAYLOAD, f"pairing record: {exc}") from None


class PairingStore(Protocol):
    """Durable paired-device records keyed by key id."""

    def load(self) -> dict[bytes, PumpPairing]:
        """All stored pairings."""

    def put(self, pairing: PumpPairing) -> None:
        """Add or replace one pairing, durably."""

    def remove(self, key_id: bytes) -> None:
        """Delete one pairing, durably."""


@dataclass
class MemoryPairingStore:
    """Pairings in a dict (tests, simulations)."""

    pairings: dict[bytes, PumpPairing] = field(default_factory=dict)

    def load(self) -> dict[bytes, PumpPairing]:
        """All stored pairings."""
        return dict(self.pairings)

    def put(self, pairing: PumpPairing) -> None:
        """Add or replace one pairing."""
        self.pairings[pairing.key_id] = pairing

    def remove(self, key_id: bytes) -> None:
        """Delete one pairing."""
        self.pairings.pop(key_id, None)


class FilePairingStore:
    """Pairings in one JSON file (0600), rewritten atomically with fsync on every change,
    through `sealer` (default `PlainFiles`; the emulator's seals them under its secure
    element, so an edited role or key is refused)."""

    def __init__(self, path: Path, sealer: Sealer | None = None) -> None:
        self.path = Path(path)
        self._io: Sealer = sealer or PlainFiles()
        loaded = parse_json(self.path, self._io.read(self.path))
        if loaded is None:
            loaded = []
        if not isinstance(loaded, list):
            raise LinkError(ErrorCode.MALFORMED_PAYLOAD, f"{self.path}: not a pairing file")
        records = [PumpPairing.from_json(item) for item in loaded]
        self._pairings = {p.key_id: p for p in records}

    def load(self) -> dict[bytes, PumpPairing]:
        """All stored pairings."""
        return dict(self._pairings)

    def put(self, pairing: PumpPairing) -> None:
        """Add or replace one pairing; durable on return."""
        self._write({**self._pairings, pairing.key_id: pairing})

    def remove(self, key_id: bytes) -> None:
        """Delete one pairing; durable on return."""
        self._write({k: p for k, p in self._pairings.items() if k != key_id})

    def _write(self, pairings: dict[bytes, PumpPairing]) -> None:
        self._io.write(self.path, dump_json([p.to_json() for p in pairings.values()]))
        self._pairings = pairings
