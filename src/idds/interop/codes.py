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
    """A FHIR Coding (system, code, display); `text` the concept's text (default: display)."""

    system: str
    code: str
    display: str
    text: str = ""

    def coding(self) -> dict[str, str]:
        return {"system": self.system, "code": self.code, "display": self.display}

    def concept(self) -> dict[str, object]:
        return {"coding": [self.coding()], "text": self.text or self.display}


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


# FHIR audit events (docs/interop.md, docs/references.md): the action codes are IDDS's own
# code system, named as such; the audit outcome is HL7's audit-event-outcome code system (R5's
# `outcome.code` Coding; R4B's `outcome` takes the bare code). The device metrics' codes are
# below, after the MDC table they share with HL7 v2.
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


# ------------------------------------------------------------------------------------------
# HL7 v2 (IHE PCD-01 DEC, PCD-04 ACM): MDC codes (ISO/IEEE 11073-10101, context-free 32-bit
# codes: partition * 65536 + term code) and HL7 v2 table values. Sources (docs/references.md,
# "Interoperability"): the IHE PCD Technical Framework Vol. 2 (transactions, the PCD-01 pump
# example message: VMD/channel and metric codes, MDC_DIM units), the IHE PCD infusion pump
# term table (Rosetta: REFID, CF_CODE10 = partition * 65536 + code), the PCD-01 and PCD-04
# (ACM) pump messages of the Philips IntelliBridge examples (the MDS code, MDC_EVT_ALARM and
# the MDC_ATTR_ALERT_SOURCE / EVENT_PHASE / ALARM_STATE / ALARM_INACTIVATION_STATE
# attributes, the profiles) and the IEEE 11073-20601 attribute codes (MDC_ATTR_ID_MODEL
# 1::2344, MDC_ATTR_SYS_ID 1::2436). Uncertainties are stated in docs/interop.md ("HL7 v2").
# ------------------------------------------------------------------------------------------

#: HL7 v2 coding-system names (HL7 table 0396): MDC, UCUM, and IDDS's own local codes ("99"
#: then letters: a local system, for alarm kinds with no citable MDC event code).
HL7_MDC = "MDC"
HL7_UCUM = "UCUM"
HL7_LOCAL = "99IDDS"
#: MDC in FHIR: the url of HL7 Terminology's CodeSystem v3-mdc (ISO 11073-10101), the code
#: the context-free decimal.
MDC_FHIR_SYSTEM = "urn:iso:std:iso:11073:10101"


@dataclass(frozen=True)
class MdcCode:
    """An ISO/IEEE 11073-10101 term: the context-free code (CF_CODE10) and its REFID."""

    code: int
    refid: str

    def cwe(self, text: str = "") -> str:
        """The HL7 v2 CWE `code^REFID^MDC` (with a ninth component, original text, if given)."""
        base = f"{self.code}^{self.refid}^{HL7_MDC}"
        return f"{base}^^^^^^{text}" if text else base

    def fhir(self, text: str) -> Code:
        """The same term as a FHIR Coding (system MDC_FHIR_SYSTEM, the code as digits, the
        REFID as display) with `text` as the concept's text."""
        return Code(MDC_FHIR_SYSTEM, str(self.code), self.refid, text)


@dataclass(frozen=True)
class LocalHl7Code:
    """An observation identifier local to IDDS (HL7_LOCAL), for a quantity with no cited MDC
    term: `code^text^99IDDS`."""

    code: str
    text: str

    def cwe(self, text: str = "") -> str:
        """The HL7 v2 CWE `code^text^99IDDS` (a ninth component, original text, if given)."""
        base = f"{self.code}^{self.text}^{HL7_LOCAL}"
        return f"{base}^^^^^^{text}" if text else base


# Containment (partition 1, objects): the pump's MDS, VMD and delivery channel.
MDC_DEV_PUMP_INFUS_MDS = MdcCode(69985, "MDC_DEV_PUMP_INFUS_MDS")
MDC_DEV_PUMP_INFUS_VMD = MdcCode(69986, "MDC_DEV_PUMP_INFUS_VMD")
MDC_DEV_PUMP_INFUS_CHAN_DELIVERY = MdcCode(126978, "MDC_DEV_PUMP_INFUS_CHAN_DELIVERY")
# MDS attributes (partition 1): model, system id.
MDC_ATTR_ID_MODEL = MdcCode(67880, "MDC_ATTR_ID_MODEL")
MDC_ATTR_SYS_ID = MdcCode(67972, "MDC_ATTR_SYS_ID")
# Metrics (partition 2, SCADA): 2::26712 flow, 2::26852 dose rate, 2::26688 concentration,
# 2::26800 volume to be infused remaining (the reservoir); drug name (partition 2 text).
MDC_FLOW_FLUID_PUMP = MdcCode(157784, "MDC_FLOW_FLUID_PUMP")
MDC_RATE_DOSE = MdcCode(157924, "MDC_RATE_DOSE")
MDC_CONC_DRUG = MdcCode(157760, "MDC_CONC_DRUG")
MDC_VOL_FLUID_TBI_REMAIN = MdcCode(157872, "MDC_VOL_FLUID_TBI_REMAIN")
#: 2::26792, volume delivered: the IHE PCD-01 pump example (as the IBM streamsx.health Vines
#: tests reproduce it) gives it in mL on the delivery channel. IDDS sends the volume the pump
#: counts since its last fill (the counter a refill resets), dated by the reading.
MDC_VOL_FLUID_DELIV = MdcCode(157864, "MDC_VOL_FLUID_DELIV")
MDC_DRUG_NAME_TYPE = MdcCode(184330, "MDC_DRUG_NAME_TYPE")
# Alarms (PCD-04): the alarm observation and its attributes (partition 3 events, 1 attrs).
MDC_EVT_ALARM = MdcCode(196616, "MDC_EVT_ALARM")
MDC_ATTR_ALERT_SOURCE = MdcCode(68480, "MDC_ATTR_ALERT_SOURCE")
MDC_ATTR_EVENT_PHASE = MdcCode(68481, "MDC_ATTR_EVENT_PHASE")
MDC_ATTR_ALARM_STATE = MdcCode(68482, "MDC_ATTR_ALARM_STATE")
MDC_ATTR_ALARM_INACTIVATION_STATE = MdcCode(68483, "MDC_ATTR_ALARM_INACTIVATION_STATE")

