"""Counters and pairings survive a crash (ref, security: the counter high-water mark is stored
before the command acts; fsync before acknowledging)."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path

import pytest

from idds.link import (
    CommandRequest,
    ErrorCode,
    FileClientStore,
    FileCounterStore,
    FilePairingStore,
    LinkClient,
    LinkError,
    MemoryTransport,
    Role,
)
from idds.link.aead import Direction
from tests.link.link_helpers import FakeClock, make_rig


def test_restored_pump_rejects_a_frame_replayed_from_before_the_crash(tmp_path: Path) -> None:
    clock = FakeClock()
    rig = make_rig(
        counters=FileCounterStore(tmp_path / "counters.json"),
        pairings=FilePairingStore(tmp_path / "pairings.json"),
        clock=clock,
    )
    pairing = rig.pair(Role.PATIENT)
    pairing, frame = rig.command(pairing, "bolus_request")
    assert rig.endpoint.handle_frame(frame) is not None
    del rig  # crash: nothing but the files survives

    restored = make_rig(
        counters=FileCounterStore(tmp_path / "counters.json"),
        pairings=FilePairingStore(tmp_path / "pairings.json"),
        clock=clock,
    )
    assert restored.endpoint.handle_frame(frame, "attacker") is None
    assert restored.events.codes()[-1] is ErrorCode.REPLAYED
    assert restored.handler.calls == []
    # the paired device carries on with its next counter
    pairing, frame = restored.command(pairing, "bolus_request")
    assert restored.endpoint.handle_frame(frame) is not None
    assert len(restored.handler.calls) == 1


def test_counter_is_durable_before_the_handler_runs(tmp_path: Path) -> None:
    path = tmp_path / "counters.json"
    seen: list[int] = []
    rig = make_rig(counters=FileCounterStore(path))
    pairing = rig.pair(Role.PATIENT)

    def crashing_handler(request: CommandRequest) -> dict[str, object]:
        on_disk = json.loads(path.read_text())
        seen.append(on_disk[f"{request.key_id.hex()}:device_to_pump"])
        raise SystemExit("power lost while the command acts")

    rig.endpoint._handler = crashing_handler  # type: ignore[assignment]
    pairing, frame = rig.command(pairing)
    with pytest.raises(SystemExit):
        rig.endpoint.handle_frame(frame)
    assert seen == [1]
    restored = make_rig(counters=FileCounterStore(path), pairings=rig.pairings)
    assert restored.endpoint.handle_frame(frame) is None  # the crash did not re-open the frame
    assert restored.events.codes()[-1] is ErrorCode.REPLAYED


def test_reply_counter_survives_a_crash(tmp_path: Path) -> None:
    rig = make_rig(FileCounterStore(tmp_path / "c.json"), FilePairingStore(tmp_path / "p.json"))
    pairing = rig.pair(Role.CLINICIAN)
    for _ in range(3):
        pairing, frame = rig.command(pairing, "interrogate")
        rig.endpoint.handle_frame(frame)
    restored = FileCounterStore(tmp_path / "c.json")
    assert restored.get(pairing.key_id, Direction.PUMP_TO_DEVICE) == 3
    assert restored.get(pairing.key_id, Direction.DEVICE_TO_PUMP) == 3


def test_store_files_are_owner_only_and_leave_no_temp_files(tmp_path: Path) -> None:
    rig = make_rig(FileCounterStore(tmp_path / "c.json"), FilePairingStore(tmp_path / "p.json"))
    pairing = rig.pair(Role.PATIENT)
    _, frame = rig.command(pairing)
    rig.endpoint.handle_frame(frame)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.json", "p.json"]
    for name in ("c.json", "p.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600


def test_unpairing_is_durable(tmp_path: Path) -> None:
    rig = make_rig(FileCounterStore(tmp_path / "c.json"), FilePairingStore(tmp_path / "p.json"))
    pairing = rig.pair(Role.PATIENT)
    rig.endpoint.unpair(pairing.key_id)
    assert FilePairingStore(tmp_path / "p.json").load() == {}
    with pytest.raises(LinkError):
        rig.endpoint.unpair(pairing.key_id)


def test_corrupt_store_files_are_refused_not_ignored(tmp_path: Path) -> None:
    (tmp_path / "c.json").write_text("{not json")
    with pytest.raises(LinkError):
        FileCounterStore(tmp_path / "c.json")
    (tmp_path / "c.json").write_text('{"ab:device_to_pump": -1}')
    with pytest.raises(LinkError):
        FileCounterStore(tmp_path / "c.json")
    (tmp_path / "p.json").write_text('[{"key_id": "zz"}]')
    with pytest.raises(LinkError):
        FilePairingStore(tmp_path / "p.json")


def test_client_pairing_file_round_trip_and_counter_saved_before_send(tmp_path: Path) -> None:
    rig = make_rig()
    secret = rig.open(Role.CLINICIAN)
    store = FileClientStore.in_directory(tmp_path / "pairings", "pump-1")
    client = LinkClient(MemoryTransport(rig.endpoint), store, rig.clock)
    pairing = asyncio.run(client.pair("programmer-1", Role.CLINICIAN, secret))
    assert store.load() == pairing
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600

    saved_at_send: list[int] = []
    transport = client.transport
    original = transport.exchange

    async def spy(frame: bytes) -> bytes | None:
        loaded = store.load()
        assert loaded is not None
        saved_at_send.append(loaded.send_counter)
        return await original(frame)

    transport.exchange = spy  # type: ignore[method-assign]
    asyncio.run(client.send("interrogate"))
    asyncio.run(client.send("read_log"))
    assert saved_at_send == [1, 2]

    # a new client process (the programmer restarted) carries on from the file
    again = LinkClient(MemoryTransport(rig.endpoint), FileClientStore(store.path), rig.clock)
    assert asyncio.run(again.send("interrogate"))["command"] == "interrogate"
    loaded = store.load()
    assert loaded is not None and (loaded.send_counter, loaded.receive_counter) == (3, 3)


def test_unpaired_client_says_so(tmp_path: Path) -> None:
    rig = make_rig()
    client = LinkClient(MemoryTransport(rig.endpoint), FileClientStore(tmp_path / "x"), rig.clock)
    with pytest.raises(LinkError) as caught:
        asyncio.run(client.send("interrogate"))
    assert caught.value.code is ErrorCode.NOT_PAIRED
