"""The pump side of the link: admit, parse, authenticate, check freshness and role, deliver.

`PumpEndpoint.receive(data, source)` takes one received frame and returns a `Received`: the
frame to send back (or None for silence) and whether the frame authenticated (a transport
extends a connection's idle timeout only then). `handle_frame` returns just the answer.
In order (docs/protocol.md, "Processing order"):

1. admission from a 22-byte header peek, before any parsing or crypto (ref, security:
   Halperin 2008, battery drain; issue 13): a COMMAND naming a paired key with a counter at or
   below its high-water mark is dropped as REPLAYED; one above it is charged to that key's
   verification budget; a PAIR_REQUEST while a window is open to the pairing budget; anything
   else to the shared budget (`idds.link.ratelimit`);
2. strict parse (`parse_frame`); only PAIR_REQUEST and COMMAND are accepted by the pump;
3. COMMAND: known key, counter above the stored high-water mark, AEAD tag (ref, security:
   unauthenticated, replayed, reordered, truncated or bit-flipped frames deliver nothing);
4. store the new high-water mark durably, BEFORE anything acts on the command;
5. the key's command budget, charged only now, so forged frames cannot use it up;
6. expiry, then role permission (ref, security: the patient remote may only request a bolus);
7. the injected handler; its result, or any refusal, goes back encrypted.

Silence for anything that fails steps 1-3 (no transmit energy spent on garbage, no oracle); a
plaintext ERROR frame only to refuse a pairing request that proved the near-field secret (a
PAIR_REQUEST whose filter MAC fails is dropped silently and only counted). The link-level commands
`pairings` and `unpair` are answered here (`idds.link.linkcommands`). Every rejection is logged to
the injected `EventSink`. The link carries commands, it does not decide them: it never imports the
pump firmware.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from idds.errors import IddsError
from idds.link.aead import Direction, open_frame, seal_frame
from idds.link.clock import Clock
from idds.link.counters import CounterStore
from idds.link.errors import (
    AuthenticationError,
    ErrorCode,
    ExpiredError,
    FrameError,
    LinkError,
    NotPermittedError,
    PairingError,
    ProtocolError,
    ReplayError,
)
from idds.link.events import EventSink, SecurityEvent, SecurityEventKind
from idds.link.frame import (
    ZERO_KEY_ID,
    Frame,
    FrameType,
    build_frame,
    parse_frame,
    peek_key_id,
    peek_pair_request,
)
from idds.link.keys import (
    MAC_SIZE,
    Spake,
    confirmation,
    derive_keys,
    mac_ok,
    transcript_hash,
)
from idds.link.linkcommands import LinkCommands
from idds.link.messages import (
    CommandMessage,
    JsonValue,
    decode_command,
    encode_reply_ok,
    encode_reply_refused,
)
from idds.link.pairing import (
    DEFAULT_WINDOW_SECONDS,
    Hello,
    PairingWindow,
    check_identifier,
    decode_hello,
    encode_error,
    encode_hello,
)
from idds.link.pairings import PairingStore, PumpPairing
from idds.link.ratelimit import LinkStats, RateLimits, WakeBudget
from idds.link.roles import LINK_COMMANDS, Role, known, permitted, refusal

DEFAULT_MAX_LIFETIME_SECONDS = 300.0


class _Dropped(Exception):
    """An authentic command dropped by its key's command budget (silence)."""


@dataclass(frozen=True)
class CommandRequest:
    """What the handler receives: an authenticated, authorised, fresh command."""

    role: Role
    command: str
    args: dict[str, JsonValue]
    device_id: str
    key_id: bytes
    counter: int


@dataclass(frozen=True)
class Received:
    """What became of one received frame: the answer to send (None: stay silent) and whether
    the frame was authenticated progress (a verified COMMAND tag or a completed pairing)."""

    answer: bytes | None
    authenticated: bool = False


Handler = Callable[[CommandRequest], Mapping[str, JsonValue]]
"""Runs one command and returns its result (a JSON object). To refuse, raise an `IddsError`:
its message goes back to the device, encrypted, with code COMMAND_REFUSED. Any other exception
is a bug and propagates (the counter is already stored, so the frame cannot be replayed)."""


