"""Issue 13, finding 1: "nothing limits repeated primes" (two primes gave about 1.8 mg
morphine each). The firmware allows one priming bolus per event that leaves the catheter
without drug (implant, catheter revision, drug change), and only for the event stated."""

from __future__ import annotations

import pytest

from idds.pump import Drug, EventKind, Limit, PrimeReason, Refusal
from idds.units import Quantity
from tests.pump.pump_helpers import MORPHINE, q, running_pump


def test_a_second_prime_after_implant_is_refused() -> None:
    pump = running_pump()  # implanted, filled, primed once
    assert pump.state.prime_due is None
    with pytest.raises(Refusal, match="no priming bolus is due") as err:
        pump.priming_bolus(PrimeReason.IMPLANT)
    assert err.value.limit is Limit.PRIME_NOT_DUE
    assert pump.log.entries[-1].kind is EventKind.BOLUS_REFUSED


def test_a_prime_for_another_event_than_the_pumps_is_refused() -> None:
    pump = running_pump()
    pump.advance(pump.now + 3600)
    pump.replace_catheter(40)
    assert pump.state.prime_due is PrimeReason.CATHETER_REVISION
    with pytest.raises(Refusal, match="not empty after a drug change"):
        pump.priming_bolus(PrimeReason.DRUG_CHANGE)
    run = pump.priming_bolus(PrimeReason.CATHETER_REVISION)
    assert run.mass_ng == run.volume_nl * 10  # 10 mg/mL is 10 ng per nL
    pump.advance(run.ends)
    with pytest.raises(Refusal):
        pump.priming_bolus(PrimeReason.CATHETER_REVISION)


def test_a_drug_change_opens_one_prime_a_concentration_change_does_not() -> None:
    pump = running_pump()
    pump.advance(pump.now + 3600)
    pump.refill(q("20 mL"), Drug("morphine", Quantity.of(20, "mg/mL")))
    assert pump.state.prime_due is None  # same drug: the bridge bolus, not a prime
    pump.refill(q("20 mL"), Drug("hydromorphone", Quantity.of(2, "mg/mL")))
    assert pump.state.prime_due is PrimeReason.DRUG_CHANGE
    pump.priming_bolus(PrimeReason.DRUG_CHANGE)
    assert pump.state.prime_due is None


def test_the_pending_prime_survives_power_loss() -> None:
    from idds.pump import Pump, power_loss

    pump = Pump.implant()
    pump.refill(q("20 mL"), MORPHINE)
    again = power_loss(pump)
    assert again.state.prime_due is PrimeReason.IMPLANT
