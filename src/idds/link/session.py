"""The device side's protocol logic, pure and synchronous: build frames, check answers.

`start_pairing` makes a PAIR_REQUEST from the near-field secret (SPAKE2 side A and the filter
MAC); `PairingAttempt.finish` checks the pump's PAIR_ACCEPT (role, key id and key
confirmation) and yields a `ClientPairing`. `seal_command` and
`open_reply` handle one exchange; they return updated pairings that the caller must store
(`LinkClient` does). Time is passed in (link-clock seconds), never read here.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field

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
from idds.link.keys import (
    MAC_SIZE,
    Spake,
    confirmation,
    derive_keys,
    filter_key,
    request_mac,
    transcript_hash,
)
from idds.link.messages import JsonValue, ReplyMessage, decode_reply, encode_command
from idds.link.pairing import Hello, check_identifier, decode_error, decode_hello, encode_hello
from idds.link.roles import Role


@dataclass
class PairingAttempt:
    """A PAIR_REQUEST ready to send and the SPAKE2 state needed to finish it (use once)."""

    device_id: str
    role: Role
    spake: Spake = field(repr=False)
    request: bytes

    def finish(self, answer: bytes) -> ClientPairing:
        """Check the pump's answer; `RefusedError` if it refused, `PairingError` if the keys do
        not agree (wrong secret, tampered exchange, or an answer for another role)."""
        frame = parse_frame(answer)
        if frame.header.type is FrameType.ERROR:
            code, reason = decode_error(frame.payload)
            raise RefusedError(code, reason)
        if frame.header.type is not FrameType.PAIR_ACCEPT:
            raise FrameError(ErrorCode.WRONG_DIRECTION, frame.header.type.name)
        pump, confirm = decode_hello(frame.payload)
        if pump.role is not self.role:
            raise PairingError(ErrorCode.PAIRING_FAILED, "the pump answered for another role")
        transcript = transcript_hash(self.request, frame.payload[:-MAC_SIZE])
        key = self.spake.finish(pump.message)
        keys = derive_keys(key, transcript, pump.identifier, self.device_id, self.role)
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
        )


def start_pairing(device_id: str, role: Role, secret: bytes) -> PairingAttempt:
    """A PAIR_REQUEST asking to pair as `role`, keyed by the near-field `secret` (16 bytes):
    SPAKE2 side A, and the filter MAC over the header and the payload before it."""
    check_identifier(device_id, "device id")
    spake = Spake.device(secret, device_id)
    body = encode_hello(Hello(role, device_id, spake.message))
    header = build_frame(
        FrameType.PAIR_REQUEST, ZERO_KEY_ID, 0, bytes(len(body) + MAC_SIZE)
    ).header.encode()
    mac = request_mac(filter_key(secret), header + body)
    request = build_frame(FrameType.PAIR_REQUEST, ZERO_KEY_ID, 0, body + mac).encode()
    return PairingAttempt(device_id, role, spake, request)


def seal_command(
    pairing: ClientPairing, command: str, args: Mapping[str, JsonValue], expires_at: float
) -> tuple[ClientPairing, bytes]:
    """(pairing with the next send counter, COMMAND frame). Store the pairing before sending."""
    counter = pairing.send_counter + 1
    plaintext = encode_command(command, args, expires_at)
    frame = seal_frame(
        pairing.send_key, FrameType.COMMAND, pairing.key_id, counter, plaintext, pairing.binding
    )
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
    reply = decode_reply(open_frame(pairing.receive_key, frame, pairing.binding))
    if reply.re != pairing.send_counter:
        raise ProtocolError(ErrorCode.REPLAYED, f"reply to {reply.re}, sent {pairing.send_counter}")
    return pairing.advanced(receive=frame.header.counter), reply
