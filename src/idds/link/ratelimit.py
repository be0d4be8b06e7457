"""Wake-up budgets: token buckets that bound how many frames the pump processes at all.

Halperin 2008 (ref, security): repeated radio requests drain an implant's battery. Each frame is
admitted or dropped by a token bucket on the injected clock (seconds) BEFORE any cryptography,
after at most a 22-byte header peek. Four kinds of budget (docs/protocol.md, "Rate limiting"):

- **verification**, one per paired key: frames whose header names that key and whose counter is
  above its high-water mark. Forged frames naming the key spend it too, so it is sized for a
  forger at `SPOOF_TOLERANCE_PER_SECOND` plus the device's own command budget;
- **command**, one per paired key: charged only AFTER the tag verifies, so forged frames naming
  a key can never use up that device's commands;
- **shared**: everything else: garbage, unknown keys, pairing requests outside a window.

PAIR_REQUEST frames while a near-field pairing window is open are NOT charged to a bucket: any
bucket an attacker shares can be drained, which would drop the wand's genuine request; each is
examined (one HMAC, the near-field filter) and counted. Their number is bounded by the window
(60 s after a near-field event) times what the radio can carry (`pairing_frames_per_second`).

The total processed is bounded by `RateLimits.max_processed(seconds, windows)`, which
bench/bench_link_battery.py turns into the worst-case battery drain per day.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SECONDS_PER_MINUTE = 60.0
SECONDS_PER_DAY = 86400.0
#: Forged frames per second (with a burst of as many) naming one paired key that must never
#: deny that device a command sent within its command budget (issue 13: 4/s denied boluses).
SPOOF_TOLERANCE_PER_SECOND = 4.0


@dataclass(frozen=True)
class RateLimits:
    """Budgets in frames per minute (refill) and frames (burst); bounded number of pairings."""

    unauthenticated_per_minute: float = 10.0  # shared
    unauthenticated_burst: int = 10
    paired_per_minute: float = 30.0  # command budget, per key, after the tag verifies
    paired_burst: int = 10
    max_pairings: int = 4
    #: PAIR_REQUESTs per second the radio can carry at most (97-byte frames on a MICS link of
    #: about 400 kbit/s); bounds what an open window can cost, not a bucket.
    pairing_frames_per_second: float = 500.0
    verify_per_minute: float = 300.0  # per key, before the tag is checked
    verify_burst: int = 20

    def __post_init__(self) -> None:
        rates = (self.unauthenticated_per_minute, self.paired_per_minute,
                 self.pairing_frames_per_second, self.verify_per_minute)
        if min(rates) <= 0:
            raise ValueError("rates must be positive")
        bursts = (self.unauthenticated_burst, self.paired_burst, self.max_pairings,
                  self.verify_burst)
        if min(bursts) < 1:
            raise ValueError("bursts and max_pairings must be at least 1")

    def tolerates_forgery(self, per_second: float = SPOOF_TOLERANCE_PER_SECOND) -> bool:
        """True if forged frames naming a key at `per_second` (burst `per_second`) can never
        deny that device a command within its command budget: in any interval of T s the
        verification bucket admits `verify_burst + verify rate x T` frames, and forger plus
        device send at most `(f + paired_burst) + (f + paired rate) x T`."""
        verify_rate = self.verify_per_minute / SECONDS_PER_MINUTE
        device_rate = self.paired_per_minute / SECONDS_PER_MINUTE
        return (self.verify_burst >= per_second + self.paired_burst
                and verify_rate >= per_second + device_rate)

    def max_processed(self, seconds: float, windows: int = 0,
                      window_seconds: float = 60.0) -> float:
        """Upper bound on frames processed (admitted by a budget) in any interval of `seconds`
        seconds in which `windows` pairing windows of `window_seconds` were open."""
        minutes = max(seconds, 0.0) / SECONDS_PER_MINUTE
        shared = self.unauthenticated_burst + self.unauthenticated_per_minute * minutes
        verify = self.verify_burst + self.verify_per_minute * minutes
        open_seconds = min(max(windows, 0) * window_seconds, max(seconds, 0.0))
        pairing = self.pairing_frames_per_second * open_seconds
        return shared + self.max_pairings * verify + pairing

    def max_processed_per_day(self, windows: int = 0) -> int:
        """Upper bound on frames processed in one day (86 400 s) with `windows` windows."""
        return int(self.max_processed(SECONDS_PER_DAY, windows))


@dataclass
class TokenBucket:
    """`capacity` tokens, refilled at `per_second`; time in seconds of the injected clock.

    A clock that steps backwards refills nothing (it never mints tokens).
    """

    capacity: float
    per_second: float
    tokens: float
    last: float | None = None

    @classmethod
    def full(cls, capacity: int, per_minute: float) -> TokenBucket:
        """A bucket that starts full."""
        return cls(float(capacity), per_minute / SECONDS_PER_MINUTE, float(capacity))

    def take(self, now: float) -> bool:
        """Spend one token if there is one."""
        if self.last is not None and now > self.last:
            self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.per_second)
        if self.last is None or now > self.last:
            self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@dataclass(frozen=True)
class LinkStats:
    """Counts since the endpoint started (frames)."""

    processed: int  # admitted by a budget: the wake-ups that cost work (charged to the battery)
    dropped_unauthenticated: int  # dropped unprocessed: shared budget, transport
    dropped_paired: int  # dropped by a key's verification or command budget
    rejected: int  # rejected by a check (logged, aggregated by the emulator)
    delivered: int  # handed to the handler


@dataclass
class WakeBudget:
    """The buckets and counters of one endpoint."""

    limits: RateLimits
    shared: TokenBucket = field(init=False)
    verify: dict[bytes, TokenBucket] = field(default_factory=dict)
    command: dict[bytes, TokenBucket] = field(default_factory=dict)
    processed: int = 0
    dropped_unauthenticated: int = 0
    dropped_paired: int = 0
    pairing_examined: int = 0  # PAIR_REQUESTs examined during open windows

    def __post_init__(self) -> None:
        limits = self.limits
        self.shared = TokenBucket.full(limits.unauthenticated_burst,
                                       limits.unauthenticated_per_minute)

    def add_key(self, key_id: bytes) -> None:
        """Give a newly paired key its own verification and command buckets."""
        self.verify[key_id] = TokenBucket.full(self.limits.verify_burst,
                                               self.limits.verify_per_minute)
        self.command[key_id] = TokenBucket.full(self.limits.paired_burst,
                                                self.limits.paired_per_minute)

    def remove_key(self, key_id: bytes) -> None:
        """Forget an unpaired key's buckets."""
        self.verify.pop(key_id, None)
        self.command.pop(key_id, None)

    def admit_shared(self, now: float) -> bool:
        """Garbage, unknown keys, pairing requests outside a window."""
        return self._count(self.shared.take(now), paired=False)

    def admit_pairing(self) -> bool:
        """A PAIR_REQUEST while a near-field window is open: always examined (one HMAC), never
        charged to a bucket others can drain; counted as processed (charged to the battery)."""
        self.pairing_examined += 1
        return self._count(True, paired=False)

    def admit_verify(self, key_id: bytes, now: float) -> bool:
        """A frame naming a paired key, before its tag is checked."""
        return self._count(self.verify[key_id].take(now), paired=True)

    def admit_command(self, key_id: bytes, now: float) -> bool:
        """An authenticated command (already processed: only counts a drop)."""
        if self.command[key_id].take(now):
            return True
        self.dropped_paired += 1
        return False

    def _count(self, admitted: bool, *, paired: bool) -> bool:
        if admitted:
            self.processed += 1
        elif paired:
            self.dropped_paired += 1
        else:
            self.dropped_unauthenticated += 1
        return admitted
