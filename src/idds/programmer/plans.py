"""The programmer's decisions before anything is sent: pure functions, status in, plan out.

`plan_therapy` runs the drug-library checks (hard limit: refused; soft limit: needs an override
reason), including the size-of-change check against the pump's current dose, and computes the
finish screen: old and new settings side by side, the basal dose per day AND per hour (each
labelled, never confused), the flow in mL/day, and the next refill date (`idds.dosing`).
`plan_refill` compares the withdrawn volume with the pump's expected volume
(`idds.pump.rules.refill_mismatch`: beyond max(1 mL, 14.5% of the volume pumped since the last
fill) is a warning: leak or pocket fill, ref, devices) and says what happens to the therapy.
Sources: docs/references.md (devices) (finish screen, library checks, refill, bridge bolus).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from fractions import Fraction

from idds.dosing import RefillPlan, plan_refill, rate_from_dose
from idds.drugs import CheckResult, DrugEntry, DrugLibrary, enforce
from idds.errors import IddsError
from idds.programmer.status import PumpStatus
from idds.protocol.checks import check
from idds.protocol.wire import daily_dose, highest_rate, therapy_from_json, therapy_to_json
from idds.pump import LIMITS, Continuous, Flex, Stopped, Therapy
from idds.pump import rules as pump_rules
from idds.pump.convert import volume_nl, volume_q
from idds.units import Quantity


class PlanError(IddsError):
    """A request the programmer refuses before sending (wrong drug, nothing in the pump)."""


@dataclass(frozen=True)
class TherapyRequest:
    """What the clinician entered."""

    drug: str
    concentration: Quantity
    therapy: Therapy
    override_reason: str | None = None
    opioid_tolerant: bool = False


@dataclass(frozen=True)
class Row:
    """One line of a finish screen: setting, old value, new value."""

    setting: str
    old: str
    new: str


@dataclass(frozen=True)
class TherapyPlan:
    """A checked therapy, ready for the finish screen and the confirm step."""

    request: TherapyRequest
    status: PumpStatus
    checks: CheckResult
    rows: tuple[Row, ...]
    refill: RefillPlan | None
    notes: tuple[str, ...] = field(default=())
    #: A plan that overrides soft limits is sent only after the clinician confirms the
    #: override a second time on the Finish screen (issue 13; `with_override_confirmed`).
    override_confirmed: bool = False

    @property
    def overridden(self) -> tuple[str, ...]:
        """The soft-limit breaches the override reason covers."""
        return tuple(b.message for b in self.checks.soft)

    @property
    def needs_override_confirmation(self) -> bool:
        """True while the plan overrides soft limits and that was not confirmed again."""
        return bool(self.checks.soft) and not self.override_confirmed

    def override_lines(self) -> tuple[str, ...]:
        """What the Finish screen shows before asking again: each soft limit overridden, its
        source, and the reason that will be logged on the programmer and the pump."""
        return tuple(f"{b.message} [source: {b.source}]" for b in self.checks.soft)

    def with_override_confirmed(self) -> TherapyPlan:
        """This plan after the clinician's second confirmation of its override."""
        return replace(self, override_confirmed=True)

    def as_json(self) -> dict[str, object]:
        """The finish screen as plain data (CLI `--json`, the console)."""
        return {
            "rows": [{"setting": r.setting, "old": r.old, "new": r.new} for r in self.rows],
            "notes": list(self.notes),
            "overridden": list(self.overridden),
            "next_refill": self.refill.alarm_date.isoformat() if self.refill else None,
        }


def _per_hour(dose: Quantity, entry: DrugEntry) -> str:
    return dose.display(f"{entry.display_unit}/h")


def _flow(dose: Quantity | None, concentration: Quantity) -> str:
    if dose is None:
        return "-"
    return rate_from_dose(dose, concentration).display("mL/day")


def _demand_text(therapy: Therapy, entry: DrugEntry) -> tuple[str, str, str, str]:
    d = therapy.demand
    if d is None:
        return ("off", "-", "-", "-")
    return (d.dose.display(entry.display_unit), str(d.duration), str(d.lockout),
            str(d.max_per_24h))


