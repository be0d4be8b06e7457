"""Issue 13, finding 6 (in process): a bolus request is given only with a fresh, unused ticket
the pump issued to that device, by the pump's own timer."""

from __future__ import annotations

import pytest

from idds.emulator.tickets import TICKET_VALID_S, BolusTickets, TicketError


class Timer:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_fresh_ticket_is_accepted_once() -> None:
    timer = Timer()
    tickets = BolusTickets(timer)
    ticket = tickets.issue("remote-1")
    timer.now += TICKET_VALID_S
    tickets.redeem("remote-1", ticket)
    with pytest.raises(TicketError, match="unknown or already used"):
        tickets.redeem("remote-1", ticket)


def test_a_held_back_request_is_refused_whatever_the_device_clock_says() -> None:
    timer = Timer()
    tickets = BolusTickets(timer)
    ticket = tickets.issue("remote-1")
    timer.now += 20
    with pytest.raises(TicketError, match=r"20\.0 s after its ticket"):
        tickets.redeem("remote-1", ticket)


@pytest.mark.parametrize("ticket", [None, "", 7, "00" * 16])
def test_no_ticket_or_a_wrong_one_is_refused(ticket: object) -> None:
    tickets = BolusTickets(Timer())
    tickets.issue("remote-1")
    with pytest.raises(TicketError):
        tickets.redeem("remote-1", ticket)


def test_a_ticket_is_bound_to_its_device_and_replaced_by_the_next() -> None:
    tickets = BolusTickets(Timer())
    first = tickets.issue("remote-1")
    with pytest.raises(TicketError):
        tickets.redeem("programmer-1", first)
    first = tickets.issue("remote-1")
    second = tickets.issue("remote-1")
    with pytest.raises(TicketError):
        tickets.redeem("remote-1", first)
    tickets.issue("remote-1")
    assert second
