"""The screening trial's editable rule and its test dose, from the drug library.

A screening (trial) of intrathecal therapy before an implant: a single intrathecal test bolus,
or a catheter infusion over 1-3 days, with monitoring and a pain diary, and a success rule.
Everything a site may want to change is data: `ScreeningRule` (defaults documented here and
in docs/screening.md; `load_rule` reads the same fields from a TOML file) and the drug
library (doses and limits). `choose_dose` is pure: the same library, patient and rule give
the same dose, with its reasons; it never exceeds the library's hard maximum bolus or hard
maximum daily dose.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import Any

from idds.drugs import DrugEntry, DrugLibrary, Route
from idds.errors import IddsError
from idds.units import Quantity


class ScreeningError(IddsError):
    """A screening that cannot be run as asked (bad rule, dose, drug or subject)."""


class ScreeningMethod(StrEnum):
    BOLUS = "bolus"
    INFUSION = "infusion"


class ScreeningVerdict(StrEnum):
    POSITIVE = "POSITIVE"
    NEGATIVE = "NEGATIVE"
    STOPPED_FOR_SAFETY = "STOPPED_FOR_SAFETY"


#: Side effects whose grade can make a screening intolerable by default: the opioid's acute
#: ones (fatigue, lack of appetite and constipation are mostly the cancer's or the prior
#: regimen's and do not change within a screening's hours).
ACUTE_SIDE_EFFECTS = ("nausea", "vomiting", "somnolence", "confusion", "pruritus",
                      "urinary_retention", "respiratory_depression")


@dataclass(frozen=True)
class ScreeningRule:
    """What a screening monitors and how it decides. Defaults and where they come from:

    - relief_threshold_percent 50: success is pain falling by >= 50% from the pre-trial
      baseline without intolerable side effects (common practice: Sul, Asian J Pain 2023;
      PACC 2017 trialing consensus, ref).
    - sustained_entries 2: the fall must hold on this many consecutive diary entries, so one
      low score does not decide (IDDS assumption).
    - monitoring_h 24: observe >= 24 h after each test dose (Infumorph label, ref); an
      infusion is monitored over its whole length and never less than this.
    - baseline_h 24: the pre-trial baseline is the mean diary score over this many hours on
      the prior regimen (IDDS assumption: one day of diary).
    - diary_every_h 1, diary_from_h 7, diary_to_h 22: the pain diary (NRS 0-10) every hour
      while awake, 07:00 to 22:00 (the brief's "every 1-2 h awake"; no entries at night).
    - dose_at_h 8: clock hour of the test dose or of the start of the infusion.
    - stop_respiratory_rate_per_min 8: the trial stops for safety below this rate (the
      model's respiratory-depression event threshold, `PDParams`).
    - stop_poss 3: or at POSS 3 (frequently drowsy, drifts off mid-sentence: unacceptable,
      the POSS's own advice to act; Pasero Opioid-induced Sedation Scale).
    - intolerable_grade 3 in `intolerable_side_effects`: a severe (CTCAE grade 3) acute side
      effect above the patient's own baseline grade makes the screening negative.
    - tolerant_from_oral_morphine_mg_per_day 60: opioid-tolerant from 60 mg/day oral
      morphine equivalent (the usual FDA definition; IDDS assumption, not in the reference).
    - step_min 5: the model's step length, min.
    """

    relief_threshold_percent: float = 50.0
    sustained_entries: int = 2
    monitoring_h: float = 24.0
    baseline_h: float = 24.0
    diary_every_h: float = 1.0
    diary_from_h: float = 7.0
    diary_to_h: float = 22.0
    dose_at_h: float = 8.0
    stop_respiratory_rate_per_min: float = 8.0
    stop_poss: int = 3
    intolerable_grade: int = 3
    intolerable_side_effects: tuple[str, ...] = ACUTE_SIDE_EFFECTS
    tolerant_from_oral_morphine_mg_per_day: float = 60.0
    step_min: float = 5.0

    def __post_init__(self) -> None:
        checks = (
            (0 < self.relief_threshold_percent <= 100, "relief_threshold_percent in (0, 100]"),
            (1 <= self.sustained_entries <= 24, "sustained_entries 1-24"),
            (24 <= self.monitoring_h <= 96, "monitoring_h 24-96 (the label's >= 24 h)"),
            (1 <= self.baseline_h <= 72, "baseline_h 1-72"),
            (self.diary_every_h in (1.0, 2.0), "diary_every_h 1 or 2"),
            (0 <= self.diary_from_h < self.diary_to_h <= 24, "0 <= diary_from_h < diary_to_h"
             " <= 24"),
            (0 <= self.dose_at_h < 24, "dose_at_h 0-23"),
            (0 < self.stop_respiratory_rate_per_min < 30, "stop_respiratory_rate_per_min 0-30"),
            (2 <= self.stop_poss <= 4, "stop_poss 2-4"),
            (1 <= self.intolerable_grade <= 4, "intolerable_grade 1-4"),
            (self.tolerant_from_oral_morphine_mg_per_day > 0,
             "tolerant_from_oral_morphine_mg_per_day > 0"),
            (self.step_min in (1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0),
             "step_min one of 1, 2, 5, 10, 15, 30, 60"),
        )
        for ok, what in checks:
            if not ok:
                raise ScreeningError(f"screening rule: {what} is required")
        unknown = set(self.intolerable_side_effects) - set(ACUTE_SIDE_EFFECTS)
        if unknown:
            raise ScreeningError(f"screening rule: unknown side effects {sorted(unknown)}; "
                                 f"known: {', '.join(ACUTE_SIDE_EFFECTS)}")


def load_rule(path: Path) -> ScreeningRule:
    """A `ScreeningRule` from a TOML file of its fields (any left out keep their default);
    unknown fields, wrong types and bad values are refused with the file's name."""
    try:
        raw: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScreeningError(f"cannot read screening rule {path}: {exc}") from None
    known = {f.name: f for f in fields(ScreeningRule)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ScreeningError(f"{path}: unknown screening rule fields {unknown}")
    values: dict[str, Any] = {}
    for name, value in raw.items():
        default = getattr(ScreeningRule(), name)
        if isinstance(default, tuple):
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise ScreeningError(f"{path}: {name} must be a list of names")
            value = tuple(value)
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise ScreeningError(f"{path}: {name} must be a number")
        elif isinstance(default, int) and not isinstance(value, int):
            raise ScreeningError(f"{path}: {name} must be a whole number")
        values[name] = float(value) if isinstance(default, float) else value
    try:
        return replace(ScreeningRule(), **values)
    except ScreeningError as exc:
        raise ScreeningError(f"{path}: {exc}") from None


@dataclass(frozen=True)
class ScreeningDose:
    """The test dose of one patient: one bolus at the dose time (bolus_mg) or a constant
    infusion (daily_dose_mg_per_day, over `days` days), with the reasons for it."""

    drug: str
    method: ScreeningMethod
    tolerant: bool
    bolus_mg: float
    daily_dose_mg_per_day: float
    days: int
    reasons: tuple[str, ...]

    def describe(self) -> str:
        if self.method is ScreeningMethod.BOLUS:
            return f"{_mg(Fraction(self.bolus_mg))} intrathecal {self.drug}, one test bolus"
        return (f"{_mg(Fraction(self.daily_dose_mg_per_day), '/day')} intrathecal "
                f"{self.drug} by catheter infusion for {self.days} day"
                + ("s" if self.days > 1 else ""))


def _mg(value: Fraction, per: str = "") -> str:
    """mg, or mcg below 0.1 mg ("mcg" on screen, never the micro sign)."""
    if value < Fraction(1, 10):
        return Quantity.of(value * 1000, f"mcg{per}").display()
    return Quantity.of(value, f"mg{per}").display()


def is_tolerant(oral_morphine_mg_per_day: float, rule: ScreeningRule) -> bool:
    return oral_morphine_mg_per_day >= rule.tolerant_from_oral_morphine_mg_per_day


def choose_dose(library: DrugLibrary, drug: str, method: ScreeningMethod,
                oral_morphine_mg_per_day: float, rule: ScreeningRule,
                days: int = 1) -> ScreeningDose:
    """The test dose for a patient on `oral_morphine_mg_per_day` (0: opioid-naive).

    Bolus: the low end of the library's starting daily range for the patient's tolerance,
    given at once (morphine: 0.1 mg naive, the low end of the PACC trial bolus 0.1-0.5 mg;
    tolerant: 1 mg, the low end of the label's 1-10 mg/day; an opioid without a tolerant
    range: the top of its range), capped at the library's usual and hard maximum bolus
    (morphine 0.5 mg: the top of the PACC trial bolus range).
    Infusion: tolerant patients start at the library's practice start ratio from their oral
    morphine equivalent (100:1), converted to the drug by the library's factors, within the
    tolerant starting range; opioid-naive patients at the low end of the naive range; never
    above the usual or hard maximum daily dose.
    """
    entry = library.drug(drug)
    if not 1 <= days <= 3:
        raise ScreeningError(f"an infusion trial lasts 1-3 days, not {days}")
    if not (oral_morphine_mg_per_day >= 0 and oral_morphine_mg_per_day < 1e6):
        raise ScreeningError("the oral morphine equivalent must be >= 0 mg/day")
    tolerant = is_tolerant(oral_morphine_mg_per_day, rule)
    who = (f"opioid-tolerant ({oral_morphine_mg_per_day:.4g} mg/day oral morphine equivalent "
           f">= {rule.tolerant_from_oral_morphine_mg_per_day:g})" if tolerant else
           f"opioid-naive (< {rule.tolerant_from_oral_morphine_mg_per_day:g} mg/day oral "
           "morphine equivalent)")
    start = entry.start_range(tolerant)
    range_text = (f"{start.low.display()} to {start.high.display()} ({start.source})")
    reasons = [f"The patient is {who}; the library's starting range: {range_text}."]
    if method is ScreeningMethod.BOLUS:
        if tolerant and entry.drug_class == "opioid" and entry.start_daily_dose_tolerant is None:
            bolus = start.high.value_in("mg/day")
            reasons.append("Test bolus: the library has no tolerant starting range; the top "
                           f"of its starting range given at once, {_mg(bolus)}.")
        else:
            bolus = start.low.value_in("mg/day")
            reasons.append(f"Test bolus: the low end of that range given at once, "
                           f"{_mg(bolus)}.")
        bolus = _capped(bolus, entry.hard_max_bolus.value.value_in("mg"), "hard maximum bolus",
                        entry.hard_max_bolus.source, reasons)
        if entry.max_bolus is not None:
            bolus = _capped(bolus, entry.max_bolus.value.value_in("mg"), "usual maximum bolus",
                            entry.max_bolus.source, reasons)
        return ScreeningDose(entry_key(library, drug), method, tolerant, float(bolus), 0.0, 0,
                             tuple(reasons))
    daily = start.low.value_in("mg/day")
    factors = entry.oral_morphine_mg_per_mg
    morphine = library.drugs.get("morphine")
    if tolerant and factors is not None and morphine is not None \
            and morphine.oral_morphine_mg_per_mg is not None:
        ratio = library.conversion.start_ratio_oral_to_intrathecal
        it_morphine = Fraction(oral_morphine_mg_per_day).limit_denominator(1000) / ratio
        converted = it_morphine * (morphine.oral_morphine_mg_per_mg[Route.INTRATHECAL]
                                   / factors[Route.INTRATHECAL])
        reasons.append(f"Infusion: {ratio}:1 from the oral morphine equivalent "
                       f"({library.conversion.start_ratio_source}) gives {_mg(converted, '/day')}.")
        low, high = start.low.value_in("mg/day"), start.high.value_in("mg/day")
        daily = min(max(converted, low), high)
        if daily != converted:
            reasons.append(f"Kept within the starting range: {_mg(daily, '/day')}.")
    else:
        reasons.append(f"Infusion: the low end of that range, {_mg(daily, '/day')}.")
    daily = _capped(daily, entry.hard_max_daily_dose.value.value_in("mg/day"),
                    "hard maximum daily dose", entry.hard_max_daily_dose.source, reasons, "/day")
    if entry.max_daily_dose is not None:
        daily = _capped(daily, entry.max_daily_dose.value.value_in("mg/day"),
                        "usual maximum daily dose", entry.max_daily_dose.source, reasons, "/day")
    return ScreeningDose(entry_key(library, drug), method, tolerant, 0.0, float(daily), days,
                         tuple(reasons))


def entry_key(library: DrugLibrary, drug: str) -> str:
    """The library's key of a drug named in any case."""
    library.drug(drug)
    return drug.strip().lower()


def _capped(value: Fraction, cap: Fraction, what: str, source: str,
            reasons: list[str], per: str = "") -> Fraction:
    if value <= cap:
        return value
    reasons.append(f"Capped at the library's {what} {_mg(cap, per)} ({source}).")
    return cap


def check_bolus(entry: DrugEntry, bolus_mg: float) -> None:
    """Refuse a test bolus above the library's hard maximum bolus (ScreeningError)."""
    cap = float(entry.hard_max_bolus.value.value_in("mg"))
    if not (0 < bolus_mg <= cap):
        raise ScreeningError(f"a test bolus of {bolus_mg:g} mg is outside (0, {cap:g} mg], "
                             f"the library's hard maximum bolus ({entry.hard_max_bolus.source})")
