"""Patient (candidate) files: the candidate record in strict TOML.

Layout (examples/patients/*.toml, docs/selection.md):

    [patient]       label, diagnosis, sites_of_disease = [...], life_expectancy = "8 month",
                    ecog = 2 (or karnofsky = 60)
    [pain]          nrs_rest, nrs_movement (0-10), type, distribution, dermatomes (optional)
    [regimen]       oral_morphine_equivalent = "240 mg/day", description (optional)
    [side_effects]  constipation, nausea, sedation, confusion, respiratory_depression (0-4;
                    vomiting, pruritus, urinary_retention, myoclonus, hallucinations, fatigue
                    optional), persistent = [...] (optional)
    [coagulation]   inr, platelets (x10^9/L), anticoagulant ("none" or its name),
                    anticoagulant_stopped (needed when one is named),
                    bleeding_diathesis_uncontrolled
    [infection]     at_site, systemic
    [conditions]    csf_flow_obstruction, epidural_disease_at_catheter_level,
                    vertebral_metastases, significant_respiratory_depression, gi_obstruction,
                    mao_inhibitor_last_dose ("none", "current", or the time since it, "10 day")
    [psychosocial]  untreated_major_psychiatric_disorder, social_support, can_attend_refills
    [screening_result] (optional) pain_reduction_percent, observed = "24 h", monitored,
                    intolerable_side_effects

Strict: an unknown section or key is refused, a missing one is refused by name, quantities
go through the unit allow-list with the dimension they need, scores are checked against their
range; every refusal is a `CandidateFileError` naming the file and the field.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

from idds.selection.record import (
    OPTIONAL_SIDE_EFFECTS,
    REQUIRED_SIDE_EFFECTS,
    CandidateFileError,
    CandidateRecord,
    Coagulation,
    Conditions,
    CurrentRegimen,
    Infection,
    Pain,
    PainDistribution,
    PainType,
    PriorScreen,
    Psychosocial,
    SideEffects,
    parse_duration,
)
from idds.tomlfile import read_toml
from idds.units import Kind, Quantity, UnitError, parse_quantity
from idds.units.numbers import parse_decimal

#: Each section's required and optional keys.
REQUIRED: dict[str, frozenset[str]] = {
    "patient": frozenset({"label", "diagnosis", "sites_of_disease", "life_expectancy"}),
    "pain": frozenset({"nrs_rest", "nrs_movement", "type", "distribution"}),
    "regimen": frozenset({"oral_morphine_equivalent"}),
    "side_effects": frozenset(REQUIRED_SIDE_EFFECTS),
    "coagulation": frozenset({"inr", "platelets", "anticoagulant",
                              "bleeding_diathesis_uncontrolled"}),
    "infection": frozenset({"at_site", "systemic"}),
    "conditions": frozenset({"csf_flow_obstruction", "epidural_disease_at_catheter_level",
                             "vertebral_metastases", "significant_respiratory_depression",
                             "gi_obstruction", "mao_inhibitor_last_dose"}),
    "psychosocial": frozenset({"untreated_major_psychiatric_disorder", "social_support",
                               "can_attend_refills"}),
    "screening_result": frozenset({"pain_reduction_percent", "observed", "monitored",
                                   "intolerable_side_effects"}),
}
OPTIONAL: dict[str, frozenset[str]] = {
    "patient": frozenset({"ecog", "karnofsky"}),
    "pain": frozenset({"dermatomes"}),
    "regimen": frozenset({"description"}),
    "side_effects": frozenset({*OPTIONAL_SIDE_EFFECTS, "persistent"}),
    "coagulation": frozenset({"anticoagulant_stopped"}),
}
OPTIONAL_SECTIONS = frozenset({"screening_result"})
#: A dermatome level: C2-C8, T1-T12, L1-L5, S1-S5 (any case).
DERMATOME = re.compile(r"(?i:C[2-8]|T(?:[1-9]|1[0-2])|L[1-5]|S[1-5])")
#: Highest INR read (beyond it the value is surely a typing error).
MAX_INR = 20
#: Highest platelet count read, x10^9/L.
MAX_PLATELETS = 2000


def load_candidate(path: Path) -> CandidateRecord:
    """Read and check a patient file; `CandidateFileError` (one line) for anything wrong."""
    return parse_candidate(read_toml(path, "patient file", CandidateFileError), str(path))


def parse_candidate(data: dict[str, Any], source: str = "patient file") -> CandidateRecord:
    """Build a `CandidateRecord` from a TOML table; every refusal names `source` and the
    field."""
    return _Reader(source).record(data)


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> CandidateFileError:
        return CandidateFileError(f"{self.source}: {where} {problem}")

    def unit_error(self, section: str, key: str, exc: UnitError,
                   hint: str = "") -> CandidateFileError:
        """A unit or number refusal, naming the field when the parser did not."""
        where = f"[{section}] {key}"
        text = str(exc) if where in str(exc) else f"{where}: {exc}"
        return CandidateFileError(f"{self.source}: {text}{hint}")

    # sections ------------------------------------------------------------------------------
    def section(self, data: dict[str, Any], name: str) -> dict[str, Any]:
        table = data.get(name)
        if table is None:
            raise self.fail(f"[{name}]", "is missing")
        if not isinstance(table, dict):
            raise self.fail(f"[{name}]", "must be a table")
        allowed = REQUIRED[name] | OPTIONAL.get(name, frozenset())
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise self.fail(f"[{name}]", f"has unknown key(s) {unknown[:4]}; allowed: "
                            f"{', '.join(sorted(allowed))}")
        missing = sorted(REQUIRED[name] - set(table))
        if missing:
            raise self.fail(f"[{name}] {missing[0]}", "is missing (required)")
        return table

    def record(self, data: dict[str, Any]) -> CandidateRecord:
        unknown = sorted(set(data) - set(REQUIRED))
        if unknown:
            raise self.fail("file", f"has unknown section(s) {unknown[:4]}; allowed: "
                            f"{', '.join(sorted(REQUIRED))}")
        patient = self.section(data, "patient")
        ecog = self.whole(patient, "patient", "ecog", 0, 4) if "ecog" in patient else None
        karnofsky = (self.whole(patient, "patient", "karnofsky", 0, 100)
                     if "karnofsky" in patient else None)
        if (ecog is None) == (karnofsky is None):
            raise self.fail("[patient] ecog", "or karnofsky: give exactly one performance "
                            "status (ECOG 0-4 or Karnofsky 0-100)")
        if karnofsky is not None and karnofsky % 10:
            raise self.fail("[patient] karnofsky", f"{karnofsky} is not a step of 10 (0-100)")
        return CandidateRecord(
            label=self.text(patient, "patient", "label"),
            diagnosis=self.text(patient, "patient", "diagnosis"),
            sites_of_disease=self.texts(patient, "patient", "sites_of_disease"),
            life_expectancy=self.duration(patient, "patient", "life_expectancy", positive=True),
            ecog=ecog, karnofsky=karnofsky,
            pain=self.pain(self.section(data, "pain")),
            regimen=self.regimen(self.section(data, "regimen")),
            side_effects=self.side_effects(self.section(data, "side_effects")),
            coagulation=self.coagulation(self.section(data, "coagulation")),
            infection=Infection(*(self.flag(self.section(data, "infection"), "infection", k)
                                  for k in ("at_site", "systemic"))),
            conditions=self.conditions(self.section(data, "conditions")),
            psychosocial=Psychosocial(*(
                self.flag(self.section(data, "psychosocial"), "psychosocial", k)
                for k in ("untreated_major_psychiatric_disorder", "social_support",
                          "can_attend_refills"))),
            screen=(self.screen(self.section(data, "screening_result"))
                    if "screening_result" in data else None),
        )

    def pain(self, t: dict[str, Any]) -> Pain:
        kind = self.choice(t, "pain", "type", PainType)
        spread = self.choice(t, "pain", "distribution", PainDistribution)
        dermatomes = self.texts(t, "pain", "dermatomes", empty=True) if "dermatomes" in t else ()
        for level in dermatomes:
            if not DERMATOME.fullmatch(level.strip()):
                raise self.fail("[pain] dermatomes", f"{level[:12]!r} is not a dermatome "
                                "(C2-C8, T1-T12, L1-L5, S1-S5)")
        dermatomes = tuple(level.strip().upper() for level in dermatomes)
        return Pain(self.whole(t, "pain", "nrs_rest", 0, 10),
                    self.whole(t, "pain", "nrs_movement", 0, 10),
                    PainType(kind), PainDistribution(spread), dermatomes)

    def regimen(self, t: dict[str, Any]) -> CurrentRegimen:
        ome = self.quantity(t, "regimen", "oral_morphine_equivalent", Kind.DOSE_RATE)
        if ome < Quantity.of(0, "mg/day"):
            raise self.fail("[regimen] oral_morphine_equivalent", f"{ome} is below zero")
        description = self.text(t, "regimen", "description") if "description" in t else ""
        return CurrentRegimen(ome, description)

    def side_effects(self, t: dict[str, Any]) -> SideEffects:
        grades = {name: self.whole(t, "side_effects", name, 0, 4)
                  for name in sorted(set(t) - {"persistent"})}
        persistent = (self.texts(t, "side_effects", "persistent", empty=True)
                      if "persistent" in t else ())
        for name in persistent:
            if name not in grades:
                raise self.fail("[side_effects] persistent", f"names {name!r}, which has no "
                                "grade in [side_effects]")
            if grades[name] < 2:
                raise self.fail("[side_effects] persistent", f"names {name!r} at grade "
                                f"{grades[name]}; only grade 2 or more is listed as persistent")
        return SideEffects(grades, frozenset(persistent))

    def coagulation(self, t: dict[str, Any]) -> Coagulation:
        inr = self.decimal(t, "coagulation", "inr", Fraction(1, 2), Fraction(MAX_INR))
        platelets = self.whole(t, "coagulation", "platelets", 0, MAX_PLATELETS)
        drug = self.text(t, "coagulation", "anticoagulant")
        named = drug.strip().lower() != "none"
        if named and "anticoagulant_stopped" not in t:
            raise self.fail("[coagulation] anticoagulant_stopped", f"is missing (required when "
                            f"an anticoagulant is named: {drug!r})")
        stopped = self.flag(t, "coagulation", "anticoagulant_stopped") if named else False
        if not named and "anticoagulant_stopped" in t:
            raise self.fail("[coagulation] anticoagulant_stopped", "is given but anticoagulant "
                            "is \"none\"")
        return Coagulation(inr, platelets, drug, stopped,
                           self.flag(t, "coagulation", "bleeding_diathesis_uncontrolled"))

    def conditions(self, t: dict[str, Any]) -> Conditions:
        def flag(key: str) -> bool:
            return self.flag(t, "conditions", key)
        text = self.text(t, "conditions", "mao_inhibitor_last_dose").strip().lower()
        last: Quantity | None
        if text == "none":
            last = None
        elif text == "current":
            last = Quantity.of(0, "day")
        else:
            last = self.duration(t, "conditions", "mao_inhibitor_last_dose", positive=False)
        return Conditions(flag("csf_flow_obstruction"),
                          flag("epidural_disease_at_catheter_level"),
                          flag("vertebral_metastases"),
                          flag("significant_respiratory_depression"),
                          flag("gi_obstruction"), last)

    def screen(self, t: dict[str, Any]) -> PriorScreen:
        return PriorScreen(
            self.whole(t, "screening_result", "pain_reduction_percent", -100, 100),
            self.duration(t, "screening_result", "observed", positive=True),
            self.flag(t, "screening_result", "monitored"),
            self.flag(t, "screening_result", "intolerable_side_effects"))

    # values --------------------------------------------------------------------------------
    def text(self, t: dict[str, Any], section: str, key: str) -> str:
        value = t[key]
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"[{section}] {key}", "must be non-empty text")
        if len(value) > 200:
            raise self.fail(f"[{section}] {key}", "is longer than 200 characters")
        return value

    def texts(self, t: dict[str, Any], section: str, key: str,
              empty: bool = False) -> tuple[str, ...]:
        value = t[key]
        if (not isinstance(value, list) or not all(isinstance(v, str) and v.strip()
                                                    for v in value)
                or (not value and not empty) or len(value) > 40):
            raise self.fail(f"[{section}] {key}", "must be a list of non-empty texts"
                            + ("" if empty else " (at least one)"))
        return tuple(value)

    def flag(self, t: dict[str, Any], section: str, key: str) -> bool:
        value = t[key]
        if not isinstance(value, bool):
            raise self.fail(f"[{section}] {key}", f"must be true or false, not {value!r}")
        return value

    def whole(self, t: dict[str, Any], section: str, key: str, low: int, high: int) -> int:
        value = t[key]
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(f"[{section}] {key}", f"must be a whole number {low}-{high}, not "
                            f"{value!r}"[:120])
        if not low <= value <= high:
            raise self.fail(f"[{section}] {key}", f"{value} is outside {low}-{high}"[:120])
        return value

    def decimal(self, t: dict[str, Any], section: str, key: str, low: Fraction,
                high: Fraction) -> Fraction:
        value = t[key]
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.fail(f"[{section}] {key}", "must be a number")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(f"[{section}] {key}", "must be a finite number")
        try:
            return parse_decimal(str(value), f"[{section}] {key}", low=low, high=high)
        except UnitError as exc:
            raise self.unit_error(section, key, exc) from None

    def choice(self, t: dict[str, Any], section: str, key: str,
               kind: type[PainType] | type[PainDistribution]) -> str:
        value = t[key]
        allowed = [member.value for member in kind]
        if not isinstance(value, str) or value.strip().lower() not in allowed:
            raise self.fail(f"[{section}] {key}", f"{str(value)[:24]!r} is not one of "
                            f"{', '.join(allowed)}")
        return value.strip().lower()

    def quantity(self, t: dict[str, Any], section: str, key: str, kind: Kind) -> Quantity:
        value = t[key]
        if not isinstance(value, str):
            raise self.fail(f"[{section}] {key}", "must be a quantity written as text with its "
                            "unit, like \"240 mg/day\"")
        try:
            return parse_quantity(value, kind, f"[{section}] {key}")
        except UnitError as exc:
            raise self.unit_error(section, key, exc) from None

    def duration(self, t: dict[str, Any], section: str, key: str, positive: bool) -> Quantity:
        value = t[key]
        if not isinstance(value, str):
            raise self.fail(f"[{section}] {key}", "must be a time written as text, like "
                            "\"90 day\", \"12 week\" or \"4 month\"")
        try:
            time = parse_duration(value, f"[{section}] {key}")
        except UnitError as exc:
            raise self.unit_error(section, key, exc, " (or weeks or months, like \"4 month\")"
                                  ) from None
        if time < Quantity.of(0, "day") or (positive and not time.is_positive()):
            raise self.fail(f"[{section}] {key}", f"{value!r} must be above zero")
        return time
