"""What an interrogation tells the programmer, parsed from the pump's answer.

Quantities arrive as text with units and are parsed through the allow-list; the therapy in
wire form (`idds.protocol.wire`). Anything malformed raises `WireError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from idds.protocol.wire import WireError, therapy_from_json
from idds.pump import ALARM_SPECS, AlarmKind, Therapy
from idds.pump.clock import format_clock
from idds.units import Kind, Quantity, parse_quantity


@dataclass(frozen=True)
class PumpStatus:
    """One interrogation. Volumes are Quantities; `refill_due_in_days` is days (float)."""

    pump_id: str
    time: str
    drug: str | None
    concentration: Quantity | None
    therapy: Therapy
    therapy_text: str
    therapy_drug: str | None
    confirmed: bool
    infusing: bool
    flow: str
    dose_rate: str
    bolus: str | None
    reservoir_estimate: Quantity
    reservoir_capacity: Quantity
    low_reservoir_alarm: Quantity
    pumped_since_fill: Quantity
    refill_due_in_days: float | None
    battery: str
    battery_eri_in_days: float
    radio_wakeups: int
    alarms: tuple[str, ...]
    last_events: tuple[str, ...]
    log_head: str
    log_length: int
    raw: dict[str, Any]
    #: The programmer's anchor finding (a truncated, rewritten or rolled-back log), or None.
    log_warning: str | None = None
    #: Time since the pump last raised the dose (whole seconds, rounded down, so never more
    #: than the pump's own figure); None: never raised, or an older pump that does not say.
    since_last_increase: Quantity | None = None
    #: The calendar moment of the pump's time 0 (None: a pump without a calendar).
    clock_epoch: datetime | None = None
    #: The kinds of the active alarms, as the pump names them ("low reservoir").
    alarm_kinds: tuple[str, ...] = ()

    @property
    def drug_text(self) -> str:
        """'morphine 10 mg/mL', or 'none'."""
        return f"{self.drug} {self.concentration}" if self.drug else "none"


def _volume(raw: dict[str, Any], name: str) -> Quantity:
    value = raw.get(name)
    if not isinstance(value, str):
        raise WireError(f"the pump's answer has no {name}")
    return parse_quantity(value, Kind.VOLUME, what=name)


def _priority(alarm: dict[str, Any]) -> str:
    """An alarm's priority: sent by older pumps, else the one its kind has (ALARM_SPECS)."""
    if "priority" in alarm:
        return str(alarm["priority"])
    return ALARM_SPECS[AlarmKind(alarm["kind"])].priority.value


def parse_epoch(text: object) -> datetime | None:
    """The pump's clock_epoch (ISO 8601 with its UTC offset, a year 2000-2199), or None."""
    if text is None:
        return None
    problem = f"the pump's clock_epoch {str(text)[:40]!r} is not a date and time with its UTC "
    if not isinstance(text, str) or len(text) > 40:
        raise WireError(problem + "offset")
    try:
        epoch = datetime.fromisoformat(text)
    except ValueError:
        raise WireError(problem + "offset") from None
    if epoch.tzinfo is None or not 2000 <= epoch.year < 2200:
        raise WireError(problem + "offset in the years 2000-2199")
    return epoch


def _pump_seconds(value: object) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e12:
        raise WireError(f"the pump's time_s {value!r} is not pump seconds")
    return Fraction(value).limit_denominator(1000)


def _raised(alarm: dict[str, Any], epoch: datetime | None) -> str:
    """When an alarm was raised: pump seconds on the calendar (older pumps sent text)."""
    seconds = alarm.get("raised_s")
    if type(seconds) is int:
        return format_clock(Fraction(seconds), epoch)
    return str(alarm["raised"])


def _since(seconds: object) -> Quantity | None:
    if seconds is None:
        return None
    if type(seconds) is not int or seconds < 0:
        raise WireError(f"the pump's since_last_increase_s {seconds!r} is not whole seconds")
    return Quantity.of(Fraction(seconds, 3600), "h")


def parse_status(raw: dict[str, Any]) -> PumpStatus:
    """A PumpStatus from the `interrogate` result."""
    try:
        conc = raw.get("concentration")
        epoch = parse_epoch(raw.get("clock_epoch"))
        alarms = tuple(f"{a['kind']} ({_priority(a)} priority, since {_raised(a, epoch)})"
                       for a in raw["alarms"])
        due = raw.get("refill_due_in_days")
        therapy = therapy_from_json(raw["therapy"])
        return PumpStatus(
            pump_id=str(raw["pump_id"]),
            time=(str(raw["time"]) if "time" in raw  # older pumps sent the text
                  else format_clock(_pump_seconds(raw.get("time_s")), epoch)),
            drug=raw.get("drug"),
            concentration=(parse_quantity(conc, Kind.CONCENTRATION, what="concentration")
                           if isinstance(conc, str) else None),
            therapy=therapy,
            therapy_text=therapy.describe(),  # not sent: the answer must fit one message
            therapy_drug=raw.get("therapy_drug"),
            confirmed=bool(raw["confirmed"]),
            infusing=bool(raw["infusing"]),
            flow=str(raw["flow"]),
            dose_rate=str(raw["dose_rate"]),
            bolus=raw.get("bolus"),
            reservoir_estimate=_volume(raw, "reservoir_estimate"),
            reservoir_capacity=_volume(raw, "reservoir_capacity"),
            low_reservoir_alarm=_volume(raw, "low_reservoir_alarm"),
            pumped_since_fill=_volume(raw, "pumped_since_fill"),
            refill_due_in_days=float(due) if isinstance(due, int | float) else None,
            battery=str(raw["battery"]),
            battery_eri_in_days=float(raw["battery_eri_in_days"]),
            radio_wakeups=int(raw["radio_wakeups"]),
            alarms=alarms,
            alarm_kinds=tuple(str(a["kind"]) for a in raw["alarms"]),
            last_events=tuple(str(e) for e in raw["last_events"]),
            log_head=str(raw["log_head"]),
            log_length=int(raw["log_length"]),
            raw=raw,
            since_last_increase=_since(raw.get("since_last_increase_s")),
            clock_epoch=epoch,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise WireError(f"the pump's interrogation answer is malformed: {exc}") from None
