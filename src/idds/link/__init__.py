"""The secure link between the implanted pump and its programmer and patient remote.

Framing, authenticated encryption (ChaCha20-Poly1305, pump id, device id and role bound into the
associated data), pairing that needs the near-field channel (a one-time secret from the wand,
SPAKE2 + HKDF-SHA-256), roles, link-level `pairings` / `unpair`, replay protection with durable
counters, wake-up rate limiting, and transports (in memory, TCP on loopback). It carries commands;
it does not decide them: the pump side hands each authenticated, authorised, fresh command to an
injected handler.
The wire protocol is specified in docs/protocol.md; the threats it answers are in
docs/references.md (security).
"""

from idds.link.client import LinkClient
from idds.link.clientstore import ClientPairing, ClientStore, FileClientStore, MemoryClientStore
from idds.link.clock import Clock
from idds.link.counters import CounterStore, FileCounterStore, MemoryCounterStore
from idds.link.endpoint import CommandRequest, Handler, PumpEndpoint, Received
from idds.link.errors import (
    AuthenticationError,
    ErrorCode,
    ExpiredError,
    FrameError,
    LinkError,
    NotPermittedError,
    PairingError,
    ProtocolError,
    RefusedError,
    ReplayError,
    TransportError,
)
from idds.link.events import (
    AggregatingSink,
    EventSink,
    MemoryEventSink,
    SecurityEvent,
    SecurityEventKind,
)
from idds.link.frame import MAX_FRAME, MAX_PAYLOAD, Frame, FrameType, Header, parse_frame
from idds.link.messages import JsonValue
from idds.link.pairing import PairingWindow
from idds.link.pairings import FilePairingStore, MemoryPairingStore, PairingStore, PumpPairing
from idds.link.ratelimit import LinkStats, RateLimits
from idds.link.roles import PERMISSIONS, Role
from idds.link.tcp import TcpServer, TcpTransport
from idds.link.transport import MemoryTransport, Transport

__all__ = [
    "MAX_FRAME",
    "MAX_PAYLOAD",
    "PERMISSIONS",
    "AggregatingSink",
    "AuthenticationError",
    "ClientPairing",
    "ClientStore",
    "Clock",
    "CommandRequest",
    "CounterStore",
    "ErrorCode",
    "EventSink",
    "ExpiredError",
    "FileClientStore",
    "FileCounterStore",
    "FilePairingStore",
    "Frame",
    "FrameError",
    "FrameType",
    "Handler",
    "Header",
    "JsonValue",
    "LinkClient",
    "LinkError",
    "LinkStats",
    "MemoryClientStore",
    "MemoryCounterStore",
    "MemoryEventSink",
    "MemoryPairingStore",
    "MemoryTransport",
    "NotPermittedError",
    "PairingError",
    "PairingStore",
    "PairingWindow",
    "ProtocolError",
    "PumpEndpoint",
    "PumpPairing",
    "RateLimits",
    "Received",
    "RefusedError",
    "ReplayError",
    "Role",
    "SecurityEvent",
    "SecurityEventKind",
    "TcpServer",
    "TcpTransport",
    "Transport",
    "TransportError",
    "parse_frame",
]
