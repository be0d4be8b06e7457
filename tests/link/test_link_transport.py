"""Transports: in-memory and asyncio TCP on 127.0.0.1 behind one interface, and a flood of
bad frames through the real TCP transport (ref, security: a message flood neither blocks
therapy nor drains the battery model)."""

from __future__ import annotations

import asyncio
import os

import pytest

from idds.link import (
    ErrorCode,
    LinkClient,
    MemoryClientStore,
    MemoryTransport,
    RateLimits,
    Role,
    TcpServer,
    TcpTransport,
    Transport,
    TransportError,
)
from idds.link.session import start_pairing
from idds.link.tcp import encode_prefixed
from tests.link.link_helpers import Rig, make_rig


async def round_trip(rig: Rig, transport: Transport) -> None:
    secret = rig.open(Role.CLINICIAN)
    client = LinkClient(transport, MemoryClientStore(), rig.clock)
    pairing = await client.pair("programmer-1", Role.CLINICIAN, secret)
    assert pairing.pump_id == "pump-1"
    for i in range(3):
        result = await client.send("program", {"rate": "1 mg/day", "step": i})
        assert result == {"command": "program", "calls": i + 1}
    assert [c.args["step"] for c in rig.handler.calls] == [0, 1, 2]
    await client.aclose()


def test_round_trip_in_memory(rig: Rig) -> None:
    asyncio.run(round_trip(rig, MemoryTransport(rig.endpoint)))


def test_round_trip_over_tcp_on_loopback(rig: Rig) -> None:
    async def main() -> None:
        async with TcpServer(rig.endpoint) as server:
            assert server.host == "127.0.0.1" and server.port > 0
            await round_trip(rig, TcpTransport("127.0.0.1", server.port))

    asyncio.run(main())
    assert rig.events.events[1].detail.startswith("programmer-1 as clinician programmer from tcp:")


def test_silence_becomes_a_no_reply_error_over_tcp(rig: Rig) -> None:
    async def main() -> None:
        async with TcpServer(rig.endpoint) as server:
            transport = TcpTransport("127.0.0.1", server.port, reply_timeout=0.2)
            assert await transport.exchange(os.urandom(50)) is None  # garbage: silence
            secret = rig.open(Role.PATIENT)
            client = LinkClient(transport, MemoryClientStore(), rig.clock)
            pairing = await client.pair("remote-1", Role.PATIENT, secret)
            rig.endpoint.unpair(pairing.key_id)
            with pytest.raises(TransportError) as caught:
                await client.send("bolus_request")  # unknown key: silence
            assert caught.value.code is ErrorCode.NO_REPLY
            await transport.aclose()

    asyncio.run(main())
    assert rig.handler.calls == []
    assert rig.events.codes()[-1] is ErrorCode.UNKNOWN_KEY


def test_oversized_length_prefix_closes_the_connection_without_reading(rig: Rig) -> None:
    async def main() -> bytes:
        async with TcpServer(rig.endpoint) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"\xff\xff" + b"x" * 10)
            await writer.drain()
            data = await asyncio.wait_for(reader.read(), 5.0)
            writer.close()
            return data

    assert asyncio.run(main()) == b""  # closed, nothing answered
    assert rig.events.codes()[-1] is ErrorCode.OVERSIZED


def test_connection_to_nowhere_is_a_transport_error() -> None:
    async def main() -> None:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        with pytest.raises(TransportError) as caught:
            await TcpTransport("127.0.0.1", port).exchange(b"ID")
        assert caught.value.code is ErrorCode.TRANSPORT_FAILED

    asyncio.run(main())


