"""A patient's pumps as IHE PCD messages (HL7 v2.6, hl7apy): one PCD-01 (DEC) ORU^R01 of
device observations per export, and one PCD-04 (ACM) ORU^R40 per active (unacknowledged)
alarm.

The ORU^R01 has PID (the clinic's identifier, the name, the birth date), PV1 (outpatient),
one OBR per implanted pump (OBR-4 MDC_DEV_PUMP_INFUS_MDS) and under it the IHE PCD
containment in OBX-4 (MDS.VMD.CHAN.METRIC, the MDS numbered by the implant's order in the
record): the MDS (model, serial as MDC_ATTR_SYS_ID), the infusion VMD, the delivery
channel, and, from the pump's latest reading (`idds.store.readings`), the drug
(MDC_DRUG_NAME_TYPE), its concentration (MDC_CONC_DRUG, mg/mL or ug/mL), the reservoir
volume (MDC_VOL_FLUID_TBI_REMAIN, mL) and, for a continuous basal, the dose rate
(MDC_RATE_DOSE, the drug library's daily-dose unit: mg/d or ug/d) and the flow it takes
(MDC_FLOW_FLUID_PUMP, mL/d); where the reading kept it (readings since store revision 0003),
the volume the pump delivered since its last fill (MDC_VOL_FLUID_DELIV, mL) and that volume
times the concentration, the dose delivered since the fill (IDDS's local code
`dose-delivered-since-fill`, 99IDDS: no MDC term for it is cited; mg or ug, the drug's mass
unit). Every OBX-18 names the pump by its serial. An explanted pump,
or one never read, has its MDS rows only.

Values are exact: a quantity with a finite decimal is written with every digit, one without
is refused (`hl7v2.number`). Codes come from `idds.interop.codes`. The message time and the
control ids come from `at` (the store's clock): exporting twice at the same time gives the
same messages.
"""

from __future__ import annotations

from datetime import datetime

from hl7apy.core import Group, Message

from idds.interop.codes import (
    ALARM_INACTIVATION_ENABLED,
    ALARM_LOCAL_CODE,
    ALARM_PHASE_START,
    ALARM_PRIORITY,
    ALARM_STATE_ACTIVE,
    ALARM_TECHNICAL,
    HL7_DOSE_DELIVERED,
    HL7_ID_PATIENT_INTERNAL,
    HL7_LOCAL,
    HL7_PATIENT_AUTHORITY,
    HL7_PATIENT_CLASS,
    HL7_PUMP_NAMESPACE,
    HL7_RESULT_FINAL,
    HL7_RESULT_NOT_A_RESULT,
    HL7_RESULT_UNVERIFIED,
    MDC_ATTR_ALARM_INACTIVATION_STATE,
    MDC_ATTR_ALARM_STATE,
    MDC_ATTR_ALERT_SOURCE,
    MDC_ATTR_EVENT_PHASE,
    MDC_ATTR_ID_MODEL,
    MDC_ATTR_SYS_ID,
    MDC_CONC_DRUG,
    MDC_DEV_PUMP_INFUS_CHAN_DELIVERY,
    MDC_DEV_PUMP_INFUS_MDS,
    MDC_DEV_PUMP_INFUS_VMD,
    MDC_DRUG_NAME_TYPE,
    MDC_EVT_ALARM,
    MDC_FLOW_FLUID_PUMP,
    MDC_RATE_DOSE,
    MDC_VOL_FLUID_DELIV,
    MDC_VOL_FLUID_TBI_REMAIN,
    PCD_01_PROFILE,
    PCD_04_PROFILE,
    LocalHl7Code,
    MdcCode,
)
from idds.interop.hl7v2 import (
    Hl7Message,
    Hl7v2Error,
    Obx,
    Trigger,
    add_obx,
    er7,
    escaped,
    hl7_time,
    new_message,
    number,
    units,
)
from idds.pump import Continuous
from idds.pump.records import therapy_from_record
from idds.store import Actor, Database
from idds.store.alarms import alarms_of
from idds.store.canonical import parse_json
from idds.store.model import Alarm, Implant, Patient, PumpReading
from idds.store.patients import get_patient, implants_of
from idds.store.quantities import concentration_of, volume_of
from idds.store.readings import readings_of


def control_id(patient_id: int, at: datetime, index: int) -> str:
    """MSH-10 of the export's `index`th message (0: the ORU^R01): the time, the patient and
    the index, unique per export and per clinic record (20 characters or fewer for a patient
    id below 10^4 and fewer than 100 alarms)."""
    return f"{hl7_time(at)[:14]}.{patient_id}.{index}"


def _equipment(implant: Implant) -> str:
    """OBX-18: the pump's serial in IDDS's pump namespace (EI)."""
    return f"{escaped(implant.pump_serial)}^{HL7_PUMP_NAMESPACE}"


