"""The device side's protocol logic, pure and synchronous: build frames, check answers.

`start_pairing` makes a PAIR_REQUEST; `PairingAttempt.finish` checks the pump's PAIR_ACCEPT
(role, key id and key confirmation) and yields a `ClientPairing`. `seal_command` and
`open_reply` handle one exchange; they return updated pairings that the caller must store
(`LinkClient` does). Time is passed in (link-clock seconds), never read here.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from idds.link.aead import open_frame, seal_frame
from idds.link.clientstore import ClientPairing
from idds.link.errors import (
    AuthenticationError,
    ErrorCode,
    FrameError,
    PairingError,
    ProtocolError,
    RefusedError,
    ReplayError,
)
from idds.link.frame import ZERO_KEY_ID, FrameType, build_frame, parse_frame
from idds.link.keys import confirmation, derive_keys, public_bytes, transcript_hash
from idds.link.messages import JsonValue, ReplyMessage, decode_reply, encode_command
from idds.link.pairing import Hello, check_identifier, decode_accept, decode_error, encode_hello
from idds.link.roles import Role


@dataclass(frozen=True)
class PairingAttempt:
    """A sent PAIR_REQUEST and the private key needed to finish it."""

    device_id: str
    role: Role
    private: X25519PrivateKey
    request: bytes

    def finish(self, answer: bytes) -> ClientPairing:
        """Check the pump's answer; `RefusedError` if it refused, `PairingError` if it lies."""
        frame = parse_frame(answer)
        if frame.header.type is FrameType.ERROR:
            code, reason = decode_error(frame.payload)
            raise RefusedError(code, reason)
        if frame.header.type is not FrameType.PAIR_ACCEPT:
            raise FrameError(ErrorCode.WRONG_DIRECTION, frame.header.type.name)
        pump, confirm = decode_accept(frame.payload)
        if pump.role is not self.role:
            raise PairingError(ErrorCode.PAIRING_FAILED, "the pump answered for another role")
        transcript = transcript_hash(self.request, pump.role, pump.public, pump.identifier)
        keys = derive_keys(
            self.private, pump.public, transcript, pump.identifier, self.device_id, self.role
        )
        if not hmac.compare_digest(confirmation(keys, transcript), confirm) or (
            keys.key_id != frame.header.key_id
        ):
            raise PairingError(ErrorCode.PAIRING_FAILED, "key confirmation did not verify")
        return ClientPairing(
            pump.identifier,
            self.device_id,
            self.role,
            keys.key_id,
            keys.device_to_pump,
            keys.pump_to_device,
            keys.code,
        )


def start_pairing(
    device_id: str,
    role: Role,
    keygen: Callable[[], X25519PrivateKey] = X25519PrivateKey.generate,
) -> PairingAttempt:
    """A fresh X25519 key and the PAIR_REQUEST frame asking to pair as `role`."""
    check_identifier(device_id, "device id")
    private = keygen()
    payload = encode_hello(Hello(role, public_bytes(private), device_id))
    request = build_frame(FrameType.PAIR_REQUEST, ZERO_KEY_ID, 0, payload).encode()
    return PairingAttempt(device_id, role, private, request)


def seal_command(
    pairing: ClientPairing, command: str, args: Mapping[str, JsonValue], expires_at: float
) -> tuple[ClientPairing, bytes]:
    """(pairing with the next send counter, COMMAND frame). Store the pairing before sending."""
    counter = pairing.send_counter + 1
    plaintext = encode_command(command, args, expires_at)
    frame = seal_frame(pairing.send_key, FrameType.COMMAND, pairing.key_id, counter, plaintext)
    return pairing.advanced(send=counter), frame


def open_reply(pairing: ClientPairing, answer: bytes) -> tuple[ClientPairing, ReplyMessage]:
    """Check and decrypt the REPLY to the last command; return the advanced pairing and reply."""
    frame = parse_frame(answer)
    if frame.header.type is not FrameType.REPLY:
        raise FrameError(ErrorCode.WRONG_DIRECTION, frame.header.type.name)
    if frame.header.key_id != pairing.key_id:
        raise AuthenticationError(ErrorCode.UNKNOWN_KEY, "reply names another pairing")
    if frame.header.counter <= pairing.receive_counter:
        raise ReplayError(ErrorCode.REPLAYED, "reply counter went backwards")
    reply = decode_reply(open_frame(pairing.receive_key, frame))
    if reply.re != pairing.send_counter:
        raise ProtocolError(ErrorCode.REPLAYED, f"reply to {reply.re}, sent {pairing.send_counter}")
    return pairing.advanced(receive=frame.header.counter), reply
