"""Every code and unit IDDS sends to a hospital, in one table: never a string literal
elsewhere. Sources (docs/references.md, "Interoperability"): SNOMED CT 72607000 is the
intrathecal route; LOINC 72514-3 the 0-10 pain severity score; UCUM spells microgram "ug"
(UCUM has no "mcg"; "mcg" stays on screen) and day "d"; HL7's observation-category survey."""

from __future__ import annotations

from dataclasses import dataclass

from idds.errors import IddsError

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
DEVICE_ASSOCIATION_STATUS = "http://hl7.org/fhir/deviceassociation-status"
#: IDDS's own identifier systems (a record id is unique within one clinic's record).
PATIENT_ID_SYSTEM = "urn:idds:patient-identifier"
PUMP_SERIAL_SYSTEM = "urn:idds:pump-serial"


@dataclass(frozen=True)
class Code:
    system: str
    code: str
    display: str

    def coding(self) -> dict[str, str]:
        return {"system": self.system, "code": self.code, "display": self.display}

    def concept(self) -> dict[str, object]:
        return {"coding": [self.coding()], "text": self.display}


ROUTE_INTRATHECAL = Code(SNOMED, "72607000", "Intrathecal route")
PAIN_SCORE = Code(LOINC, "72514-3",
                  "Pain severity - 0-10 verbal numeric rating [Score] - Reported")
SURVEY = Code(OBSERVATION_CATEGORY, "survey", "Survey")

#: Extensions of a patient-bolus Dosage for what FHIR has no element for: how long one bolus
#: takes, and the lockout from the start of the last bolus (each a `valueDuration`).
BOLUS_DURATION_EXTENSION = "urn:idds:fhir:bolus-duration"
LOCKOUT_EXTENSION = "urn:idds:fhir:bolus-lockout"

#: IDDS unit symbols -> UCUM codes.
UCUM_CODES = {
    "mg/day": "mg/d", "mcg/day": "ug/d", "ug/day": "ug/d",
    "mg/h": "mg/h", "mcg/h": "ug/h",
    "mg": "mg", "mcg": "ug", "ug": "ug",
    "mg/mL": "mg/mL", "mcg/mL": "ug/mL",
    "mL": "mL", "h": "h", "min": "min", "day": "d", "d": "d",
}


#: UCUM codes -> the IDDS unit symbol read for them (the import's direction).
FROM_UCUM = {"mg/d": "mg/day", "ug/d": "mcg/day", "mg/h": "mg/h", "ug/h": "mcg/h",
             "mg": "mg", "ug": "mcg", "mg/mL": "mg/mL", "ug/mL": "mcg/mL", "mL": "mL",
             "h": "h", "min": "min", "d": "day", "s": "s"}


# FHIR device metrics and audit events (docs/interop.md, docs/references.md). No IEEE
# 11073-10101 (MDC) code is cited here: the metric and action codes are IDDS's own code
# systems, named as such; the audit outcome is HL7's audit-event-outcome code system (R5's
# `outcome.code` Coding; R4B's `outcome` takes the bare code).
FHIR_METRIC_SYSTEM = "urn:idds:fhir:device-metric"
FHIR_METRIC_RESERVOIR = Code(FHIR_METRIC_SYSTEM, "reservoir-volume",
                             "Drug reservoir volume, the pump's estimate")
FHIR_METRIC_BATTERY = Code(FHIR_METRIC_SYSTEM, "battery-eri-days",
                           "Battery: days to the elective replacement indicator")
#: The store's audit actions ("change therapy") as AuditEvent codes.
FHIR_AUDIT_ACTION_SYSTEM = "urn:idds:audit-action"
FHIR_AUDIT_OUTCOME = "http://terminology.hl7.org/CodeSystem/audit-event-outcome"
FHIR_AUDIT_SUCCESS = Code(FHIR_AUDIT_OUTCOME, "0", "Success")
#: The pump log's identifier system for an administration (the pump serial and entry seq).
FHIR_PUMP_LOG_SYSTEM = "urn:idds:pump-log-entry"


class CodeError(IddsError):
    """A unit or code with no entry in the table."""


def ucum(unit: str) -> str:
    """The UCUM code of an IDDS unit symbol."""
    try:
        return UCUM_CODES[unit]
    except KeyError:
        raise CodeError(f"unit {unit!r} has no UCUM code in idds.interop.codes") from None
