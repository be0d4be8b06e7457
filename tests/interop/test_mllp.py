"""MLLP on loopback (real sockets, 127.0.0.1, ephemeral ports, short timeouts): a normal
exchange (AA), an AE refused with its text and not sent again, a listener that drops the
connection mid-message (retried with backoff, then accepted, or given up after the stated
tries), one that never answers (timeout), a wrong MSA-2 (refused), a garbled answer, a
refused connection, bad addresses; the frame."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from idds.interop.hl7v2 import AckCode, ack, read_ack
from idds.interop.mllp import (
    MllpClient,
    MllpError,
    MllpReason,
    MllpRefused,
    MllpUnreachable,
    frame,
    parse_address,
    read_frame,
    unframe,
)
from idds.interop.mllp_listener import MllpListener, validate
from tests.store.store_helpers import START

MESSAGE = ("MSH|^~\\&|IDDS||||20260302093000+0000||ORU^R01^ORU_R01|CTRL.1|P|2.6|||AL|NE\r"
           "PID|||MRN-1^^^IDDS^PI||Ada Example||19500517\r"
           "OBR|1||X^IDDS-PUMP|69985^MDC_DEV_PUMP_INFUS_MDS^MDC|||20260302093000+0000\r"
           "OBX|1|NM|157924^MDC_RATE_DOSE^MDC|1.1.1.4|0.35|mg/d^mg/day^UCUM|||||R")


def _client(port: int, sleeps: list[float], attempts: int = 3,
            timeout_s: float = 0.3) -> MllpClient:
    return MllpClient("127.0.0.1", port, timeout_s, attempts, 0.01, sleeps.append)


@contextmanager
def raw_listener(connection: Callable[[socket.socket, int], None]) -> Iterator[int]:
    """A misbehaving listener: `connection(sock, n)` serves its n-th connection (from 1)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.02)
    stop = threading.Event()

    def run() -> None:
        n = 0
        while not stop.is_set():
            try:
                sock, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            n += 1
            with sock:
                sock.settimeout(2)
                connection(sock, n)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        server.close()
        thread.join(timeout=3)


def _answer(sock: socket.socket, code: AckCode = AckCode.ACCEPTED,
            control: str | None = None) -> None:
    message = unframe(read_frame(sock))
    text = ack(message, code, START, "K")
    if control is not None:
        text = text.replace("|CTRL.1", f"|{control}")
    sock.sendall(frame(text))


def test_a_normal_exchange_is_accepted() -> None:
    sleeps: list[float] = []
    with MllpListener(clock=lambda: START) as listener:
        answer = _client(listener.address[1], sleeps).send(MESSAGE)
        assert (answer.code, answer.control_id) == ("AA", "CTRL.1")
        (exchange,) = listener.exchanges
        assert exchange.message == MESSAGE and read_ack(exchange.ack).code == "AA"
        assert "20260302093000+0000" in exchange.ack  # the listener's injected clock
    assert sleeps == []


def test_an_ae_is_refused_with_its_text_and_not_sent_again() -> None:
    sleeps: list[float] = []
    with MllpListener(decide=lambda m: (AckCode.ERROR, "unknown patient MRN-1")) as listener:
        with pytest.raises(MllpRefused, match=re.escape(
                "refused message CTRL.1 (AE): unknown patient MRN-1")) as caught:
            _client(listener.address[1], sleeps).send(MESSAGE)
        assert caught.value.reason is MllpReason.REFUSED
        assert len(listener.exchanges) == 1 and sleeps == []


def test_the_default_listener_answers_ae_to_what_hl7apy_cannot_validate() -> None:
    assert validate(MESSAGE) == (AckCode.ACCEPTED, None)
    code, reason = validate("MSH|^~\\&|X||||1||ZZZ^Z01|Q|P|2.6")
    assert code is AckCode.ERROR and reason
    with MllpListener() as listener:
        with pytest.raises(MllpRefused, match="AE"):
            _client(listener.address[1], []).send(MESSAGE.replace("ORU_R01|", "ORU_R9|"))
        with socket.create_connection(listener.address, 1) as sock:  # not HL7 at all
            sock.sendall(frame("hello"))
            answer = read_ack(unframe(read_frame(sock)))
        assert (answer.code, answer.control_id) == ("AR", "")
        assert "no MSH" in answer.text
        assert len(listener.exchanges) == 2


