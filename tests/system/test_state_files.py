"""State at rest, in process: sealed files and their generations (crash windows), the keyed
log chain and the key-less image, and the programmer's anchor findings."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest

from idds.emulator.sealed import SealedFiles, seal
from idds.emulator.secure import MemoryFault, SecureElement
from idds.emulator.statedir import StateDir
from idds.link import FileCounterStore
from idds.link.aead import Direction
from idds.programmer.anchor import Anchor, AnchorStore, finding
from idds.pump import EventKind, Pump, SnapshotError, restore, snapshot, verify_links
from idds.pump.log import GENESIS, canonical, verify_chain


def element(tmp_path: Path) -> SecureElement:
    se = SecureElement(tmp_path / "se", tmp_path / "state")
    se.create()
    return se


def test_a_crash_between_the_file_and_the_generation_still_starts(tmp_path: Path) -> None:
    se = element(tmp_path)
    path = tmp_path / "state" / "counters.json"
    files = SealedFiles(se)
    files.write(path, b"{}")
    assert se.generation("counters.json") == 1
    # the file of generation 2 is written, the crash comes before the secure element's write
    path.write_bytes(seal(se.seal_key, "counters.json", 2, b'{"a": 1}'))
    assert SealedFiles(se).read(path) == b'{"a": 1}'
    assert se.generation("counters.json") == 2  # committed on reading
    path.write_bytes(seal(se.seal_key, "counters.json", 1, b"{}"))
    with pytest.raises(MemoryFault, match="older copy"):
        SealedFiles(se).read(path)
    path.write_bytes(seal(se.seal_key, "counters.json", 4, b"{}"))
    with pytest.raises(MemoryFault, match="beyond"):
        SealedFiles(se).read(path)
    path.write_bytes(seal(se.seal_key, "pairings.json", 2, b'{"a": 1}'))  # another file's
    with pytest.raises(MemoryFault, match="integrity"):
        SealedFiles(se).read(path)


def test_sealed_counter_store_round_trip_and_never_written_is_empty(tmp_path: Path) -> None:
    se = element(tmp_path)
    path = tmp_path / "state" / "counters.json"
    store = FileCounterStore(path, SealedFiles(se))
    assert store.get(b"k" * 8, Direction.DEVICE_TO_PUMP) == 0
    store.put(b"k" * 8, Direction.DEVICE_TO_PUMP, 5)
    again = FileCounterStore(path, SealedFiles(se))
    assert again.get(b"k" * 8, Direction.DEVICE_TO_PUMP) == 5
    assert path.read_bytes().startswith(b'{"file": "counters.json", "generation": 1')


def test_a_directory_with_state_but_no_secure_element_is_refused(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "pump.json").write_bytes(b"{}")
    state = StateDir(tmp_path / "state", SecureElement(tmp_path / "se", tmp_path / "state"))
    with pytest.raises(MemoryFault, match="no record"):
        state.open_element()


def test_the_log_is_keyed_and_a_recomputed_unkeyed_chain_is_refused() -> None:
    pump = Pump.implant(seed=1, log_key=b"k" * 32)
    pump.advance(Fraction(3600))
    pump.annotate(EventKind.ADVICE_DECISION, outcome="accepted")
    assert pump.log.key == b"k" * 32 and pump.log.verify(pump.log.head).ok
    entries = list(pump.log.entries)
    assert not verify_chain(entries, pump.log.head).ok  # not the unkeyed chain
    assert verify_links(entries, pump.log.head).ok  # what a device can check
    prev, rechained = GENESIS, []
    for e in entries:
        digest = hashlib.sha256(prev.encode() + canonical(e.seq, e.time, e.kind,
                                                          e.details)).hexdigest()
        rechained.append(replace(e, prev_hash=prev, hash=digest))
        prev = digest
    assert not verify_chain(rechained, prev, key=b"k" * 32).ok


def test_the_image_without_its_key_needs_the_key_back() -> None:
    pump = Pump.implant(seed=1, log_key=b"k" * 32)
    whole, half = snapshot(pump), snapshot(pump, key=False)
    assert b"log_key" in whole and b"log_key" not in half
    assert restore(whole).log.entries == pump.log.entries
    assert restore(half, log_key=b"k" * 32).log.entries == pump.log.entries
    with pytest.raises(SnapshotError, match="no log key"):
        restore(half)
    with pytest.raises(SnapshotError, match="fails verification"):
        restore(half, log_key=b"j" * 32)
    with pytest.raises(SnapshotError, match="its own log key"):
        restore(whole, log_key=b"k" * 32)
    # a simulation (no secure element) derives its key from the seed: runs stay reproducible
    assert Pump.implant(seed=1).log.key == Pump.implant(seed=1).log.key
    assert Pump.implant(seed=1).log.key != Pump.implant(seed=2).log.key


def test_anchor_findings(tmp_path: Path) -> None:
    anchor = Anchor(10, "h" * 64)
    assert finding(None, 3, "x", None) is None
    assert finding(anchor, 10, "h" * 64, None) is None
    assert finding(anchor, 12, "y", "h" * 64) is None
    assert "TRUNCATED" in str(finding(anchor, 9, "h" * 64, None))
    assert "REWRITTEN" in str(finding(anchor, 10, "y" * 64, None))
    assert "REWRITTEN" in str(finding(anchor, 12, "y", "z" * 64))
    store = AnchorStore(tmp_path)
    store.put("pump-1", anchor)
    assert store.get("pump-1") == anchor and store.get("pump-2") is None


def test_an_emptied_state_directory_is_not_a_fresh_pump(tmp_path: Path) -> None:
    se = element(tmp_path)
    SealedFiles(se).write(tmp_path / "state" / "pump.json", b"{}")
    (tmp_path / "state" / "pump.json").unlink()
    state = StateDir(tmp_path / "state", se)
    with pytest.raises(MemoryFault, match="remove"):
        state.open_element()
