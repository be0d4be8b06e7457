"""Non-volatile memory: the whole pump (settings, state, hardware, random generator, log) to
JSON bytes and back. A restored pump continues identically to the original.

Encoding: a tagged JSON tree. Fractions are exact "n/d" text, Quantities their exact base value
with the display unit, enums and dataclasses by registered class name. The restored log must
verify against the recorded head hash under the log key, or restoring is refused.
`power_loss` restarts a pump from its snapshot. The firmware does not import this module.

The image has two halves: everything, and the log key (`log_key`, hex). `snapshot(pump)`
holds both (a whole non-volatile memory: simulations, copies); `snapshot(pump, key=False)`
leaves the key out, for an emulator that keeps it in its secure element and passes it back to
`restore(data, log_key=...)`. Version 1 images (before the keyed chain) have no key and an
unkeyed chain; they are still read, but never with a given key.
"""

from __future__ import annotations

import dataclasses
import json
from enum import Enum
from fractions import Fraction
from typing import Any

import numpy as np

from idds.pump.alarms import ActiveAlarm, AlarmKind
from idds.pump.errors import SnapshotError
from idds.pump.firmware import Pump
from idds.pump.hardware import Hardware, HardwareSpec
from idds.pump.limits import DeviceLimits
from idds.pump.log import EventKind, EventLog, LogEntry
from idds.pump.program import (
    Continuous,
    DemandBolus,
    Drug,
    Flex,
    FlexStep,
    MinimumRate,
    Mode,
    Stopped,
    Therapy,
)
from idds.pump.state import BolusKind, BolusRun, MotorCause, PrimeReason, PumpState
from idds.units import Quantity, parse_unit

VERSION = 2
#: Image versions `restore` reads (1: unkeyed log chain).
READABLE = (1, 2)

_CLASSES: dict[str, type] = {
    c.__name__: c
    for c in (
        ActiveAlarm, AlarmKind, Hardware, HardwareSpec, DeviceLimits, EventKind, LogEntry,
        Continuous, DemandBolus, Drug, Flex, FlexStep, MinimumRate, Mode, Stopped, Therapy,
        BolusKind, BolusRun, MotorCause, PrimeReason, PumpState,
    )
}


def encode(value: Any) -> Any:
    """A JSON-able tagged tree of `value`."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Fraction):
        return {"$F": f"{value.numerator}/{value.denominator}"}
    if isinstance(value, Quantity):
        return {"$Q": [f"{value.base.numerator}/{value.base.denominator}", value.unit.symbol]}
    if isinstance(value, Enum):
        return {"$E": [type(value).__name__, value.name]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if name not in _CLASSES:
            raise SnapshotError(f"cannot store a {name}")
        fields = {f.name: encode(getattr(value, f.name))
                  for f in dataclasses.fields(value) if f.init}
        return {"$D": name, "f": fields}
    if isinstance(value, tuple):
        return {"$T": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {"$M": [[encode(k), encode(v)] for k, v in value.items()]}
    raise SnapshotError(f"cannot store a {type(value).__name__}")


def decode(tree: Any) -> Any:
    """The value encoded by `encode`."""
    if tree is None or isinstance(tree, bool | int | float | str):
        return tree
    if isinstance(tree, list):
        return [decode(v) for v in tree]
    if not isinstance(tree, dict) or len(tree) not in (1, 2):
        raise SnapshotError("malformed snapshot")
    if "$F" in tree:
        return Fraction(tree["$F"])
    if "$Q" in tree:
        base, symbol = tree["$Q"]
        return Quantity(Fraction(base), parse_unit(symbol))
    if "$E" in tree:
        cls_name, member = tree["$E"]
        return _class(cls_name)[member]
    if "$D" in tree:
        cls = _class(tree["$D"])
        return cls(**{k: decode(v) for k, v in tree["f"].items()})
    if "$T" in tree:
        return tuple(decode(v) for v in tree["$T"])
    if "$M" in tree:
        return {decode(k): decode(v) for k, v in tree["$M"]}
    raise SnapshotError("malformed snapshot")


def _class(name: str) -> Any:
    try:
        return _CLASSES[name]
    except KeyError:
        raise SnapshotError(f"unknown record {name!r} in snapshot") from None


def snapshot(pump: Pump, *, key: bool = True) -> bytes:
    """The pump's non-volatile image as UTF-8 JSON bytes; with `key=False` without the log
    key (the secure element's half)."""
    tree: dict[str, Any] = {
        "version": VERSION if pump.log.key is not None else 1,  # 1: an unkeyed log
        "spec": encode(pump.spec),
        "limits": encode(pump.limits),
        "state": encode(pump.state),
        "hardware": encode(pump.hardware),
        "rng": encode(pump.rng.bit_generator.state),
        "log": encode(pump.log.entries),
        "head": pump.log.head,
    }
    if key and pump.log.key is not None:
        tree["log_key"] = pump.log.key.hex()
    return json.dumps(tree, separators=(",", ":"), sort_keys=True).encode()


def restore(data: bytes, log_key: bytes | None = None) -> Pump:
    """A pump from `snapshot` bytes; refuses a corrupt image or a log that does not verify.
    `log_key`: the key of an image written without it (`snapshot(pump, key=False)`); an image
    that carries a key, or an unkeyed version 1 image, is refused with one."""
    try:
        tree = json.loads(data)
        if tree.get("version") not in READABLE:
            raise SnapshotError(f"snapshot version {tree.get('version')!r} is not {VERSION}")
        key = _log_key(tree, log_key)
        spec, limits = decode(tree["spec"]), decode(tree["limits"])
        state, hardware = decode(tree["state"]), decode(tree["hardware"])
        rng = np.random.default_rng()
        rng.bit_generator.state = decode(tree["rng"])
        log = EventLog(decode(tree["log"]), key)
        head = tree["head"]
    except SnapshotError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SnapshotError(f"corrupt snapshot: {exc}") from None
    if not isinstance(state, PumpState) or not isinstance(hardware, Hardware):
        raise SnapshotError("corrupt snapshot: wrong record types")
    check = log.verify(head)
    if not check.ok:
        raise SnapshotError(f"snapshot log fails verification at entry {check.bad_index}: "
                            f"{check.reason}")
    hardware.catheter = [tuple(seg) for seg in hardware.catheter]  # type: ignore[misc]
    return Pump(spec, limits, state, hardware, rng, log)


def _log_key(tree: dict[str, Any], given: bytes | None) -> bytes | None:
    """The log key of an image: its own, or the one given for a key-less version 2 image."""
    stored = tree.get("log_key")
    if tree["version"] == 1 or given is None:
        if given is not None:
            raise SnapshotError("a version 1 snapshot has an unkeyed log: refused with a key")
        if tree["version"] == 2 and not isinstance(stored, str):
            raise SnapshotError("the snapshot has no log key and none was given")
        return None if stored is None else bytes.fromhex(str(stored))
    if stored is not None:
        raise SnapshotError("the snapshot carries its own log key: refused with another one")
    return given


def power_loss(pump: Pump) -> Pump:
    """Power loss and restart: a pump restored from the non-volatile snapshot, with the
    restart logged (`Pump.restarted`)."""
    restarted = restore(snapshot(pump))
    restarted.restarted()
    return restarted
