"""The commands the link endpoint answers itself: `pairings` (list) and `unpair` (revoke).

The endpoint owns the pairing table, so these never reach the pump's handler. Both are
clinician only (`roles.PERMISSIONS`; a patient remote gets NOT_PERMITTED before this runs).
`unpair` takes `{"device": DEVICE_ID_OR_KEY_ID_HEX}` and removes every pairing that matches;
each removal is an UNPAIRED security event naming who removed it (the emulator also writes
it into the pump's own log; the programmer writes it into its device log). A programmer may
unpair itself: its reply is sealed before its own key is removed, and sent after.
ref, security: "there is no unpair" was a finding; revocation is audited on both sides.
"""

from __future__ import annotations

from typing import Protocol

from idds.link.errors import ErrorCode
from idds.link.events import SecurityEventKind
from idds.link.messages import CommandMessage, JsonValue, encode_reply_ok, encode_reply_refused
from idds.link.pairings import PumpPairing


class PairingTable(Protocol):
    """What the link commands need from the endpoint."""

    pump_id: str

    def paired(self) -> list[PumpPairing]:
        """The pairings, oldest first."""

    def unpair(self, key_id: bytes, by: str = "pump") -> PumpPairing:
        """Remove one pairing durably (audited)."""

    def reply(self, pairing: PumpPairing, plaintext: bytes) -> bytes:
        """Seal a REPLY to `pairing` (its counter stored first)."""

    def log(self, peer: str, kind: SecurityEventKind, code: ErrorCode, detail: str = "") -> None:
        """Record one security event."""


def summary(pairing: PumpPairing) -> dict[str, JsonValue]:
    """What `pairings` shows of one pairing (never a key)."""
    return {"key_id": pairing.key_id.hex(), "device_id": pairing.device_id,
            "role": pairing.role.name.lower(), "paired_at": pairing.paired_at}


class LinkCommands:
    """Runs one link-level command for an authenticated, authorised clinician pairing."""

    def __init__(self, table: PairingTable) -> None:
        self.table = table

    def run(self, sender: PumpPairing, message: CommandMessage, counter: int) -> bytes:
        """The sealed REPLY frame to `message` (sent with `counter`) from `sender`."""
        if message.command == "pairings":
            listed: list[JsonValue] = [summary(p) for p in self.table.paired()]
            return self.table.reply(sender, encode_reply_ok(counter, {"pairings": listed}))
        return self._unpair(sender, message, counter)

    def _unpair(self, sender: PumpPairing, message: CommandMessage, counter: int) -> bytes:
        target = message.args.get("device")
        if not isinstance(target, str) or set(message.args) != {"device"}:
            return self._refuse(sender, counter, 'unpair needs {"device": device id or key id}')
        matches = [p for p in self.table.paired()
                   if target in (p.device_id, p.key_id.hex())]
        if not matches:
            return self._refuse(sender, counter, f"no pairing for {target!r} on this pump")
        by = f"{sender.device_id} ({sender.role.label})"
        for pairing in matches:
            if pairing.key_id != sender.key_id:
                self.table.unpair(pairing.key_id, by=by)
        result: dict[str, JsonValue] = {"unpaired": [summary(p) for p in matches]}
        answer = self.table.reply(sender, encode_reply_ok(counter, result))
        if any(p.key_id == sender.key_id for p in matches):
            self.table.unpair(sender.key_id, by=by)  # durable before the reply leaves
        return answer

    def _refuse(self, sender: PumpPairing, counter: int, reason: str) -> bytes:
        self.table.log(sender.key_id.hex(), SecurityEventKind.REFUSED,
                       ErrorCode.COMMAND_REFUSED, reason)
        refused = encode_reply_refused(counter, ErrorCode.COMMAND_REFUSED, reason)
        return self.table.reply(sender, refused)
