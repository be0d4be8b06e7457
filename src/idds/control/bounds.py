"""The limits every recommendation must respect: the drug library's and the clinician's.

`LibraryLimits` reads the signed drug library's entry for the pump drug into plain numbers in
the units the therapy uses (mg, mg/day, h), each with its hard or soft kind. `ClinicianBounds`
holds what the clinician set for the closed loop (dose range, bolus settings, change limits,
the monitoring window, interlock limits, the soft limits they allow the loop to pass).
Defaults are the conservative end of the literature (docs/design.md principle 6); where the
reference gives no figure the default is marked as an assumption.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from idds.drugs import DrugEntry, LimitKind


@dataclass(frozen=True)
class LibraryLimit:
    """One library limit as a number: value (unit in the field name), kind, the limit's name."""

    name: str
    value: float
    kind: LimitKind


@dataclass(frozen=True)
class LibraryLimits:
    """The drug library's limits for the pump drug (None: the library sets none).

    max_daily_mg: mg/day; max_bolus_mg: mg; max_increase_fraction: relative increase of the
    daily dose per change, a fraction (0.2 = +20%), read from the library's
    `max_increase_percent` (a percent: that name is a field of the signed drug-library file
    format, docs/drug-library.md, and stays); max_increase_mg_per_day: absolute increase of the
    daily dose per change, mg/day (the library's `max_increase`); min_hours_between_increases:
    h. The increase limits are the library's own increase rule (`idds.drugs.checks`, applied
    at programming) as numbers: the supervisor derives its per-change limit from them.
    """

    drug: str
    max_daily_mg: LibraryLimit | None
    max_bolus_mg: LibraryLimit | None
    max_increase_fraction: LibraryLimit | None
    min_hours_between_increases: LibraryLimit | None
    max_increase_mg_per_day: LibraryLimit | None = None

    @staticmethod
    def from_drug(drug: DrugEntry) -> LibraryLimits:
        """Read a library entry (exact quantities) into floats in mg, mg/day and h."""

        def limit(name: str, unit: str) -> LibraryLimit | None:
            entry = getattr(drug, name)
            if entry is None:
                return None
            return LibraryLimit(name, float(entry.value.value_in(unit)), entry.kind)

        step = drug.max_increase_percent
        return LibraryLimits(
            drug=drug.name,
            max_daily_mg=limit("max_daily_dose", "mg/day"),
            max_bolus_mg=limit("max_bolus", "mg"),
            max_increase_fraction=None
            if step is None
            else LibraryLimit("max_increase_percent", step.value / 100.0, step.kind),
            min_hours_between_increases=limit("min_interval_between_increases", "h"),
            max_increase_mg_per_day=limit("max_increase", "mg/day"),
        )


@dataclass(frozen=True)
class InterlockLimits:
    """Warning and critical limits of the physiological interlock (after OpenICE's PCA
    interlock, ref, devices: each signal has a warning and a critical limit; two warnings make an
    alarm; missing data counts as a warning; the stop is latched until a clinician resets it).

    Sedation (POSS, Pasero 2009, Pain Manag Nurs 10:157): 3 "frequently drowsy" is unacceptable
    (hold the opioid, reduce the dose): warning; 4 "somnolent": critical.
    Respiratory rate: below 10/min is the usual definition of opioid respiratory depression in
    neuraxial-opioid guidance (ASA 2016 practice guidelines, Anesthesiology 124:535): warning;
    below 8/min (the virtual patient's event threshold, docs/physiology.md): critical.
    """

    sedation_warning_poss: float = 3.0
    sedation_critical_poss: float = 4.0
    respiratory_warning_per_min: float = 10.0
    respiratory_critical_per_min: float = 8.0
    #: Share of the daily dose kept when an alarm latches (two warnings), and on a critical
    #: reading (0 stops delivery). Pasero: POSS 3 -> reduce 25-50% (the safer 50% here);
    #: POSS 4 / critical breathing -> stop the opioid.
    alarm_dose_fraction: float = 0.5
    critical_dose_fraction: float = 0.0


