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
    assert stats.dropped_unauthenticated > 100
    assert sent_bad > stats.processed