def _patient(message: Message, row: Patient) -> Group:
    """The PATIENT_RESULT group with PID (PID-3 the clinic's identifier, PID-5 the name as
    the record has it, whole, in the family-name component, PID-7 the birth date) and PV1."""
    result = message.add_group("ORU_R01_PATIENT_RESULT")
    patient = result.add_group("ORU_R01_PATIENT")
    patient.pid.pid_3 = (f"{escaped(row.identifier)}^^^{HL7_PATIENT_AUTHORITY}^"
                         f"{HL7_ID_PATIENT_INTERNAL}")
    patient.pid.pid_5 = escaped(row.name)
    patient.pid.pid_7 = row.birth_date.strftime("%Y%m%d")
    visit = patient.add_group("ORU_R01_VISIT")
    visit.pv1.pv1_2 = HL7_PATIENT_CLASS
    return result


def _order(result: Group, set_id: int, filler: str, code: str, at: str) -> Group:
    order = result.add_group("ORU_R01_ORDER_OBSERVATION")
    order.obr.obr_1 = str(set_id)
    order.obr.obr_3 = f"{escaped(filler)}^{HL7_PUMP_NAMESPACE}"
    order.obr.obr_4 = code
    order.obr.obr_7 = at
    return order


def pump_rows(mds: int, implant: Implant, reading: PumpReading | None,
              dose_unit: str) -> list[Obx]:
    """The OBX rows of one pump (see the module docstring); `mds` its MDS number."""
    device = _equipment(implant)
    rows = [Obx("", MDC_DEV_PUMP_INFUS_MDS, f"{mds}.0.0.0", status=HL7_RESULT_NOT_A_RESULT,
                equipment=device),
            Obx("ST", MDC_ATTR_ID_MODEL, f"{mds}.0.0.1", escaped(implant.pump_model),
                status=HL7_RESULT_UNVERIFIED, equipment=device),
            Obx("ST", MDC_ATTR_SYS_ID, f"{mds}.0.0.2", escaped(implant.pump_serial),
                status=HL7_RESULT_UNVERIFIED, equipment=device)]
    if reading is None or implant.explanted_on is not None:
        return rows
    at = hl7_time(reading.read_at)
    rows += [Obx("", MDC_DEV_PUMP_INFUS_VMD, f"{mds}.1.0.0", status=HL7_RESULT_NOT_A_RESULT,
                 equipment=device),
             Obx("", MDC_DEV_PUMP_INFUS_CHAN_DELIVERY, f"{mds}.1.1.0",
                 status=HL7_RESULT_NOT_A_RESULT, equipment=device)]

    def metric(n: int, value_type: str, code: MdcCode | LocalHl7Code, value: str,
               unit: str = "") -> Obx:
        return Obx(value_type, code, f"{mds}.1.1.{n}", value, units(unit) if unit else "",
                   HL7_RESULT_UNVERIFIED, at=at, equipment=device)

    mass = dose_unit.split("/")[0]
    per_ml = f"{mass}/mL"
    if reading.drug is not None:
        rows.append(metric(1, "ST", MDC_DRUG_NAME_TYPE, escaped(reading.drug)))
    concentration = None
    if reading.concentration_num is not None and reading.concentration_den is not None:
        concentration = concentration_of(reading.concentration_num, reading.concentration_den)
        rows.append(metric(2, "NM", MDC_CONC_DRUG,
                           number(concentration, per_ml, "the concentration"), per_ml))
    rows.append(metric(3, "NM", MDC_VOL_FLUID_TBI_REMAIN,
                       number(volume_of(reading.reservoir_nl), "mL", "the reservoir volume"),
                       "mL"))
    basal = therapy_from_record(parse_json(reading.therapy)).basal
    if isinstance(basal, Continuous) and reading.infusing:
        rows.append(metric(4, "NM", MDC_RATE_DOSE,
                           number(basal.dose_rate, dose_unit, "the dose rate"), dose_unit))
        if concentration is not None:
            flow = basal.dose_rate / concentration
            rows.append(metric(5, "NM", MDC_FLOW_FLUID_PUMP,
                               number(flow, "mL/day", "the flow"), "mL/day"))
    if reading.pumped_nl is not None:
        delivered = volume_of(reading.pumped_nl)
        rows.append(metric(6, "NM", MDC_VOL_FLUID_DELIV,
                           number(delivered, "mL", "the volume delivered"), "mL"))
        if concentration is not None:
            rows.append(metric(7, "NM", HL7_DOSE_DELIVERED,
                               number(delivered * concentration, mass,
                                      "the dose delivered"), mass))
    return rows