def _mode_text(therapy: Therapy) -> str:
    basal = therapy.basal
    if isinstance(basal, Flex):
        return "flex: " + ", ".join(
            f"{s.start_minute // 60:02d}:{s.start_minute % 60:02d} {s.dose_rate}"
            for s in basal.days[0])
    return basal.mode.value


def _ceiling(therapy: Therapy, entry: DrugEntry) -> str:
    """Largest possible dose per day: basal plus every allowed patient bolus."""
    basal = daily_dose(therapy, entry.dose_unit)
    total = basal if basal is not None else Quantity.of(0, entry.dose_unit)
    if therapy.demand is not None:
        per_day = Quantity.of(1, "day")
        total = total + therapy.demand.dose * therapy.demand.max_per_24h / per_day
    return total.display(entry.dose_unit)


def refill_date(status: PumpStatus, therapy: Therapy, concentration: Quantity,
                today: date, unit: str) -> RefillPlan | None:
    """When the reservoir reaches its low-reservoir alarm volume under `therapy`, assuming
    every allowed patient bolus is used (ref, devices, Prometra); None without a basal dose or
    when the reservoir is already at or below the alarm volume. The date is
    `idds.dosing.plan_refill`'s, whose formula is the one refill rule
    `idds.dosing.time_to_alarm` (also the pump's `rules.refill_due_in` and the twin's)."""
    dose = daily_dose(therapy, unit)
    if dose is None or not dose.is_positive() or not status.reservoir_estimate.is_positive():
        return None
    if status.low_reservoir_alarm > status.reservoir_estimate:
        return None
    demand = therapy.demand
    return plan_refill(
        status.reservoir_estimate, status.low_reservoir_alarm, concentration, dose, today,
        bolus=demand.dose if demand else None,
        max_boluses_per_day=demand.max_per_24h if demand else 0,
        reservoir_capacity=status.reservoir_capacity,
    )


def _refill_text(plan: RefillPlan | None) -> str:
    if plan is None:
        return "-"
    return f"{plan.alarm_date.isoformat()} ({float(plan.days_to_alarm):.1f} days)"


def plan_therapy(status: PumpStatus, request: TherapyRequest, library: DrugLibrary,
                 today: date) -> TherapyPlan:
    """Check a therapy against the library and the pump, and build its finish screen.

    Raises `PlanError` when the pump holds another drug or concentration, `HardLimitError`
    for a hard limit, `SoftLimitError` for a soft one without an override reason."""
    name = request.drug.strip().lower()
    entry = library.drug(name)
    if status.drug is None or status.concentration is None:
        raise PlanError("no drug in the pump: refill it before programming a therapy")
    if status.drug != name or status.concentration != request.concentration:
        raise PlanError(f"the pump holds {status.drug_text}, not {name} "
                        f"{request.concentration}: refill first to change drug or concentration")
    therapy_from_json(therapy_to_json(request.therapy))  # the link's bounds, before sending
    for rate in _basal_rates(request.therapy):  # the device's flow range, before the Finish
        _check_flow(rate, request.concentration, "programming")
    current = status.therapy if status.therapy_drug == name else None
    result = check(entry, request.therapy, request.concentration, current,
                   opioid_tolerant=request.opioid_tolerant,
                   since_last_increase=status.since_last_increase)
    enforce(result, request.override_reason)
    unit = entry.dose_unit
    new_dose = daily_dose(request.therapy, unit)
    old_therapy = current if current is not None else Therapy(Stopped())
    old_dose = daily_dose(old_therapy, unit)
    conc = request.concentration
    refill = refill_date(status, request.therapy, conc, today, unit)
    old_refill = refill_date(status, old_therapy, conc, today, unit)
    old_demand, new_demand = _demand_text(old_therapy, entry), _demand_text(request.therapy, entry)
    rows = [
        Row("Drug and concentration",
            status.drug_text if current is not None else "-", f"{name} {conc}"),
        Row("Mode", _mode_text(old_therapy) + ("" if status.confirmed else " (not confirmed)"),
            _mode_text(request.therapy)),
        Row(f"Basal dose per DAY ({unit})", old_dose.display(unit) if old_dose else "-",
            new_dose.display(unit) if new_dose else "-"),
        Row(f"Basal dose per HOUR ({entry.display_unit}/h)",
            _per_hour(old_dose, entry) if old_dose else "-",
            _per_hour(new_dose, entry) if new_dose else "-"),
        Row("Flow (mL/day)", _flow(old_dose, conc), _flow(new_dose, conc)),
        Row("Patient bolus dose", old_demand[0], new_demand[0]),
        Row("Bolus duration", old_demand[1], new_demand[1]),
        Row("Lockout", old_demand[2], new_demand[2]),
        Row("Maximum boluses per 24 h", old_demand[3], new_demand[3]),
        Row("Most per day (basal + all boluses)", _ceiling(old_therapy, entry),
            _ceiling(request.therapy, entry)),
        Row("Reservoir (estimate)", str(status.reservoir_estimate),
            str(status.reservoir_estimate)),
        Row("Next refill (low-reservoir alarm)", _refill_text(old_refill), _refill_text(refill)),
    ]
    notes: list[str] = []
    peak = highest_rate(request.therapy, unit)
    if isinstance(request.therapy.basal, Flex) and peak is not None:
        notes.append(f"Highest flex step: {peak.display(unit)} = {_per_hour(peak, entry)}.")
    if old_dose is not None and new_dose is not None and old_dose.is_positive():
        ratio = new_dose.ratio(old_dose)
        notes.append(f"Change of the daily dose: {float((ratio - 1) * 100):+.0f}% "
                     f"({float(ratio):.3g} times the current dose).")
    if refill is None and new_dose is not None:
        notes.append("The reservoir is at or below the low-reservoir alarm volume: refill now.")
    for breach in result.soft:
        notes.append(f"OVERRIDE ({request.override_reason}): {breach.message} "
                     f"[source: {breach.source}]")
    return TherapyPlan(request, status, result, tuple(rows), refill, tuple(notes))


