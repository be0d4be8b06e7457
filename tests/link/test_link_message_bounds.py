"""Every number in a decoded message is finite and bounded (issue 13, finding 6: expires_at
of 10^400 or a 1,500-digit number raised OverflowError in the connection handler)."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idds.link import ErrorCode, Role
from idds.link.errors import ProtocolError
from idds.link.messages import (
    MAX_EXPIRES_AT,
    MAX_MAGNITUDE,
    decode_command,
    decode_reply,
)
from idds.link.session import open_reply, seal_command
from tests.link.link_helpers import OPEN_LIMITS, make_rig

HUGE = "1" + "0" * 400
DIGITS_1500 = "7" * 1500


def command(expires_at: str, args: str = "{}") -> bytes:
    return f'{{"args":{args},"command":"program","expires_at":{expires_at}}}'.encode()


@pytest.mark.parametrize("data", [
    command(HUGE),
    command("-" + HUGE),
    command("1e400"),
    command("-1"),
    command(str(MAX_EXPIRES_AT + 1)),
    command("1000.0", f'{{"dose":{DIGITS_1500}}}'),
    command("1000.0", '{"dose":1e400}'),
    command("1000.0", '{"x":[1,2,{"y":-1e309}]}'),
    command("1000.0", '{"x":0.' + "1" * 100 + "}"),
])
def test_unbounded_numbers_are_malformed(data: bytes) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode_command(data)
    assert caught.value.code is ErrorCode.MALFORMED_PAYLOAD


def test_reply_numbers_are_bounded() -> None:
    for data in (b'{"ok":true,"re":' + HUGE.encode() + b',"result":{}}',
                 b'{"ok":true,"re":1,"result":{"n":' + DIGITS_1500.encode() + b"}}"):
        with pytest.raises(ProtocolError):
            decode_reply(data)
    assert decode_reply(b'{"ok":true,"re":18446744073709551615,"result":{"t":1.5e-7}}').ok


def test_ordinary_messages_still_decode() -> None:
    message = decode_command(command("1764633600.25", '{"n":3,"dose":"0.5 mg/day"}'))
    assert message.expires_at == 1764633600.25 and message.args["n"] == 3


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=4), children, max_size=4),
    max_leaves=12,
)


def _numbers(value: object) -> list[float]:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return []
    if isinstance(value, int | float):
        return [value]
    items = value.values() if isinstance(value, dict) else value
    return [n for item in items for n in _numbers(item)]  # type: ignore[union-attr]


@settings(max_examples=1500, deadline=None)
@given(json_values, st.one_of(st.integers(), st.floats()))
def test_decoded_numbers_are_finite_and_bounded(args: object, expires_at: float) -> None:
    text = json.dumps({"command": "program", "args": {"a": args}, "expires_at": expires_at})
    try:
        message = decode_command(text.encode())
    except ProtocolError as exc:
        assert exc.code is ErrorCode.MALFORMED_PAYLOAD
        return
    assert 0 <= message.expires_at <= MAX_EXPIRES_AT
    for number in _numbers(message.args):
        assert math.isfinite(number) and abs(number) <= MAX_MAGNITUDE


def test_the_endpoint_answers_a_huge_expiry_with_a_refusal_not_an_exception() -> None:
    rig = make_rig(limits=OPEN_LIMITS)
    pairing = rig.pair(Role.CLINICIAN)
    for expires_at, args in ((10**400, {}), (rig.clock() + 30, {"dose": 10**1499})):
        pairing, frame = seal_command(pairing, "interrogate", args, expires_at)  # type: ignore[arg-type]
        answer = rig.endpoint.handle_frame(frame, "test")
        assert answer is not None
        pairing, reply = open_reply(pairing, answer)
        assert not reply.ok and reply.code == ErrorCode.MALFORMED_PAYLOAD
    assert rig.handler.calls == []