def observations(db: Database, actor: Actor, patient_id: int, dose_units: dict[str, str],
                 at: datetime) -> Hl7Message:
    """The patient's PCD-01 ORU^R01 (see the module docstring), validated by hl7apy;
    `dose_units` each drug's daily-dose unit (the library's: "mg/day", "mcg/day")."""
    identifier = control_id(patient_id, at, 0)
    message = new_message(Trigger.PCD_01, identifier, at, PCD_01_PROFILE)
    result = _patient(message, get_patient(db, actor, patient_id))
    for mds, implant in enumerate(implants_of(db, actor, patient_id), start=1):
        readings = readings_of(db, actor, patient_id, implant.id)
        reading = readings[-1] if readings else None
        unit = dose_units.get(reading.drug or "", "mg/day") if reading else "mg/day"
        order = _order(result, mds, f"{identifier}.{mds}", MDC_DEV_PUMP_INFUS_MDS.cwe(),
                       hl7_time(reading.read_at if reading else at))
        for n, row in enumerate(pump_rows(mds, implant, reading, unit), start=1):
            add_obx(order, n, row)
    return Hl7Message(Trigger.PCD_01, identifier, er7(message))


def alarm_event(kind: str, priority: str) -> str:
    """OBX-5 of MDC_EVT_ALARM: the kind's local event code (`codes.ALARM_LOCAL_CODE`),
    with the kind's words as original text."""
    text = f"{escaped(kind)} ({escaped(priority)} priority)"
    if kind not in ALARM_LOCAL_CODE:
        raise Hl7v2Error(f"alarm kind {kind!r} has no event code in idds.interop.codes")
    return f"{ALARM_LOCAL_CODE[kind]}^{escaped(kind)}^{HL7_LOCAL}^^^^^^{text}"


def alarm_message(patient: Patient, implant: Implant, alarm: Alarm, identifier: str,
                  at: datetime) -> Hl7Message:
    """One PCD-04 ORU^R40: the alarm (MDC_EVT_ALARM, OBX-8 its priority and 'technical'),
    its source (the pump's MDS), phase 'start', state 'active', inactivation 'enabled'; OBX-4
    1.0.0.0.n (the alarm sits on the pump's MDS)."""
    if alarm.priority not in ALARM_PRIORITY:
        raise Hl7v2Error(f"alarm {alarm.id}: priority {alarm.priority!r} has no HL7 code")
    message = new_message(Trigger.PCD_04, identifier, at, PCD_04_PROFILE)
    result = _patient(message, patient)
    raised = hl7_time(alarm.raised_at)
    order = _order(result, 1, f"alarm-{alarm.id}", MDC_EVT_ALARM.cwe(), raised)
    device = _equipment(implant)
    rows = [Obx("CWE", MDC_EVT_ALARM, "1.0.0.0.1", alarm_event(alarm.kind, alarm.priority),
                status=HL7_RESULT_FINAL, at=raised, equipment=device,
                interpretation=(ALARM_PRIORITY[alarm.priority], ALARM_TECHNICAL)),
            Obx("CWE", MDC_ATTR_ALERT_SOURCE, "1.0.0.0.2", MDC_DEV_PUMP_INFUS_MDS.cwe(),
                status=HL7_RESULT_FINAL, at=raised, equipment=device),
            Obx("ST", MDC_ATTR_EVENT_PHASE, "1.0.0.0.3", ALARM_PHASE_START,
                status=HL7_RESULT_FINAL, at=raised, equipment=device),
            Obx("ST", MDC_ATTR_ALARM_STATE, "1.0.0.0.4", ALARM_STATE_ACTIVE,
                status=HL7_RESULT_FINAL, at=raised, equipment=device),
            Obx("ST", MDC_ATTR_ALARM_INACTIVATION_STATE, "1.0.0.0.5",
                ALARM_INACTIVATION_ENABLED, status=HL7_RESULT_FINAL, at=raised,
                equipment=device)]
    for n, row in enumerate(rows, start=1):
        add_obx(order, n, row)
    return Hl7Message(Trigger.PCD_04, identifier, er7(message))


def alarm_messages(db: Database, actor: Actor, patient_id: int,
                   at: datetime) -> list[Hl7Message]:
    """One PCD-04 ORU^R40 per active (unacknowledged) alarm of the patient, oldest first."""
    patient = get_patient(db, actor, patient_id)
    implants = {i.id: i for i in implants_of(db, actor, patient_id)}
    active = [a for a in alarms_of(db, actor, patient_id) if a.acknowledged_at is None]
    return [alarm_message(patient, implants[a.implant_id], a, control_id(patient_id, at, n),
                          at) for n, a in enumerate(active, start=1)]


def patient_messages(db: Database, actor: Actor, patient_id: int, dose_units: dict[str, str],
                     at: datetime) -> list[Hl7Message]:
    """The export: the ORU^R01 of observations, then an ORU^R40 per active alarm."""
    return [observations(db, actor, patient_id, dose_units, at),
            *alarm_messages(db, actor, patient_id, at)]
