"""A therapy as a clinician enters it, field by field in text with units, into the pump's
exact `Therapy`: the one home of that rule for the CLI (`idds program therapy --dose ...`) and
the API (`POST .../programs/proposals`). A field that is wrong is named in the error
(`EntryError.field`), in the caller's spelling (`prefix`: "--" for the CLI, "" for the API).

    therapy_of(TherapyFields(mode="continuous", dose="1 mg/day"), prefix="--")
"""

from __future__ import annotations

from dataclasses import dataclass

from idds.errors import IddsError
from idds.protocol.wire import parse_flex
from idds.pump import Continuous, DemandBolus, Therapy
from idds.pump.program import Basal, Flex
from idds.units import Kind, Quantity, UnitError, parse_quantity

MODES = ("continuous", "flex")


class EntryError(IddsError):
    """A therapy field that is missing, extra or malformed; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class TherapyFields:
    """What the clinician typed. dose: per DAY ("1 mg/day"); flex: "HH:MM=DOSE,..." (first at
    00:00, every day); bolus: a mass ("0.1 mg"); bolus_duration and lockout: times ("10 min",
    "2 h"; the lockout counts from the start of the last bolus); max_boluses: per rolling
    24 h."""

    mode: str = "continuous"
    dose: str | None = None
    flex: str | None = None
    bolus: str | None = None
    bolus_duration: str | None = None
    lockout: str | None = None
    max_boluses: int | None = None


def therapy_of(fields: TherapyFields, prefix: str = "") -> Therapy:
    """The exact therapy the fields describe; `EntryError` naming the first wrong field."""
    return Therapy(_basal(fields, prefix), _demand(fields, prefix))


def quantity_of(text: str, kind: Kind, field: str) -> Quantity:
    """`text` as a quantity of `kind`; `EntryError` naming `field` when it is not one."""
    try:
        return parse_quantity(text, kind, field)
    except UnitError as exc:
        raise EntryError(field, str(exc)) from None


def _basal(fields: TherapyFields, prefix: str) -> Basal:
    dose, flex = f"{prefix}dose", f"{prefix}flex"
    if fields.mode == "continuous":
        if fields.dose is None or fields.flex is not None:
            raise EntryError(dose, f"continuous mode needs {dose} (and no {flex})")
        return Continuous(quantity_of(fields.dose, Kind.DOSE_RATE, dose))
    if fields.mode == "flex":
        if fields.flex is None or fields.dose is not None:
            raise EntryError(flex, f'flex mode needs {flex} "HH:MM=DOSE,..." (and no {dose})')
        try:
            return parse_flex(fields.flex)
        except IddsError as exc:
            raise EntryError(flex, str(exc)) from None
    raise EntryError(f"{prefix}mode", f"{prefix}mode {fields.mode!r}: use continuous or flex")


def _demand(fields: TherapyFields, prefix: str) -> DemandBolus | None:
    given = {"bolus": fields.bolus, "bolus_duration": fields.bolus_duration,
             "lockout": fields.lockout, "max_boluses": fields.max_boluses}
    if all(v is None for v in given.values()):
        return None
    spelt = {k: prefix + (k.replace("_", "-") if prefix == "--" else k) for k in given}
    missing = [spelt[k] for k, v in given.items() if v is None]
    if missing:
        *first, last = spelt.values()
        raise EntryError(missing[0], f"patient boluses need all of {', '.join(first)} and "
                         f"{last}")
    assert fields.bolus is not None and fields.bolus_duration is not None
    assert fields.lockout is not None and fields.max_boluses is not None
    return DemandBolus(
        quantity_of(fields.bolus, Kind.MASS, spelt["bolus"]),
        quantity_of(fields.bolus_duration, Kind.TIME, spelt["bolus_duration"]),
        quantity_of(fields.lockout, Kind.TIME, spelt["lockout"]),
        fields.max_boluses)


def fields_of(therapy: Therapy) -> dict[str, str]:
    """The entry fields that describe `therapy` (`therapy_of` reads them back to it): what a
    recommendation fills a programming form with. A weekly flex schedule has no daily form:
    `EntryError`."""
    basal = therapy.basal
    out = {"mode": basal.mode.value}
    if isinstance(basal, Continuous):
        out["dose"] = str(basal.dose_rate)
    elif isinstance(basal, Flex):
        if len(basal.days) != 1:
            raise EntryError("flex", "a weekly flex schedule has no daily entry form")
        out["flex"] = ",".join(f"{s.start_minute // 60:02d}:{s.start_minute % 60:02d}="
                               f"{s.dose_rate}" for s in basal.days[0])
    demand = therapy.demand
    if demand is not None:
        out.update(bolus=str(demand.dose), bolus_duration=str(demand.duration),
                   lockout=str(demand.lockout), max_boluses=str(demand.max_per_24h))
    return out
