"""The device side's pairing (keys and counters), kept through an injected `ClientStore`.

The device stores its send counter BEFORE a frame leaves, so a crash can skip counters but
never reuse one (a reused counter would reuse a nonce, docs/protocol.md "Nonces"). The file
store is one JSON file per pump (the programmer keeps them in a directory), owner-only (0600),
written atomically with fsync.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from idds.link.atomic import read_json, write_json
from idds.link.errors import ErrorCode, LinkError
from idds.link.keys import binding
from idds.link.roles import Role


@dataclass(frozen=True)
class ClientPairing:
    """A device's pairing with one pump. Counters are the last used / last accepted."""

    pump_id: str
    device_id: str
    role: Role
    key_id: bytes
    send_key: bytes  # device -> pump
    receive_key: bytes  # pump -> device
    send_counter: int = 0
    receive_counter: int = 0

    @property
    def binding(self) -> bytes:
        """The associated-data binding of this pairing (pump id, device id, role)."""
        return binding(self.pump_id, self.device_id, self.role)

    def advanced(self, *, send: int | None = None, receive: int | None = None) -> ClientPairing:
        """A copy with a new send and/or receive counter."""
        return replace(
            self,
            send_counter=self.send_counter if send is None else send,
            receive_counter=self.receive_counter if receive is None else receive,
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready record (keys in hex)."""
        return {
            "pump_id": self.pump_id,
            "device_id": self.device_id,
            "role": self.role.name.lower(),
            "key_id": self.key_id.hex(),
            "send_key": self.send_key.hex(),
            "receive_key": self.receive_key.hex(),
            "send_counter": self.send_counter,
            "receive_counter": self.receive_counter,
        }

    @classmethod
    def from_json(cls, value: Any) -> ClientPairing:
        """Read a record written by `to_json`; anything else raises `LinkError`."""
        try:
            counters = (value["send_counter"], value["receive_counter"])
            if not all(type(c) is int and c >= 0 for c in counters):
                raise ValueError("counters must be whole numbers >= 0")
            return cls(
                pump_id=str(value["pump_id"]),
                device_id=str(value["device_id"]),
                role=Role[str(value["role"]).upper()],
                key_id=bytes.fromhex(value["key_id"]),
                send_key=bytes.fromhex(value["send_key"]),
                receive_key=bytes.fromhex(value["receive_key"]),
                send_counter=counters[0],
                receive_counter=counters[1],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise LinkError(ErrorCode.MALFORMED_PAYLOAD, f"client pairing record: {exc}") from None


class ClientStore(Protocol):
    """Where a device keeps its pairing. `save` returns only once it is durable."""

    def load(self) -> ClientPairing | None:
        """The stored pairing, or None if not paired."""

    def save(self, pairing: ClientPairing) -> None:
        """Store the pairing durably."""


@dataclass
class MemoryClientStore:
    """A pairing held in memory (tests)."""

    pairing: ClientPairing | None = None
    saves: int = field(default=0)

    def load(self) -> ClientPairing | None:
        """The stored pairing."""
        return self.pairing

    def save(self, pairing: ClientPairing) -> None:
        """Keep the pairing."""
        self.pairing = pairing
        self.saves += 1


class FileClientStore:
    """A pairing in one JSON file (0600), written atomically with fsync."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def in_directory(cls, directory: Path, pump_id: str) -> FileClientStore:
        """The file for `pump_id` in a directory of pairings (one file per pump)."""
        return cls(Path(directory) / f"{pump_id}.pairing.json")

    def load(self) -> ClientPairing | None:
        """The stored pairing, or None if the file does not exist."""
        value = read_json(self.path)
        return None if value is None else ClientPairing.from_json(value)

    def save(self, pairing: ClientPairing) -> None:
        """Store the pairing; durable on return."""
        write_json(self.path, pairing.to_json())