def test_flood_over_tcp_does_not_starve_a_paired_device() -> None:
    limits = RateLimits()
    rig = make_rig(limits=limits)
    stop = asyncio.Event()
    sent_bad = 0

    async def flood(port: int) -> None:
        nonlocal sent_bad
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        pairing_spam = start_pairing("spammer", Role.CLINICIAN, os.urandom(16)).request
        while not stop.is_set():
            for junk in (os.urandom(64), b"ID\x02\x03" + os.urandom(80), pairing_spam):
                writer.write(encode_prefixed(junk))
                sent_bad += 1
            await writer.drain()
            await asyncio.sleep(0)
        writer.close()

    async def main() -> int:
        async with TcpServer(rig.endpoint) as server:
            secret = rig.open(Role.PATIENT)
            remote = LinkClient(
                TcpTransport("127.0.0.1", server.port, reply_timeout=5.0),
                MemoryClientStore(),
                rig.clock,
            )
            await remote.pair("remote-1", Role.PATIENT, secret)
            floods = [asyncio.create_task(flood(server.port)) for _ in range(3)]
            await asyncio.sleep(0.05)
            delivered = 0
            for _ in range(20):  # a bolus request every 10 s of link time while flooded
                await remote.send("bolus_request")
                delivered += 1
                rig.clock.advance(10.0)
                await asyncio.sleep(0.01)
            stop.set()
            await asyncio.gather(*floods)
            await remote.aclose()
            return delivered

    start = rig.clock()
    assert asyncio.run(main()) == 20
    assert len(rig.handler.calls) == 20
    stats = rig.endpoint.stats
    assert stats.processed <= limits.max_processed(rig.clock() - start)
    # dropped by the connections' frame budgets (reported) or the shared budget
    assert stats.dropped_unauthenticated > 100
    assert sent_bad > stats.processed


def test_garbage_does_not_extend_an_unauthenticated_connection(rig: Rig) -> None:
    async def main() -> float:
        async with TcpServer(rig.endpoint, unauthenticated_timeout=0.6) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            loop = asyncio.get_running_loop()
            opened = loop.time()
            with pytest.raises((ConnectionError, OSError)):
                for _ in range(40):  # garbage every 0.1 s: the deadline stays fixed
                    writer.write(encode_prefixed(os.urandom(30)))
                    await writer.drain()
                    if await _closed(reader):
                        raise ConnectionError("closed")
            closed = loop.time() - opened
            writer.close()
            return closed

    assert 0.5 <= asyncio.run(main()) <= 2.0


async def _closed(reader: asyncio.StreamReader) -> bool:
    try:
        return await asyncio.wait_for(reader.read(1), 0.1) == b""
    except TimeoutError:
        return False


def test_only_authenticated_progress_restarts_the_idle_timeout() -> None:
    rig = make_rig()

    async def main() -> bool:
        async with TcpServer(rig.endpoint, unauthenticated_timeout=0.5,
                             idle_timeout=0.8) as server:
            secret = rig.open(Role.PATIENT)
            client = LinkClient(TcpTransport("127.0.0.1", server.port), MemoryClientStore(),
                                rig.clock)
            await client.pair("remote-1", Role.PATIENT, secret)
            for _ in range(4):  # authenticated commands 0.4 s apart keep it past 0.5 s
                await asyncio.sleep(0.4)
                await client.send("bolus_request")
            assert server.connections == 1
            reader, writer = client.transport._streams  # type: ignore[attr-defined, misc]
            for _ in range(12):  # garbage on the authenticated connection: no extension
                writer.write(encode_prefixed(os.urandom(30)))
                await writer.drain()
                if await _closed(reader):
                    return True
            return False

    assert asyncio.run(main())
    assert len(rig.handler.calls) == 4


def test_at_the_cap_a_new_connection_evicts_the_oldest_unauthenticated_one() -> None:
    rig = make_rig()

    async def main() -> None:
        async with TcpServer(rig.endpoint, max_connections=3) as server:
            secret = rig.open(Role.PATIENT)
            remote = LinkClient(TcpTransport("127.0.0.1", server.port), MemoryClientStore(),
                                rig.clock)
            await remote.pair("remote-1", Role.PATIENT, secret)  # an authenticated connection
            idle = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(2)]
            await asyncio.sleep(0.05)
            assert server.connections == 3
            newcomer = await asyncio.open_connection("127.0.0.1", server.port)
            await asyncio.sleep(0.05)
            assert server.evicted == 1 and server.connections == 3
            assert await idle[0][0].read() == b""  # the oldest idle one was closed
            assert await remote.send("bolus_request")  # the authenticated one was kept
            for _, writer in [*idle, newcomer]:
                writer.close()
            await remote.aclose()

    asyncio.run(main())


def test_a_connection_over_its_frame_budget_is_dropped_before_the_endpoint() -> None:
    rig = make_rig()

    async def main() -> None:
        async with TcpServer(rig.endpoint, frames_per_second=1.0, frame_burst=5) as server:
            _reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            for _ in range(100):
                writer.write(encode_prefixed(os.urandom(30)))
            await writer.drain()
            await asyncio.sleep(0.3)
            writer.close()

    asyncio.run(main())
    stats = rig.endpoint.stats
    assert stats.processed <= 6 and stats.dropped_unauthenticated >= 94
