"""What the pump answers must fit one link message: the bound, and the trimming to it."""

from __future__ import annotations

from idds.errors import IddsError
from idds.link import JsonValue
from idds.link.messages import encode_json

#: Largest reply result (bytes of JSON): the sealed reply must fit one 2048-byte payload.
MAX_RESULT_BYTES = 1800

__all__ = ["MAX_RESULT_BYTES", "CommandError", "fit", "short"]


class CommandError(IddsError):
    """A command the pump refuses before the firmware sees it (wrong drug, bad arguments)."""


def short(text: str, limit: int = 110) -> str:
    """`text`, cut to `limit` characters with "..." at the end when longer."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def fit(result: dict[str, JsonValue]) -> dict[str, JsonValue]:
    """Trim the list of recent events (oldest first), then the link counters (diagnostics),
    until the result fits one link frame. The bounds of `idds.protocol.wire` (13 flex steps,
    numbers of at most 8 characters) keep the rest of an interrogation below the limit in the
    worst case (tests/emulator/test_service_atomic.py); a result that still does not fit is
    refused, and `PumpService.handle` rolls the command back."""
    while len(encode_json(result)) > MAX_RESULT_BYTES:
        events = result.get("last_events")
        if isinstance(events, list) and events:
            result = {**result, "last_events": events[1:]}
        elif "link" in result:
            result = {k: v for k, v in result.items() if k != "link"}
        else:
            raise CommandError("the pump's answer does not fit one link message")
    return result
