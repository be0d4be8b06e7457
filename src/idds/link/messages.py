"""What sealed frames carry: a command or a reply, as strict compact JSON (UTF-8).

Command: {"command": NAME, "args": {...}, "expires_at": SECONDS}
Reply:   {"re": COUNTER, "ok": true, "result": {...}}
      or {"re": COUNTER, "ok": false, "code": CODE, "reason": TEXT}

`expires_at` is in seconds of the link clock the pump was given (the emulator uses wall-clock
time, tests a fake clock). `re` is the counter of the command answered, so a reply cannot be
matched to the wrong command. Decoding is strict: unknown or missing keys, wrong types,
non-finite numbers or over-deep nesting raise `ProtocolError(MALFORMED_PAYLOAD)`.

Every number anywhere in a message is bounded as it is read, before any arithmetic: an
integer has at most `MAX_INT_DIGITS` (20) digits and lies within +/-2^64 (a frame counter is
a uint64); a number with a point or an exponent has at most `MAX_FLOAT_TEXT` (32) characters
and is a finite float within +/-2^64; `expires_at` lies within 0 to `MAX_EXPIRES_AT` (2^53 s).
So `expires_at` of 10^400 or an argument of 1,500 digits is MALFORMED_PAYLOAD, never an
OverflowError in the connection handler.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from idds.link.errors import ErrorCode, ProtocolError

JsonValue: TypeAlias = bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"] | None
COMMAND_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
MAX_DEPTH = 16
#: Most digits of an integer in a message (2^64 has 20).
MAX_INT_DIGITS = 20
#: Longest text of a number with a fraction or an exponent (a float's repr is at most 24).
MAX_FLOAT_TEXT = 32
#: Largest magnitude of any number in a message.
MAX_MAGNITUDE = 2**64
#: Latest `expires_at` accepted, in link-clock seconds (2^53: exact in a float).
MAX_EXPIRES_AT = 2**53


@dataclass(frozen=True)
class CommandMessage:
    """A decoded command: name, arguments, expiry (link-clock seconds)."""

    command: str
    args: dict[str, JsonValue]
    expires_at: float


@dataclass(frozen=True)
class ReplyMessage:
    """A decoded reply to the command whose counter is `re`."""

    re: int
    ok: bool
    result: dict[str, JsonValue]
    code: int
    reason: str


def _malformed(detail: str) -> ProtocolError:
    return ProtocolError(ErrorCode.MALFORMED_PAYLOAD, detail)


def _reject_constant(name: str) -> Any:
    raise _malformed(f"{name} is not a number")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _malformed(f"an integer of {len(text)} characters (at most {MAX_INT_DIGITS} digits)")
    value = int(text)
    if abs(value) > MAX_MAGNITUDE:
        raise _malformed("an integer beyond 2^64")
    return value


def _bounded_float(text: str) -> float:
    if len(text) > MAX_FLOAT_TEXT:
        raise _malformed(f"a number of {len(text)} characters (at most {MAX_FLOAT_TEXT})")
    value = float(text)
    if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
        raise _malformed("a number beyond 2^64")
    return value


def _depth(value: object, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max([_depth(v, level + 1) for v in value.values()], default=level + 1)
    if isinstance(value, list):
        return max([_depth(v, level + 1) for v in value], default=level + 1)
    return level


def encode_json(value: Mapping[str, JsonValue]) -> bytes:
    """Compact, sorted-key JSON; refuses NaN and infinities (ValueError is a caller bug)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def _decode_object(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=_reject_constant,
                           parse_int=_bounded_int, parse_float=_bounded_float)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise _malformed(type(exc).__name__) from None
    if not isinstance(value, dict):
        raise _malformed("not a JSON object")
    if _depth(value) > MAX_DEPTH:
        raise _malformed(f"nested deeper than {MAX_DEPTH}")
    return value


def _number(value: object, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _malformed(f"{name} is not a number")
    if not low <= value <= high:  # both bounded at decoding: no overflow here
        raise _malformed(f"{name} outside {low:g} to {high:g}")
    return float(value)


def _keys(value: dict[str, Any], expected: set[str]) -> None:
    if set(value) != expected:
        raise _malformed(f"fields {sorted(value)}, expected {sorted(expected)}")


def encode_command(command: str, args: Mapping[str, JsonValue], expires_at: float) -> bytes:
    """The plaintext of a COMMAND frame."""
    if not COMMAND_NAME.fullmatch(command):
        raise ValueError(f"command name {command!r} is not lower_snake_case (max 32)")
    return encode_json({"command": command, "args": dict(args), "expires_at": expires_at})


def decode_command(data: bytes) -> CommandMessage:
    """Parse a COMMAND plaintext strictly."""
    value = _decode_object(data)
    _keys(value, {"command", "args", "expires_at"})
    command, args = value["command"], value["args"]
    if not isinstance(command, str) or not COMMAND_NAME.fullmatch(command):
        raise _malformed("command name")
    if not isinstance(args, dict):
        raise _malformed("args is not an object")
    expires_at = _number(value["expires_at"], "expires_at", 0, MAX_EXPIRES_AT)
    return CommandMessage(command, args, expires_at)


def encode_reply_ok(re: int, result: Mapping[str, JsonValue]) -> bytes:
    """The plaintext of a REPLY carrying the handler's result."""
    return encode_json({"re": re, "ok": True, "result": dict(result)})


def encode_reply_refused(re: int, code: ErrorCode, reason: str) -> bytes:
    """The plaintext of a REPLY refusing the command (encrypted like any reply)."""
    return encode_json({"re": re, "ok": False, "code": int(code), "reason": reason})


def decode_reply(data: bytes) -> ReplyMessage:
    """Parse a REPLY plaintext strictly."""
    value = _decode_object(data)
    re_, ok = value.get("re"), value.get("ok")
    if isinstance(re_, bool) or not isinstance(re_, int) or not isinstance(ok, bool):
        raise _malformed("re/ok")
    if ok:
        _keys(value, {"re", "ok", "result"})
        if not isinstance(value["result"], dict):
            raise _malformed("result is not an object")
        return ReplyMessage(re_, True, value["result"], int(ErrorCode.OK), "")
    _keys(value, {"re", "ok", "code", "reason"})
    code, reason = value["code"], value["reason"]
    if isinstance(code, bool) or not isinstance(code, int) or not isinstance(reason, str):
        raise _malformed("code/reason")
    if code not in ErrorCode._value2member_map_ or code == ErrorCode.OK:
        raise _malformed(f"refusal code {code}")
    return ReplyMessage(re_, False, {}, code, reason)
