"""One-use bolus tickets: a patient bolus request must be fresh by the PUMP's clock.

The link's `expires_at` is written by the sending device from the device's own clock, so a
frame held back by an attacker (jam the pump, record the frame, release it later) is still
"unexpired" if the device's clock or TTL allows it: a bolus requested 20 s ago was given then
(issue 13). A ticket closes that without trusting any device clock:

1. the remote asks for a ticket (`bolus_ticket`); the pump draws 16 random bytes
   (`secrets`), remembers them with the time it issued them by its OWN radio timer, for that
   device only, and answers;
2. the remote sends `bolus_request` with the ticket straight away;
3. the pump gives the bolus only if the ticket is the one it issued to that device, unused,
   and at most `TICKET_VALID_S` seconds old by its own timer. Any redeem attempt spends the
   ticket (one use), a new ticket replaces the device's previous one.

A request held back longer than `TICKET_VALID_S` is refused whatever its `expires_at` says;
one held less than that is at most that late. The timer is the pump's monotonic radio timer
(wall seconds; injected), not the emulator's accelerated therapy clock: radio exchanges happen
in real time at any emulation speed. Tickets are volatile (RAM): a pump restart voids them,
which only means the patient presses again.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from idds.errors import IddsError

#: How long a ticket is valid, in seconds of the pump's own timer.
TICKET_VALID_S = 5.0
TICKET_BYTES = 16


class TicketError(IddsError):
    """A bolus request without a valid ticket (missing, unknown, used, stale, other device)."""


@dataclass(frozen=True)
class _Issued:
    ticket: str
    at: float


class BolusTickets:
    """The tickets the pump has issued, one per device. `timer` gives the pump's monotonic
    seconds; `draw` the random bytes (default `secrets.token_bytes`)."""

    def __init__(self, timer: Callable[[], float],
                 draw: Callable[[int], bytes] = secrets.token_bytes,
                 valid_s: float = TICKET_VALID_S) -> None:
        self.timer = timer
        self.draw = draw
        self.valid_s = valid_s
        self._issued: dict[str, _Issued] = {}

    def issue(self, device: str) -> str:
        """A fresh ticket for `device` (replacing its previous one), as hex text."""
        ticket = self.draw(TICKET_BYTES).hex()
        self._issued[device] = _Issued(ticket, self.timer())
        return ticket

    def redeem(self, device: str, ticket: object) -> None:
        """Spend `device`'s ticket; `TicketError` unless it is `ticket` and fresh."""
        issued = self._issued.pop(device, None)  # one use: spent whatever the outcome
        if not isinstance(ticket, str) or not ticket:
            raise TicketError("bolus request without a ticket from the pump: nothing given "
                              "(ask the pump for a ticket first)")
        if issued is None or not secrets.compare_digest(issued.ticket, ticket):
            raise TicketError("bolus ticket unknown or already used: nothing given; press "
                              "again")
        age = self.timer() - issued.at
        if not 0 <= age <= self.valid_s:
            raise TicketError(f"bolus request arrived {age:.1f} s after its ticket (more than "
                              f"{self.valid_s:g} s by the pump's clock): held back or late, "
                              "nothing given; press again")
