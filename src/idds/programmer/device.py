"""A programmer's or remote's directory (`--device DIR`): identity, pairing, target, log.

| file | content |
|---|---|
| `device.json` | this device's id (made once: `programmer-<hex>` or `remote-<hex>`) |
| `<pump id>.pairing.json` | the pairing with that pump (`FileClientStore`, 0600, atomic) |
| `target.json` | the pump in use: its id, host and port (set at pairing, `--port` updates it) |
| `<pump id>.address.json` | where that pump answers, host and port (`idds console`: many) |
| `device-log.jsonl` | the device's own append-only, hash-chained audit log (`DeviceLog`) |
| `<pump id>.anchor.json` | where that pump's event log stood when last seen (`AnchorStore`) |
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from idds.errors import IddsError
from idds.link import ClientPairing, ErrorCode, FileClientStore, LinkError
from idds.link.atomic import read_json, write_json
from idds.programmer.devicelog import DeviceLog


class DeviceError(IddsError):
    """The device directory is unusable."""


@dataclass(frozen=True)
class PumpAddress:
    """The pump this device talks to."""

    pump_id: str
    host: str
    port: int


class PairingCapture:
    """A ClientStore used while pairing: the pump id is known only from the pump's answer;
    on save the pairing goes to `<pump id>.pairing.json` and becomes the target."""

    def __init__(self, device: DeviceDir, host: str, port: int) -> None:
        self.device = device
        self.host = host
        self.port = port
        self.pairing: ClientPairing | None = None

    def load(self) -> ClientPairing | None:
        return self.pairing

    def save(self, pairing: ClientPairing) -> None:
        FileClientStore.in_directory(self.device.path, pairing.pump_id).save(pairing)
        self.device.set_target(PumpAddress(pairing.pump_id, self.host, self.port))
        self.pairing = pairing


class DeviceDir:
    """One device's directory; `kind` is "programmer" or "remote"; `clock` gives the time
    stamp of each device log entry (injected: the CLI, the edge, passes the wall clock)."""

    def __init__(self, path: Path, kind: str, clock: Callable[[], str]) -> None:
        self.path = Path(path).expanduser()
        self.kind = kind
        self.log = DeviceLog(self.path / "device-log.jsonl", clock)

    @property
    def device_id(self) -> str:
        """This device's id, made once."""
        value = read_json(self.path / "device.json")
        if isinstance(value, dict) and isinstance(value.get("device_id"), str):
            return str(value["device_id"])
        made = f"{self.kind}-{secrets.token_hex(4)}"
        write_json(self.path / "device.json", {"device_id": made})
        return made

    def target(self, port: int | None = None) -> PumpAddress:
        """The pump in use (`port` overrides it for this use; `set_target` remembers it once
        the pump there has answered); NOT_PAIRED if none."""
        value = read_json(self.path / "target.json")
        if not isinstance(value, dict):
            raise LinkError(ErrorCode.NOT_PAIRED,
                            f"no pairing in {self.path}: run pair --wand first")
        try:
            target = PumpAddress(str(value["pump_id"]), str(value["host"]), int(value["port"]))
        except (KeyError, TypeError, ValueError):
            raise DeviceError(f"{self.path / 'target.json'} is not a target record") from None
        if port is not None and port != target.port:
            target = PumpAddress(target.pump_id, target.host, port)
        return target

    def set_target(self, target: PumpAddress) -> None:
        record = {"pump_id": target.pump_id, "host": target.host, "port": target.port}
        write_json(self.path / "target.json", record)
        write_json(self.path / f"{target.pump_id}.address.json", record)

    def paired_pumps(self) -> list[str]:
        """The ids of the pumps this device paired with and knows the address of, sorted."""
        suffix = ".address.json"
        return sorted(p.name.removesuffix(suffix) for p in self.path.glob(f"*{suffix}")
                      if (self.path / f"{p.name.removesuffix(suffix)}.pairing.json").exists())

    def address(self, pump_id: str) -> PumpAddress:
        """Where the paired pump `pump_id` answers (NOT_PAIRED if this device never paired
        with it)."""
        path = self.path / f"{pump_id}.address.json"
        value = read_json(path) if "/" not in pump_id and not pump_id.startswith(".") else None
        if not isinstance(value, dict):
            raise LinkError(ErrorCode.NOT_PAIRED, f"this programmer is not paired with the "
                            f"pump {pump_id}: pair it first")
        try:
            return PumpAddress(pump_id, str(value["host"]), int(value["port"]))
        except (KeyError, TypeError, ValueError):
            raise DeviceError(f"{path} is not a pump address record") from None

    def store(self, target: PumpAddress) -> FileClientStore:
        """The pairing store for `target`'s pump."""
        return FileClientStore.in_directory(self.path, target.pump_id)

    def capture(self, host: str, port: int) -> PairingCapture:
        """A store that files a new pairing under its pump's id."""
        return PairingCapture(self, host, port)