#: Each pump alarm kind (`idds.pump.AlarmKind` value) -> its event code, local to IDDS
#: (HL7_LOCAL): no MDC event code for these implanted-pump alarms was found in a citable
#: source, so none is guessed; a receiver maps the local code (docs/interop.md).
ALARM_LOCAL_CODE = {
    "empty reservoir": "empty-reservoir", "end of service": "end-of-service",
    "motor stall": "motor-stall", "critical memory error": "critical-memory-error",
    "low reservoir": "low-reservoir", "elective replacement indicator": "eri",
    "non-critical memory error": "memory-error",
}
#: The dose the pump delivered since its last fill (the volume delivered times the
#: concentration, in the drug's mass unit): local, as no cited source gives an MDC term for it
#: (MDC_DOSE_DRUG_DELIV_TOTAL, 158001, appears only in code that cites no source).
HL7_DOSE_DELIVERED = LocalHl7Code("dose-delivered-since-fill",
                                  "Drug dose delivered since the last fill")

# FHIR device metrics (docs/interop.md): the reservoir and the volume delivered are the MDC
# terms HL7 v2 sends (one entry each, above); the battery's days to the elective replacement
# indicator has no cited MDC term (MDC_ATTR_TIME_BATT_REMAIN is the time until the battery is
# spent, not until replacement is due) and stays IDDS's own code system.
FHIR_METRIC_SYSTEM = "urn:idds:fhir:device-metric"
FHIR_METRIC_RESERVOIR = MDC_VOL_FLUID_TBI_REMAIN.fhir(
    "Drug reservoir volume, the pump's estimate")
FHIR_METRIC_DELIVERED = MDC_VOL_FLUID_DELIV.fhir("Volume delivered since the last fill")
FHIR_METRIC_BATTERY = Code(FHIR_METRIC_SYSTEM, "battery-eri-days",
                           "Battery: days to the elective replacement indicator")

#: IHE PCD-04 OBX-8 interpretation: the alarm priority (IEC 60601-1-8 `Priority` value ->
#: PH/PM/PL) and its type (ST: technical; every pump alarm is technical, none physiological).
ALARM_PRIORITY = {"high": "PH", "medium": "PM", "low": "PL"}
ALARM_TECHNICAL = "ST"
ALARM_PHASE_START = "start"
ALARM_STATE_ACTIVE = "active"
ALARM_INACTIVATION_ENABLED = "enabled"

#: MDC unit codes (MDC_DIM) for the units the IHE PCD pump example gives them; other units go
#: as UCUM alone. OBX-6 always carries the UCUM code (`ug`, never `mcg`).
MDC_DIM = {"mL": MdcCode(263762, "MDC_DIM_MILLI_L"),
           "mL/h": MdcCode(265266, "MDC_DIM_MILLI_L_PER_HR"),
           "mg/mL": MdcCode(264306, "MDC_DIM_MILLI_G_PER_ML")}
#: UCUM codes of the units the HL7 v2 export writes that the FHIR table has no entry for.
HL7_UCUM_CODES = {"mL/day": "mL/d", "mcg/mL": "ug/mL"}

#: IHE PCD message profiles (MSH-21): DEC (PCD-01) and ACM (PCD-04).
PCD_01_PROFILE = "IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO"
PCD_04_PROFILE = "IHE_PCD_ACM_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.4.1^ISO"
#: HL7 v2 table values: the version IHE PCD uses, processing id P (table 0103), accept
#: acknowledgement AL / application acknowledgement NE (table 0155), patient class O
#: (outpatient, table 0004), observation status R/F/X (table 0085), identifier type PI
#: (table 0203), value types NM/ST/CWE (table 0125), acknowledgement codes (table 0008).
HL7_VERSION = "2.6"
HL7_PROCESSING_ID = "P"
HL7_ACCEPT_ACK = "AL"
HL7_APPLICATION_ACK = "NE"
HL7_PATIENT_CLASS = "O"
HL7_RESULT_UNVERIFIED = "R"
HL7_RESULT_FINAL = "F"
HL7_RESULT_NOT_A_RESULT = "X"
HL7_ID_PATIENT_INTERNAL = "PI"
HL7_ERROR_APPLICATION = "207^Application internal error^HL70357"
HL7_SENDING_APPLICATION = "IDDS"
#: The namespace of pump serials in OBX-18 (equipment instance identifier) and PID-3's
#: assigning authority.
HL7_PUMP_NAMESPACE = "IDDS-PUMP"
HL7_PATIENT_AUTHORITY = "IDDS"


def hl7_ucum(unit: str) -> str:
    """The UCUM code of an IDDS unit symbol for HL7 v2 (the FHIR table, then HL7's own)."""
    try:
        return ucum(unit)
    except CodeError:
        if unit in HL7_UCUM_CODES:
            return HL7_UCUM_CODES[unit]
        raise