def test_a_message_holding_a_block_character_is_refused_before_sending() -> None:
    sleeps: list[float] = []
    with pytest.raises(MllpError, match="block character") as caught:
        _client(9, sleeps).send(MESSAGE + "\x1c")
    assert caught.value.reason is MllpReason.GARBLED and sleeps == []


def test_a_dropped_connection_is_retried_with_backoff_and_then_accepted() -> None:
    def serve(sock: socket.socket, n: int) -> None:
        if n == 1:
            sock.recv(10)  # part of the frame, then gone
            return
        _answer(sock)

    sleeps: list[float] = []
    with raw_listener(serve) as port:
        assert _client(port, sleeps).send(MESSAGE).code == "AA"
    assert sleeps == [0.01]


def test_a_listener_that_always_drops_fails_after_the_stated_tries() -> None:
    sleeps: list[float] = []
    with raw_listener(lambda sock, n: sock.recv(10) and None) as port, \
            pytest.raises(MllpUnreachable, match="after 3 tries") as caught:
        _client(port, sleeps).send(MESSAGE)
    assert [f.reason for f in caught.value.failures] == [MllpReason.DROPPED] * 3
    assert sleeps == [0.01, 0.02]


def test_a_listener_that_never_answers_times_out() -> None:
    done = threading.Event()
    with raw_listener(lambda sock, n: done.wait(1) and None) as port:
        with pytest.raises(MllpUnreachable, match=re.escape("within 0.2 s")) as caught:
            _client(port, [], attempts=1, timeout_s=0.2).send(MESSAGE)
        done.set()
    assert caught.value.reason is MllpReason.TIMEOUT


def test_an_ack_of_another_message_is_refused() -> None:
    with raw_listener(lambda sock, n: _answer(sock, control="OTHER.9")) as port, \
            pytest.raises(MllpRefused, match=re.escape("'OTHER.9', not the one sent")) as caught:
        _client(port, []).send(MESSAGE)
    assert caught.value.reason is MllpReason.WRONG_ID


def test_a_garbled_answer_is_retried_then_given_up() -> None:
    def serve(sock: socket.socket, n: int) -> None:
        read_frame(sock)
        sock.sendall(b"MSA|AA|CTRL.1\x1c\x0d" if n == 1 else frame("not HL7 at all"))

    with raw_listener(serve) as port, pytest.raises(MllpUnreachable) as caught:
        _client(port, [], attempts=2).send(MESSAGE)
    assert [f.reason for f in caught.value.failures] == [MllpReason.GARBLED] * 2
    assert "not one MLLP frame" in str(caught.value)


def test_a_closed_port_is_a_refused_connection() -> None:
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(MllpUnreachable, match="refused the connection") as caught:
        _client(port, [], attempts=2).send(MESSAGE)
    assert caught.value.reason is MllpReason.CONNECT


@pytest.mark.parametrize("text", ["localhost", "host:", ":2575", "host:0", "host:65536",
                                  "host:abc", "[::1]"])
def test_bad_addresses(text: str) -> None:
    with pytest.raises(MllpError, match="not HOST:PORT"):
        parse_address(text)


def test_addresses_and_frames() -> None:
    assert parse_address("127.0.0.1:2575") == ("127.0.0.1", 2575)
    assert parse_address("[::1]:2575") == ("::1", 2575)
    assert frame("A\rB") == b"\x0bA\rB\x1c\x0d"
    assert unframe(frame("A\rB")) == "A\rB"
    for bad in (b"A\x1c\x0d", b"\x0bA", b"\x0bA\x1c\x0d\x0bB\x1c\x0d"):
        with pytest.raises(MllpError, match="frame"):
            unframe(bad)
    with pytest.raises(MllpError, match="block character"):
        frame("A\x1cB")
    for bad in ({"attempts": 0}, {"attempts": 101}, {"timeout_s": 0.0},
                {"timeout_s": float("nan")}, {"timeout_s": float("inf")},
                {"backoff_s": -1.0}):
        with pytest.raises(MllpError, match="attempts must be 1 to 100"):
            MllpClient("127.0.0.1", 1, **bad)  # type: ignore[arg-type]
