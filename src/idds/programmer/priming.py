"""The programmer's priming step: what a priming bolus will push, in mg of drug, and when the
pump allows one.

A priming bolus fills an EMPTY catheter with drug (the pump pathway plus the catheter's dead
volume, ref, devices: Prometra (110 cm - trimmed length) x 0.0026 mL/cm). Given into a catheter
that already holds drug, the same volume goes into the patient (ref, devices: priming at high
rate mixed drug into the catheter, an early unintended dose, Class I recall 2013; issue 13: two
primes gave about 1.8 mg morphine each). So the pump allows one prime per event that empties
the catheter (implant, catheter revision, drug change; the command states which) and the
programmer shows the volume AND the drug mass with a caution before asking to confirm.
"""

from __future__ import annotations

from dataclasses import dataclass

from idds.drugs import DrugLibrary
from idds.programmer.plans import PlanError
from idds.programmer.status import PumpStatus
from idds.pump import PrimeReason
from idds.units import Kind, Quantity, parse_quantity

CAUTION = ("CAUTION: prime only an EMPTY catheter. A priming bolus into a catheter that already "
           "holds drug gives this dose to the patient (early unintended dose; ref, devices).")


@dataclass(frozen=True)
class PrimePlan:
    """A checked priming bolus, ready for its confirm step."""

    status: PumpStatus
    reason: PrimeReason
    volume: Quantity
    mass: Quantity

    def lines(self) -> tuple[str, ...]:
        """What the programmer shows before asking."""
        return (f"Priming bolus after {self.reason.value}: {self.volume.display('mL')} of "
                f"{self.status.drug_text} = {self.mass} of {self.status.drug} "
                "(pump pathway and catheter dead volume).", CAUTION)


def prime_reason(text: str) -> PrimeReason:
    """'implant', 'catheter revision' (or 'catheter-revision'), 'drug change' (or
    'drug-change') -> PrimeReason; PlanError otherwise."""
    wanted = text.strip().lower().replace("-", " ")
    for reason in PrimeReason:
        if reason.value == wanted:
            return reason
    raise PlanError(f"prime reason {text!r}: use implant, catheter-revision or drug-change")


def plan_prime(status: PumpStatus, reason: PrimeReason, library: DrugLibrary) -> PrimePlan:
    """Check a priming bolus against the pump's own record: refused unless the pump has drug
    and its pending catheter event is `reason`."""
    if status.drug is None or status.concentration is None:
        raise PlanError("no drug in the pump: fill it before priming")
    due = status.raw.get("prime_due")
    if due is None:
        raise PlanError("no priming bolus is due: the catheter was primed after the last "
                        "implant, catheter revision or drug change")
    if due != reason.value:
        raise PlanError(f"the catheter is not empty after a {reason.value}: the pump's last "
                        f"such event is the {due}")
    dead = status.raw.get("dead_volume")
    if not isinstance(dead, str):
        raise PlanError("the pump's answer has no dead volume: cannot show the priming dose")
    volume = parse_quantity(dead, Kind.VOLUME, what="dead volume")
    unit = library.drug(status.drug).display_unit
    return PrimePlan(status, reason, volume, (volume * status.concentration).to(unit))