# -- refill --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefillRequest:
    """What the clinician entered at a refill. `drug` None = the drug already in the pump."""

    withdrawn: Quantity
    volume: Quantity
    concentration: Quantity
    drug: str | None = None
    keep_dose: bool = True
    bridge: bool = True


@dataclass(frozen=True)
class RefillChange:
    """A checked refill, ready for its finish screen."""

    request: RefillRequest
    status: PumpStatus
    drug: str
    expected: Quantity
    tolerance: Quantity
    mismatch: bool
    changed: bool
    keep_dose: bool
    bridge: bool
    rows: tuple[Row, ...]
    warnings: tuple[str, ...]


def mismatch_warning(expected: Quantity, withdrawn: Quantity, tolerance: Quantity) -> str:
    """The words for an expected-versus-withdrawn mismatch (ref, devices: a 14 mL gap revealed
    a leaking septum; pocket fill killed 8 patients 1996-2010)."""
    gap = (withdrawn - expected).to("mL")
    if gap.base < 0:
        cause = ("less came out than the pump expected: suspect a leak (septum, catheter "
                 "access port) or drug injected outside the reservoir at the last refill "
                 "(pocket fill); the patient may have received drug outside the pump")
    else:
        cause = ("more came out than the pump expected: the pump may have under-infused "
                 "(motor, flow error) or the last fill was entered wrongly")
    return (f"MISMATCH: withdrawn {withdrawn.display('mL')}, expected "
            f"{expected.display('mL')} (difference {gap.display('mL')}, beyond the pump's "
            f"accuracy of +/-{tolerance.display('mL')}): {cause}. Check before filling.")


