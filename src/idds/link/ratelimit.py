"""Wake-up budgets: token buckets that bound how many frames the pump processes at all.

Halperin 2008 (ref, security): repeated radio requests drain an implant's battery. Each frame is
admitted or dropped BEFORE parsing or any cryptography, by a token bucket on the injected
clock (seconds). Two kinds of budget (docs/protocol.md, "Rate limiting"):

- one bucket per paired key, for frames that name that key in the header (COMMAND frames);
- one shared bucket for everything else: pairing requests, unknown keys, garbage.

A flood of garbage, unpaired keys or pairing spam empties only the shared bucket, so paired
devices keep their own budget. The total processed is bounded by
`RateLimits.max_processed(seconds)`, which the emulator can turn into battery drain per day.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SECONDS_PER_MINUTE = 60.0
SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class RateLimits:
    """Budgets in frames per minute (refill) and frames (burst); bounded number of pairings."""

    unauthenticated_per_minute: float = 10.0
    unauthenticated_burst: int = 10
    paired_per_minute: float = 30.0
    paired_burst: int = 10
    max_pairings: int = 4

    def __post_init__(self) -> None:
        if min(self.unauthenticated_per_minute, self.paired_per_minute) <= 0:
            raise ValueError("rates must be positive")
        if min(self.unauthenticated_burst, self.paired_burst, self.max_pairings) < 1:
            raise ValueError("bursts and max_pairings must be at least 1")

    def max_processed(self, seconds: float) -> float:
        """Upper bound on frames processed (admitted) in any interval of `seconds` seconds."""
        minutes = max(seconds, 0.0) / SECONDS_PER_MINUTE
        shared = self.unauthenticated_burst + self.unauthenticated_per_minute * minutes
        paired = self.paired_burst + self.paired_per_minute * minutes
        return shared + self.max_pairings * paired

    def max_processed_per_day(self) -> int:
        """Upper bound on frames processed in one day (86 400 s)."""
        return int(self.max_processed(SECONDS_PER_DAY))


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

    processed: int  # admitted by a budget: the wake-ups that cost work
    dropped_unauthenticated: int  # dropped by the shared budget, before any parsing
    dropped_paired: int  # dropped by a paired key's budget, before any crypto
    rejected: int  # admitted, then rejected (logged)
    delivered: int  # handed to the handler


@dataclass
class WakeBudget:
    """The buckets and counters of one endpoint."""

    limits: RateLimits
    shared: TokenBucket = field(init=False)
    paired: dict[bytes, TokenBucket] = field(default_factory=dict)
    processed: int = 0
    dropped_unauthenticated: int = 0
    dropped_paired: int = 0
    pairing_examined: int = 0  # PAIR_REQUESTs admitted during open windows
    dry: set[bytes | None] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.shared = TokenBucket.full(
            self.limits.unauthenticated_burst, self.limits.unauthenticated_per_minute
        )

    def add_key(self, key_id: bytes) -> None:
        """Give a newly paired key its own bucket."""
        self.paired[key_id] = TokenBucket.full(
            self.limits.paired_burst, self.limits.paired_per_minute
        )

    def remove_key(self, key_id: bytes) -> None:
        """Forget an unpaired key's bucket."""
        self.paired.pop(key_id, None)
        self.dry.discard(key_id)

    def admit_pairing(self) -> tuple[bool, bool]:
        """A PAIR_REQUEST while a near-field window is open: always examined (one HMAC), never
        charged to the shared bucket, so others' traffic cannot starve the wand's device;
        counted as processed (charged to the battery)."""
        self.processed += 1
        self.pairing_examined += 1
        return True, False

    def admit(self, key_id: bytes | None, now: float) -> tuple[bool, bool]:
        """(admitted, newly dry): charge the key's bucket if it is paired, else the shared one."""
        bucket = self.paired.get(key_id) if key_id is not None else None
        slot = key_id if bucket is not None else None
        if bucket is None:
            bucket = self.shared
        if bucket.take(now):
            self.processed += 1
            self.dry.discard(slot)
            return True, False
        if slot is None:
            self.dropped_unauthenticated += 1
        else:
            self.dropped_paired += 1
        newly = slot not in self.dry
        self.dry.add(slot)
        return False, newly