class PumpEndpoint:
    """The pump-side link endpoint. Time comes only from `clock` (seconds)."""

    def __init__(
        self,
        pump_id: str,
        handler: Handler,
        clock: Clock,
        *,
        counters: CounterStore,
        pairings: PairingStore,
        events: EventSink,
        limits: RateLimits | None = None,
        window_seconds: float = DEFAULT_WINDOW_SECONDS,
        max_lifetime_seconds: float = DEFAULT_MAX_LIFETIME_SECONDS,
    ) -> None:
        self.pump_id = check_identifier(pump_id, "pump id")
        self._handler = handler
        self._clock = clock
        self._counters = counters
        self._store = pairings
        self._events = events
        self.limits = limits if limits is not None else RateLimits()
        self.window_seconds = window_seconds
        self.max_lifetime_seconds = max_lifetime_seconds
        self._pairings = pairings.load()
        self._budget = WakeBudget(self.limits)
        for key_id in self._pairings:
            self._budget.add_key(key_id)
        self._window: PairingWindow | None = None
        self._dry: set[str] = set()  # budgets in a dry spell (RATE_LIMITED logged once)
        self._filtered = 0  # PAIR_REQUESTs dropped by the near-field filter MAC (counted only)
        self._rejected = 0
        self._delivered = 0

    # -- presence, pairings, stats -------------------------------------------------------------

    def presence(self, role: Role, secret: bytes) -> PairingWindow:
        """The wand (near-field) over the pump: open a pairing window for `role`, for the one
        device that holds `secret` (16 one-time bytes it sent over the near field; ref,
        security). Replaces any open window."""
        now = self._clock()
        self._window = PairingWindow.open(role, now, self.window_seconds, secret)
        self._log(now, "pump", SecurityEventKind.PAIRING_OPENED, ErrorCode.OK, role.label)
        return self._window

    @property
    def window(self) -> PairingWindow | None:
        """The open window; None once closed by a pairing or a failed attempt."""
        return self._window

    def window_open(self, now: float) -> bool:
        """True while a pairing window accepts requests at `now` (link-clock seconds)."""
        return self._window is not None and self._window.is_open(now)

    @property
    def filtered(self) -> int:
        """PAIR_REQUEST frames dropped because their filter MAC did not verify (no near-field
        secret): counted, never logged one by one, never answered."""
        return self._filtered

    def paired(self) -> list[PumpPairing]:
        """The pairing table, oldest first."""
        return sorted(self._pairings.values(), key=lambda p: p.paired_at)

    def unpair(self, key_id: bytes, by: str = "pump") -> PumpPairing:
        """Forget a device (its frames are then UNKNOWN_KEY); audited as UNPAIRED `by` whom."""
        pairing = self._pairings.pop(key_id, None)
        if pairing is None:
            raise LinkError(ErrorCode.UNKNOWN_KEY, key_id.hex())
        self._store.remove(key_id)
        self._counters.forget(key_id)
        self._budget.remove_key(key_id)
        self._dry -= {f"verification {key_id.hex()}", f"command {key_id.hex()}"}
        self._log(self._clock(), key_id.hex(), SecurityEventKind.UNPAIRED, ErrorCode.OK,
                  f"{pairing.device_id} ({pairing.role.label}) by {by}")
        return pairing

    @property
    def stats(self) -> LinkStats:
        """Processed / dropped / rejected / delivered frame counts."""
        return LinkStats(
            processed=self._budget.processed,
            dropped_unauthenticated=self._budget.dropped_unauthenticated,
            dropped_paired=self._budget.dropped_paired,
            rejected=self._rejected,
            delivered=self._delivered,
        )

    def report(self, source: str, code: ErrorCode, detail: str = "") -> None:
        """Log a rejection seen by a transport before a frame existed (oversized prefix,
        connection evicted or over its frame rate): REJECTED, aggregated by the sink. Input a
        transport dropped unprocessed (RATE_LIMITED) counts as dropped, not rejected."""
        if code is ErrorCode.RATE_LIMITED:
            self._budget.dropped_unauthenticated += 1
        else:
            self._rejected += 1
        self._log(self._clock(), source, SecurityEventKind.REJECTED, code, detail)

    # -- frames --------------------------------------------------------------------------------

    def handle_frame(self, data: bytes, source: str = "unknown") -> bytes | None:
        """Process one received frame; return the reply frame, or None to stay silent."""
        return self.receive(data, source).answer

    def receive(self, data: bytes, source: str = "unknown") -> Received:
        """Process one received frame: admission, parse, authenticate, deliver."""
        now = self._clock()
        if not self._admit(data, now, source):
            return Received(None)
        peer = source
        try:
            frame = parse_frame(data)
            peer = frame.header.key_id.hex() if frame.header.key_id != ZERO_KEY_ID else source
            if frame.header.type is FrameType.PAIR_REQUEST:
                answer = self._pair(frame, data, now, source)
                return Received(answer, answer is not None)
            if frame.header.type is not FrameType.COMMAND:
                raise FrameError(ErrorCode.WRONG_DIRECTION, frame.header.type.name)
            return Received(self._command(frame, now), authenticated=True)
        except PairingError as exc:
            self._rejected += 1
            unproven = exc.code in (ErrorCode.PAIRING_NOT_OPEN, ErrorCode.PAIRING_WINDOW_CLOSED)
            kind = (SecurityEventKind.PAIRING_REFUSED if unproven  # aggregated: anyone can send
                    else SecurityEventKind.PAIRING_FAILED)  # proved the near-field secret
            self._log(now, peer, kind, exc.code, exc.detail)
            return Received(build_frame(
                FrameType.ERROR, ZERO_KEY_ID, 0, encode_error(exc.code, exc.reason)
            ).encode())
        except _Dropped:
            return Received(None, authenticated=True)
        except ProtocolError as exc:
            self._rejected += 1
            self._log(now, peer, SecurityEventKind.REJECTED, exc.code, exc.detail)
            return Received(None)

    def _admit(self, data: bytes, now: float, source: str) -> bool:
        """Charge one budget from a header peek (no parsing, no crypto); False: drop."""
        claimed = peek_key_id(data)
        if claimed is not None and claimed in self._pairings:
            counter = int.from_bytes(data[12:20], "big")
            mark = self._counters.get(claimed, Direction.DEVICE_TO_PUMP)
            if counter <= mark:  # replayed or reordered: costs the peek only, no budget
                self._rejected += 1
                self._log(now, claimed.hex(), SecurityEventKind.REJECTED, ErrorCode.REPLAYED,
                          f"counter {counter}, already at {mark}")
                return False
            admitted = self._budget.admit_verify(claimed, now)
            what, peer = f"verification {claimed.hex()}", claimed.hex()
        elif peek_pair_request(data) and self.window_open(now):
            admitted, what, peer = self._budget.admit_pairing(), "pairing", source
        else:
            admitted, what, peer = self._budget.admit_shared(now), "shared", source
        self._note_budget(admitted, what, now, peer)
        return admitted

    def _note_budget(self, admitted: bool, what: str, now: float, peer: str) -> None:
        """Log RATE_LIMITED once at the start of each dry spell of a budget."""
        if admitted:
            self._dry.discard(what)
        elif what not in self._dry:
            self._dry.add(what)
            self._log(now, peer, SecurityEventKind.RATE_LIMITED, ErrorCode.RATE_LIMITED, what)

    def _command(self, frame: Frame, now: float) -> bytes:
        key_id, counter = frame.header.key_id, frame.header.counter
        pairing = self._pairings.get(key_id)
        if pairing is None:
            raise AuthenticationError(ErrorCode.UNKNOWN_KEY)
        mark = self._counters.get(key_id, Direction.DEVICE_TO_PUMP)
        if counter <= mark:
            raise ReplayError(ErrorCode.REPLAYED, f"counter {counter}, already at {mark}")
        plaintext = open_frame(pairing.receive_key, frame, pairing.binding(self.pump_id))
        # Authentic and fresh: the high-water mark is durable before anything acts on it.
        self._counters.put(key_id, Direction.DEVICE_TO_PUMP, counter)
        admitted = self._budget.admit_command(key_id, now)  # only authentic frames spend it
        self._note_budget(admitted, f"command {key_id.hex()}", now, key_id.hex())
        if not admitted:
            raise _Dropped
        try:
            message = decode_command(plaintext)
            self._authorise(pairing, message, now)
        except ProtocolError as exc:
            self._rejected += 1
            self._log(now, key_id.hex(), SecurityEventKind.REFUSED, exc.code, exc.detail)
            return self.reply(pairing, encode_reply_refused(counter, exc.code, exc.reason))
        if message.command in LINK_COMMANDS:
            self._delivered += 1
            return LinkCommands(self).run(pairing, message, counter)
        request = CommandRequest(
            pairing.role, message.command, message.args, pairing.device_id, key_id, counter
        )
        try:
            result = self._handler(request)
        except IddsError as exc:
            self._delivered += 1
            refused = encode_reply_refused(counter, ErrorCode.COMMAND_REFUSED, str(exc))
            return self.reply(pairing, refused)
        self._delivered += 1
        return self.reply(pairing, encode_reply_ok(counter, result))

    def _authorise(self, pairing: PumpPairing, message: CommandMessage, now: float) -> None:
        if now > message.expires_at:
            raise ExpiredError(
                ErrorCode.EXPIRED,
                f"the command expired {now - message.expires_at:.1f} s before it reached the "
                "pump; send it again",
            )
        if message.expires_at - now > self.max_lifetime_seconds:
            raise ExpiredError(
                ErrorCode.EXPIRY_TOO_FAR,
                f"the command says it is valid for {message.expires_at - now:.0f} s; the pump "
                f"accepts at most {self.max_lifetime_seconds:g} s (check the device clock)",
            )
        if not known(message.command):
            raise NotPermittedError(
                ErrorCode.UNKNOWN_COMMAND, f"the pump does not know the command {message.command!r}"
            )
        if not permitted(pairing.role, message.command):
            raise NotPermittedError(ErrorCode.NOT_PERMITTED, refusal(pairing.role, message.command))

    def reply(self, pairing: PumpPairing, plaintext: bytes) -> bytes:
        counter = self._counters.get(pairing.key_id, Direction.PUMP_TO_DEVICE) + 1
        self._counters.put(pairing.key_id, Direction.PUMP_TO_DEVICE, counter)
        return seal_frame(pairing.send_key, FrameType.REPLY, pairing.key_id, counter, plaintext,
                          pairing.binding(self.pump_id))

    # -- pairing -------------------------------------------------------------------------------

    def _pair(self, frame: Frame, data: bytes, now: float, source: str) -> bytes | None:
        """A PAIR_REQUEST: None (silence, counted, not logged) unless its filter MAC proves the
        near-field secret; from then on one answer, and the window closes either way."""
        window = self._window
        if window is None or not window.is_open(now):
            device, _ = decode_hello(frame.payload)  # malformed: silence
            if window is None:
                raise PairingError(ErrorCode.PAIRING_NOT_OPEN)
            window.check(device.role, now)  # raises PAIRING_WINDOW_CLOSED
        if len(frame.payload) < MAC_SIZE or not mac_ok(
            window.key, data[:-MAC_SIZE], data[-MAC_SIZE:]
        ):
            self._filtered += 1
            return None
        self._window = None  # one attempt per near-field event, whatever its outcome
        device, _ = decode_hello(frame.payload)
        window.check(device.role, now)
        same = [p for p in self._pairings.values() if p.device_id == device.identifier]
        if any(p.role is not device.role for p in same):
            raise PairingError(
                ErrorCode.PAIRING_ROLE_TAKEN,
                f"{device.identifier} is paired as a {same[0].role.label}; unpair it first "
                f"(idds program unpair {device.identifier})",
            )
        if len(self._pairings) - len(same) >= self.limits.max_pairings:
            raise PairingError(ErrorCode.PAIRING_FULL, f"at most {self.limits.max_pairings}")
        spake = Spake.pump(window.secret, device.identifier)
        shared = spake.finish(device.message)
        body = encode_hello(Hello(device.role, self.pump_id, spake.message))
        transcript = transcript_hash(data, body)
        keys = derive_keys(shared, transcript, self.pump_id, device.identifier, device.role)
        if keys.key_id in self._pairings or keys.key_id == ZERO_KEY_ID:
            raise PairingError(ErrorCode.PAIRING_FAILED, "key id collision; pair again")
        for old in same:
            self.unpair(old.key_id, by=f"re-pairing {device.identifier}")
        pairing = PumpPairing(
            keys.key_id,
            device.identifier,
            device.role,
            keys.device_to_pump,
            keys.pump_to_device,
            now,
        )
        self._store.put(pairing)
        self._pairings[keys.key_id] = pairing
        self._budget.add_key(keys.key_id)
        detail = (f"{device.identifier} as {device.role.label} from {source}; "
                  f"{self._filtered} requests without the near-field secret dropped so far")
        self._log(now, keys.key_id.hex(), SecurityEventKind.PAIRED, ErrorCode.OK, detail)
        payload = body + confirmation(keys, transcript)
        return build_frame(FrameType.PAIR_ACCEPT, keys.key_id, 0, payload).encode()

    def log(self, peer: str, kind: SecurityEventKind, code: ErrorCode, detail: str = "") -> None:
        """Record one security event now (used by the link commands)."""
        self._log(self._clock(), peer, kind, code, detail)

    def _log(
        self, now: float, peer: str, kind: SecurityEventKind, code: ErrorCode, detail: str = ""
    ) -> None:
        self._events.record(SecurityEvent(now, peer, kind, code, detail))