def plan_refill_change(status: PumpStatus, request: RefillRequest, library: DrugLibrary,
                today: date) -> RefillChange:
    """Check a refill: library concentration limit, capacity, expected versus withdrawn."""
    name = (request.drug or status.drug or "").strip().lower()
    if not name:
        raise PlanError("the pump has no drug yet: give the drug (--drug)")
    entry = library.drug(name)
    enforce(check(entry, Therapy(Stopped()), request.concentration, None), None)
    if not request.volume.is_positive() or request.volume > status.reservoir_capacity:
        raise PlanError(f"fill volume {request.volume} outside 0 to the reservoir capacity "
                        f"{status.reservoir_capacity}")
    if request.withdrawn.base < 0:
        raise PlanError(f"withdrawn volume {request.withdrawn} is negative")
    expected = status.reservoir_estimate
    pumped = int(volume_nl(status.pumped_since_fill))
    tolerance = volume_q(max(Fraction(pump_rules.REFILL_MISMATCH_FLOOR_NL),
                             Fraction(pump_rules.LABELLED_ACCURACY) * pumped))
    mismatch = status.drug is not None and pump_rules.refill_mismatch(
        int(volume_nl(expected)), int(volume_nl(request.withdrawn)), pumped)
    warnings: list[str] = []
    if mismatch:
        warnings.append(mismatch_warning(expected, request.withdrawn, tolerance))
    changed = status.drug != name or status.concentration != request.concentration
    running = status.confirmed and not isinstance(status.therapy.basal, Stopped)
    same_drug = status.drug == name
    keep = changed and running and same_drug and request.keep_dose
    bridge = keep and request.bridge
    old_dose = daily_dose(status.therapy, entry.dose_unit) if running else None
    if keep and old_dose is not None:
        _check_flow(old_dose, request.concentration)
    rows = [
        Row("Expected in reservoir (pump estimate)", expected.display("mL"), "-"),
        Row("Withdrawn (measured)", "-", request.withdrawn.display("mL")),
        Row("Difference (allowed +/-)", "-",
            f"{(request.withdrawn - expected).to('mL').display('mL')} "
            f"(+/-{tolerance.display('mL')})"),
        Row("Drug and concentration", status.drug_text, f"{name} {request.concentration}"),
        Row("Reservoir volume", expected.display("mL"), request.volume.display("mL")),
    ]
    if old_dose is not None and status.concentration is not None:
        new_flow = _flow(old_dose, request.concentration) if keep or not changed else "stopped"
        rows.append(Row(f"Basal dose per DAY ({entry.dose_unit})", old_dose.display(
            entry.dose_unit), old_dose.display(entry.dose_unit) if keep or not changed else "-"))
        rows.append(Row("Flow (mL/day)", _flow(old_dose, status.concentration), new_flow))
    if changed and not same_drug and status.drug is not None:
        warnings.append(f"Drug change ({status.drug_text} -> {name} {request.concentration}): "
                        "infusion stops until you program and confirm a therapy for the new "
                        "drug.")
    elif changed and running and not keep:
        warnings.append("Concentration change: infusion stops until you program and confirm "
                        "the therapy again.")
    if keep:
        rows.append(Row("Bridge bolus", "-", "yes: the old drug in the catheter at the old "
                        "rate, then the new flow" if bridge else "no"))
    if isinstance(status.therapy.basal, Continuous | Flex) and status.concentration is not None \
            and (keep or not changed) and old_dose is not None:
        plan = refill_date(_refilled(status, request.volume), status.therapy,
                           request.concentration, today, entry.dose_unit)
        rows.append(Row("Next refill (low-reservoir alarm)", _refill_text(None),
                        _refill_text(plan)))
    return RefillChange(request, status, name, expected, tolerance, mismatch, changed, keep,
                        bridge, tuple(rows), tuple(warnings))


def _basal_rates(therapy: Therapy) -> tuple[Quantity, ...]:
    """Every basal dose rate the therapy runs at (the continuous rate, or each flex step)."""
    basal = therapy.basal
    if isinstance(basal, Continuous):
        return (basal.dose_rate,)
    if isinstance(basal, Flex):
        return tuple(step.dose_rate for day in basal.days for step in day)
    return ()


def _check_flow(dose: Quantity, concentration: Quantity, doing: str = "keeping") -> None:
    """The device flow range (0.048-24 mL/day, ref, devices) for `dose` at `concentration`
    (`pump.rules.flow_range_problem`, the firmware's own range)."""
    problem = pump_rules.flow_range_problem(rate_from_dose(dose, concentration), LIMITS)
    if problem:
        raise PlanError(f"{doing} {dose} at {concentration} needs {problem}: choose another "
                        "dose or concentration")


def _refilled(status: PumpStatus, volume: Quantity) -> PumpStatus:
    return replace(status, reservoir_estimate=volume)