@dataclass(frozen=True)
class ClinicianBounds:
    """What the clinician allows the closed loop, for every patient it runs.

    min_daily_mg, max_daily_mg: basal daily dose range, mg/day (outside: held for a clinician).
    max_bolus_mg, max_boluses_per_day, min_lockout_min: patient bolus bounds.
    min_rate_mg_per_day: lowest hourly rate of a running pump, as mg/day (daily dose x flex
        multiplier): the device's minimum flow at the strongest concentration allowed
        (0.048 mL/day x 20 mg/mL, ref, devices and the library, about 0.96 mg/day) keeps every
        program deliverable whatever strength is in the pump. An alarm's reduced dose below it
        stops the pump instead.
    max_flex: largest hourly multiplier of the flex shape (the hourly rate at most this many
        times the day's mean rate); min_flex: smallest.
    max_increase_per_day: relative basal increase per day (the library's per-change step is
        applied too; the smaller wins). max_increase_per_week: relative basal increase over the
        lowest basal dose of the last 7 days (assumption: +50%, about two library steps).
    max_decrease_per_day: relative basal decrease per day when not forced by the interlock
        (assumption: 30%, abrupt falls cause withdrawal, ref, pharmacology).
    monitoring_hours: no increase this long after the last increase. The label asks for
        respiratory monitoring 24-72 h after each increase (Infumorph label, ref, pharmacology);
        the default is the conservative end, 72 h.
    stale_diary_days: no increase when the last diary entry is older than this (days), or
        when the diary window holds fewer than `min_diary_entries` entries.
    call_without_diary_days: no diary for this many days or more: held, clinician called
        (IDDS assumption: three days, a weekend and a day).
    loss_of_effect_nrs: diary mean this many NRS points above the lowest diary mean of the
        last 7 days, at a basal dose at most one day's decrease below that day's: no response to the
        dose (a catheter or pump failure, or progression): held, the dose of that day
        restored, clinician called (IDDS assumption: 2 points, above the diary's noise over
        a 3-day window and twice the trials' 1-point meaningful change).
    allowed_soft_limits: names of library soft limits the clinician allows the loop to pass
        (e.g. "max_daily_dose"); every other soft limit is a refusal.
    """

    min_daily_mg: float = 0.0
    max_daily_mg: float = 15.0
    max_bolus_mg: float = 0.5
    max_boluses_per_day: int = 6
    min_lockout_min: float = 60.0
    min_rate_mg_per_day: float = 0.0
    max_flex: float = 2.0
    min_flex: float = 0.25
    max_increase_per_day: float = 0.2
    max_increase_per_week: float = 0.5
    max_decrease_per_day: float = 0.3
    monitoring_hours: float = 72.0
    stale_diary_days: float = 1.0
    call_without_diary_days: float = 3.0
    loss_of_effect_nrs: float = 2.0
    min_diary_entries: float = 3.0
    allowed_soft_limits: frozenset[str] = field(default_factory=frozenset)
    interlock: InterlockLimits = field(default_factory=InterlockLimits)

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_daily_mg <= self.max_daily_mg:
            raise ValueError("clinician bounds need 0 <= min_daily_mg <= max_daily_mg")
        if self.max_increase_per_day < 0 or self.max_increase_per_week < 0:
            raise ValueError("increase limits must be >= 0")
        if not 0.0 <= self.max_decrease_per_day <= 1.0:
            raise ValueError("max_decrease_per_day must be 0-1")
        if not 0.0 <= self.min_flex <= 1.0 <= self.max_flex:
            raise ValueError("flex bounds need min_flex <= 1 <= max_flex")

    def allows(self, limit: LibraryLimit | None) -> bool:
        """Whether the loop may pass this library limit: never a hard one; a soft one only if
        the clinician listed it."""
        return (
            limit is not None
            and limit.kind is LimitKind.SOFT
            and limit.name in self.allowed_soft_limits
        )


def per_change_step(bounds: ClinicianBounds, library: LibraryLimits) -> float:
    """The largest relative increase of the daily dose per change, a fraction per day (0.2 =
    +20%): the clinician's `max_increase_per_day`, reduced to the library's
    `max_increase_fraction` unless the clinician allows that soft limit (a hard one always
    binds). The one home of this rule: the supervisor's step (`idds.control.stages.limit_step`)
    and the controllers the registry builds (`idds.control.registry`) both take it from here."""
    step = bounds.max_increase_per_day
    limit = library.max_increase_fraction
    if limit is not None and not bounds.allows(limit):
        step = min(step, limit.value)
    return step
