"""The command vocabulary between the programmer (or remote) and the pump, as JSON.

Quantities travel as text with their unit ("0.5 mg/day", "10 mg/mL"), parsed on arrival
through the unit allow-list (docs/design.md principle 1), so a per-hour rate can never be read as a
per-day one. A therapy is:

    {"mode": "continuous", "dose": "0.5 mg/day",
     "demand": {"dose": "0.1 mg", "duration": "10 min", "lockout": "2 h", "max_per_24h": 4}}
    {"mode": "flex", "steps": [["00:00", "0.4 mg/day"], ["08:00", "0.6 mg/day"]], ...}
    {"mode": "stopped"} / {"mode": "minimum rate"}

Both the programmer (to send) and the pump emulator (to receive) use these functions, and they
are the pump's own therapy record (`idds.pump.records`, which the pump's log also uses): one
truth for the format. The link carries daily flex schedules only. Anything malformed raises
`WireError` (an `IddsError`, one line).
"""

from __future__ import annotations

from typing import Any

from idds.errors import IddsError
from idds.link import JsonValue
from idds.pump import LIMITS, Continuous, Flex, FlexStep, Therapy, records
from idds.pump.records import RecordError
from idds.units import Kind, Quantity, parse_quantity


class WireError(IddsError):
    """A command argument that is missing or malformed."""


#: The most characters the number of a quantity may have on the link ("0.012345", "12345678"):
#: with the flex step count (`LIMITS.max_flex_steps`, 13) it bounds every answer that echoes a
#: therapy or drug, so `interrogate` always fits one link message (issue 13: a 13-step
#: program with long decimals made every later interrogation fail).
MAX_NUMBER_CHARS = 8
#: The largest whole-number count (boluses per 24 h) the link carries.
MAX_COUNT = 999


def bounded(value: Quantity, what: str) -> Quantity:
    """`value` when its number, as the pump will store and echo it, has at most
    `MAX_NUMBER_CHARS` characters; `WireError` otherwise (refused, never rounded)."""
    number = str(value).split(" ", 1)[0]
    if len(number) > MAX_NUMBER_CHARS:
        raise WireError(f"{what} {number[:24]}{'...' if len(number) > 24 else ''} has more "
                        f"than {MAX_NUMBER_CHARS} characters: give it with fewer digits "
                        "(like 0.1235)")
    return value


def text_arg(args: dict[str, Any], name: str) -> str:
    """A required text argument (the records' own rule, `records.text_field`)."""
    try:
        return records.text_field(args, name)
    except RecordError as exc:
        raise WireError(str(exc)) from None


def quantity_arg(args: dict[str, Any], name: str, kind: Kind) -> Quantity:
    """A required quantity argument of `kind`, written as text with its unit, its number
    bounded (`bounded`)."""
    what = name.replace("_", " ")
    return bounded(parse_quantity(text_arg(args, name), kind, what=what), what)


def parse_flex(text: str) -> Flex:
    """'HH:MM=DOSE,HH:MM=DOSE,...' (every day; the first step at 00:00) -> Flex.

    Each DOSE is a dose rate with its unit ("0.5 mg/day"); a per-hour rate is accepted as what
    it says (the drug library's size-of-change check is what catches a slip)."""
    steps: list[FlexStep] = []
    for part in text.split(","):
        if "=" not in part:
            raise WireError(f"flex step {part.strip()!r} is not HH:MM=DOSE (like 08:00=1 mg/day)")
        clock, dose = part.split("=", 1)
        try:
            steps.append(records.flex_step(clock, dose))
        except RecordError as exc:
            raise WireError(str(exc)) from None
    return Flex((tuple(steps),))


def therapy_to_json(therapy: Therapy) -> dict[str, JsonValue]:
    """A therapy as wire JSON (quantities as text): the pump's therapy record
    (`idds.pump.records.therapy_record`), daily flex schedules only."""
    basal = therapy.basal
    if isinstance(basal, Flex) and len(basal.days) != 1:
        raise WireError("weekly flex schedules are not carried by the link (daily only)")
    return records.therapy_record(therapy)


def therapy_from_json(value: Any) -> Therapy:
    """Wire JSON -> Therapy (`idds.pump.records.therapy_from_record`, daily flex schedules
    only); `WireError` (or a unit error) for anything malformed."""
    if isinstance(value, dict) and "days" in value:
        raise WireError("weekly flex schedules are not carried by the link (daily only)")
    if isinstance(value, dict) and isinstance(value.get("steps"), list) and \
            len(value["steps"]) > LIMITS.max_flex_steps:
        raise WireError(f"a flex schedule has at most {LIMITS.max_flex_steps} steps a day, "
                        f"not {len(value['steps'])}")
    try:
        therapy = records.therapy_from_record(value)
    except RecordError as exc:
        raise WireError(str(exc)) from None
    basal, demand = therapy.basal, therapy.demand
    if isinstance(basal, Continuous):
        bounded(basal.dose_rate, "dose")
    if isinstance(basal, Flex):
        for step in basal.days[0]:
            bounded(step.dose_rate, "flex dose")
    if demand is not None:
        for what, quantity in (("bolus dose", demand.dose), ("bolus duration", demand.duration),
                               ("lockout", demand.lockout)):
            bounded(quantity, what)
        if not 0 <= demand.max_per_24h <= MAX_COUNT:
            raise WireError(f"boluses per 24 h {demand.max_per_24h} outside 0 to {MAX_COUNT}")
    return therapy


def daily_dose(therapy: Therapy, unit: str = "mg/day") -> Quantity | None:
    """The basal dose delivered per day (mass/day, shown in `unit`): the continuous rate, or
    the time-weighted mean of a daily flex schedule. None when stopped or at minimum rate (no
    dose set; the flow is the device minimum)."""
    basal = therapy.basal
    if isinstance(basal, Continuous):
        return basal.dose_rate.to(unit)
    if isinstance(basal, Flex):
        if len(basal.days) != 1:
            raise WireError("a weekly flex schedule has no single daily dose: program a daily "
                            "schedule")
        return basal.mean_dose_rate(unit)
    return None


def highest_rate(therapy: Therapy, unit: str = "mg/day") -> Quantity | None:
    """The highest basal dose rate anywhere in the schedule (a flex step's peak)."""
    basal = therapy.basal
    if isinstance(basal, Continuous):
        return basal.dose_rate.to(unit)
    if isinstance(basal, Flex):
        return max(s.dose_rate for day in basal.days for s in day).to(unit)
    return None
