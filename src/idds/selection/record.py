"""The candidate record: what a clinician knows about a patient considered for IT therapy.

Every field is an input the team has at the assessment visit; units are explicit. The record
is built by `idds.selection.patientfile.load_candidate` from a strict TOML file
(docs/selection.md) and judged by `idds.selection.assess.assess`, a pure function.

Times (life expectancy, time since the last MAO-inhibitor dose) are `Quantity` times. The unit
allow-list (`idds.units`) has min, h and day; a prognosis is usually said in weeks or months,
so `parse_duration` also reads "N week" (7 days each) and "N month" (30 days each: a stated
IDDS rule, so that "3 month" is exactly the 90-day cut of the reference criteria).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from idds.errors import IddsError
from idds.units import Kind, Quantity, parse_quantity

#: Days in a week and in a month when a time is written in weeks or months (IDDS rule).
DAYS_PER_WEEK = 7
DAYS_PER_MONTH = 30

_WEEKS_OR_MONTHS = re.compile(r"\s*([0-9]{1,4}(?:\.[0-9]{1,3})?)\s*(weeks?|months?)\s*",
                              re.IGNORECASE)


class CandidateFileError(IddsError):
    """A patient (candidate) file that is unreadable, incomplete or has a bad value; the
    message names the file and the field."""


class PainType(StrEnum):
    NOCICEPTIVE = "nociceptive"
    NEUROPATHIC = "neuropathic"
    MIXED = "mixed"


class PainDistribution(StrEnum):
    LOCALIZED = "localized"
    WIDESPREAD = "widespread"


#: Side effects graded on the file (CTCAE-like, 0-4): the first five are required.
REQUIRED_SIDE_EFFECTS = ("constipation", "nausea", "sedation", "confusion",
                         "respiratory_depression")
OPTIONAL_SIDE_EFFECTS = ("vomiting", "pruritus", "urinary_retention", "myoclonus",
                         "hallucinations", "fatigue")


def parse_duration(text: str, what: str) -> Quantity:
    """A time: any `idds.units` time ("90 day", "36 h") or "N week" / "N month" (7 and 30
    days each). Returned in days."""
    match = _WEEKS_OR_MONTHS.fullmatch(text)
    if match is not None:
        number, unit = Fraction(match.group(1)), match.group(2).lower()
        days = number * (DAYS_PER_WEEK if unit.startswith("week") else DAYS_PER_MONTH)
        return Quantity.of(days, "day")
    return parse_quantity(text, Kind.TIME, what).to("day")


@dataclass(frozen=True)
class Pain:
    """Pain on a 0-10 numeric rating scale (NRS; trials used VAS 0-10 the same way)."""

    nrs_rest: int
    nrs_movement: int
    type: PainType
    distribution: PainDistribution
    dermatomes: tuple[str, ...] = ()

    @property
    def worst(self) -> int:
        """The worse of rest and movement: what the refractory-pain criterion compares."""
        return max(self.nrs_rest, self.nrs_movement)


@dataclass(frozen=True)
class CurrentRegimen:
    """The current systemic opioid regimen as total oral morphine equivalent (a dose rate,
    e.g. "240 mg/day") and, optionally, its words."""

    oral_morphine_equivalent: Quantity
    description: str = ""


@dataclass(frozen=True)
class SideEffects:
    """Grades 0-4 (CTCAE-like) of the current regimen's side effects, and which of them
    (at grade 2 or more) persist despite treatment."""

    grades: dict[str, int]
    persistent: frozenset[str] = frozenset()

    def grade(self, name: str) -> int:
        return self.grades.get(name, 0)


@dataclass(frozen=True)
class Coagulation:
    """INR (a ratio), platelets (x10^9/L), the anticoagulant taken ("none" if none) and
    whether it has been stopped for the procedure; an uncontrolled bleeding diathesis."""

    inr: Fraction
    platelets_e9_per_l: int
    anticoagulant: str
    anticoagulant_stopped: bool
    bleeding_diathesis_uncontrolled: bool

    @property
    def on_anticoagulant(self) -> bool:
        return self.anticoagulant.strip().lower() != "none"


@dataclass(frozen=True)
class Infection:
    at_site: bool
    systemic: bool


@dataclass(frozen=True)
class Conditions:
    """Findings at the catheter level and elsewhere that bear on neuraxial opioid.

    `mao_inhibitor_last_dose` is the time since the last MAO-inhibitor dose (zero: still
    taking one), or None if the patient has taken none."""

    csf_flow_obstruction: bool
    epidural_disease_at_catheter_level: bool
    vertebral_metastases: bool
    significant_respiratory_depression: bool
    gi_obstruction: bool
    mao_inhibitor_last_dose: Quantity | None


@dataclass(frozen=True)
class Psychosocial:
    untreated_major_psychiatric_disorder: bool
    social_support: bool
    can_attend_refills: bool


@dataclass(frozen=True)
class PriorScreen:
    """The result of a screening trial already done: pain change in percent (a fall is
    positive), how long it was observed (a time), in a monitored setting or not, and whether
    side effects were intolerable."""

    pain_reduction_percent: int
    observed: Quantity
    monitored: bool
    intolerable_side_effects: bool


@dataclass(frozen=True)
class CandidateRecord:
    """One patient considered for intrathecal therapy. Life expectancy is a time in days;
    performance status is ECOG 0-4 or Karnofsky 0-100 (exactly one of them)."""

    label: str
    diagnosis: str
    sites_of_disease: tuple[str, ...]
    life_expectancy: Quantity
    ecog: int | None
    karnofsky: int | None
    pain: Pain
    regimen: CurrentRegimen
    side_effects: SideEffects
    coagulation: Coagulation
    infection: Infection
    conditions: Conditions
    psychosocial: Psychosocial
    screen: PriorScreen | None = None
