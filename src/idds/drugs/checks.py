"""Dose error reduction: check a proposed therapy against the drug library.

A pure function: proposal in, every breached limit out, each with its kind (hard blocks,
soft needs an override with a reason), the limit, the value and the limit's source. It never
changes the proposal (docs/design.md principle 5: refuse, do not clamp).

The size-of-change limits are what catch the classic unit slip of
docs/references.md (devices): a flex dose meant as 60 mcg/day programmed as 60 mcg/hour is a
24-fold increase on the current dose.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from idds.drugs.library import DoseRange, DrugEntry, DrugLimit, LimitKind
from idds.drugs.overrides import reason_problem
from idds.errors import IddsError
from idds.units import Kind, Quantity


@dataclass(frozen=True)
class Breach:
    """One limit a proposal breaks."""

    limit_name: str
    kind: LimitKind
    value: str
    limit: str
    source: str
    message: str


@dataclass(frozen=True)
class Proposal:
    """A therapy to check. Quantities must already have the right kind and be above zero."""

    concentration: Quantity | None = None
    daily_dose: Quantity | None = None
    bolus: Quantity | None = None
    current_daily_dose: Quantity | None = None
    time_since_last_increase: Quantity | None = None
    opioid_tolerant: bool = False
    #: Patient boluses allowed per 24 h: the maximum daily dose counts every one of them
    #: (the conservative convention of ref, devices: assume every allowed bolus is used).
    boluses_per_day: int = 0


@dataclass(frozen=True)
class CheckResult:
    breaches: tuple[Breach, ...] = field(default=())

    @property
    def hard(self) -> tuple[Breach, ...]:
        return tuple(b for b in self.breaches if b.kind is LimitKind.HARD)

    @property
    def soft(self) -> tuple[Breach, ...]:
        return tuple(b for b in self.breaches if b.kind is LimitKind.SOFT)

    @property
    def clear(self) -> bool:
        return not self.breaches


class HardLimitError(IddsError):
    """A proposal breaks a hard limit of the drug library: it cannot be entered."""

    def __init__(self, breaches: tuple[Breach, ...]) -> None:
        self.breaches = breaches
        super().__init__("; ".join(b.message for b in breaches))


class SoftLimitError(IddsError):
    """A proposal breaks a soft limit and no override with a reason was given."""

    def __init__(self, breaches: tuple[Breach, ...], problem: str | None = None) -> None:
        self.breaches, self.problem = breaches, problem
        why = "needs an override with a reason" if problem is None else (
            f"needs an override with a reason: {problem}")
        super().__init__("; ".join(b.message for b in breaches) + f" ({why})")


def _over(name: str, what: str, value: Quantity, limit: DrugLimit | None,
          unit: str) -> list[Breach]:
    if limit is None or value <= limit.value:
        return []
    return [
        Breach(
            name,
            limit.kind,
            value.display(unit),
            limit.value.display(unit),
            limit.source,
            f"{what} {value.display(unit)} is above the {limit.kind} limit "
            f"{limit.value.display(unit)}",
        )
    ]


def _above_range(value: Quantity, start: DoseRange, unit: str) -> list[Breach]:
    """A first dose above the usual starting range (a dose below it is not a breach)."""
    if value <= start.high:
        return []
    return [
        Breach(
            "start_daily_dose",
            start.kind,
            value.display(unit),
            start.high.display(unit),
            start.source,
            f"starting dose {value.display(unit)} is above the usual starting range "
            f"{start.low.display(unit)} to {start.high.display(unit)}",
        )
    ]


def _increase(drug: DrugEntry, proposal: Proposal, unit: str) -> list[Breach]:
    new, old = proposal.daily_dose, proposal.current_daily_dose
    if new is None or old is None or new <= old:
        return []
    found: list[Breach] = []
    change = new - old
    if drug.max_increase_percent is not None and old.is_positive():
        percent = change.ratio(old) * 100
        limit = drug.max_increase_percent
        if percent > limit.value:
            found.append(
                Breach(
                    "max_increase_percent",
                    limit.kind,
                    f"{float(percent):.0f}%",
                    f"{limit.value}%",
                    limit.source,
                    f"increase from {old.display(unit)} to {new.display(unit)} is "
                    f"+{float(percent):.0f}% ({float(new.ratio(old)):.3g} times), above the "
                    f"{limit.kind} limit of +{limit.value}% per change",
                )
            )
    found += _over("max_increase", "increase", change, drug.max_increase, unit)
    since, wait = proposal.time_since_last_increase, drug.min_interval_between_increases
    if since is not None and wait is not None and since < wait.value:
        found.append(
            Breach(
                "min_interval_between_increases",
                wait.kind,
                since.display("h"),
                wait.value.display("h"),
                wait.source,
                f"last increase was {since.display('h')} ago; increases need at least "
                f"{wait.value.display('h')} between them",
            )
        )
    return found


def check_therapy(drug: DrugEntry, proposal: Proposal) -> CheckResult:
    """Every library limit `proposal` breaks for `drug` (empty when it is within all)."""
    for name in ("concentration", "daily_dose", "bolus", "current_daily_dose"):
        value = getattr(proposal, name)
        if value is not None and not value.is_positive():
            raise IddsError(f"{name.replace('_', ' ')} must be above zero, not {value}")
    unit = drug.dose_unit
    found: list[Breach] = []
    if proposal.concentration is not None:
        found += _over(
            "concentration_max",
            "concentration",
            proposal.concentration.require(Kind.CONCENTRATION, "concentration"),
            drug.concentration_max,
            f"{drug.display_unit}/mL",
        )
    if proposal.daily_dose is not None:
        dose = proposal.daily_dose.require(Kind.DOSE_RATE, "daily dose")
        total, what = dose, "daily dose"
        if proposal.bolus is not None and proposal.boluses_per_day > 0:
            allowance = proposal.bolus * proposal.boluses_per_day / Quantity.of(1, "day")
            total, what = (dose + allowance).to(dose.unit), "daily dose with every allowed bolus"
        found += _over("hard_max_daily_dose", what, total, drug.hard_max_daily_dose, unit)
        found += _over("max_daily_dose", what, total, drug.max_daily_dose, unit)
        if proposal.current_daily_dose is None:
            found += _above_range(dose, drug.start_range(proposal.opioid_tolerant), unit)
        found += _increase(drug, proposal, unit)
    if proposal.bolus is not None:
        bolus = proposal.bolus.require(Kind.MASS, "bolus")
        found += _over("hard_max_bolus", "bolus", bolus, drug.hard_max_bolus,
                       drug.display_unit)
        found += _over("max_bolus", "bolus", bolus, drug.max_bolus, drug.display_unit)
    unique = {b.message: b for b in reversed(found)}  # one line per breach (a hard one first)
    return CheckResult(tuple(b for b in found if unique[b.message] is b))


def enforce(result: CheckResult, override_reason: str | None) -> None:
    """Raise for a hard breach; for soft breaches, raise unless the override reason passes
    `idds.drugs.overrides.reason_problem` (a coded reason, or free text of stated minimum
    content)."""
    if result.hard:
        raise HardLimitError(result.hard)
    if result.soft and not (override_reason and override_reason.strip()):
        raise SoftLimitError(result.soft)
    if result.soft:
        problem = reason_problem(override_reason)
        if problem is not None:
            raise SoftLimitError(result.soft, problem)

