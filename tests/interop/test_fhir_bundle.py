"""The FHIR resources from the pump's log, readings and audit trail (R5 and R4B, each
validated by fhir.resources): a MedicationAdministration per basal rate segment and per
bolus (a refused bolus is none), exact in UCUM with the program in force as `request`;
DeviceMetric + Observation for reservoir and battery; an AuditEvent per audit record of the
programs; `--since` on all of them. The whole-Bundle round trip: export, read back, the
current program's therapy is the stored one's, and exporting twice gives the same JSON;
bad Bundles are refused naming the element. The programming trail is read with the
record's permission, by no one else."""

from __future__ import annotations

import copy
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idds.drugs import load_library
from idds.interop import codes
from idds.interop.fhir_administrations import (
    Administration,
    LogDates,
    administration_resource,
    administrations,
)
from idds.interop.fhir_export import (
    FhirError,
    FhirVersion,
    dose_units,
    fhir_json,
    patient_bundle,
    read_fhir_json,
    validated,
)
from idds.interop.fhir_import import bundle_therapy
from idds.interop.fhir_record import program_resources
from idds.pump import (
    Continuous,
    DemandBolus,
    Drug,
    EventKind,
    EventLog,
    Flex,
    FlexStep,
    Therapy,
)
from idds.pump.clock import DAY, HOUR, MINUTE
from idds.pump.records import drug_record, therapy_record
from idds.store import Database, UserRole
from idds.store.clock import FakeClock
from idds.store.errors import AccessDeniedError
from idds.store.model import Implant, PumpReading
from idds.store.therapy import program_therapy, programs_of
from idds.store.trail import program_trail
from idds.units import Quantity, terminates
from tests.interop.record_helpers import make_record
from tests.interop.test_fhir_import import program_row
from tests.store.store_helpers import START, actor, q

LIBRARY = load_library()
UNITS = dose_units(LIBRARY)
UCUM = "http://unitsofmeasure.org"


def _bundle(db: Database, clock: FakeClock, pid: int, version: FhirVersion,
            since: Any = None) -> dict[str, Any]:
    return patient_bundle(db, actor(UserRole.NURSE, clock), pid, UNITS, version, since)


def _of(bundle: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {e["resource"]["id"]: e["resource"] for e in bundle["entry"]
            if e["resource"]["resourceType"] == kind}


@pytest.mark.parametrize("version", list(FhirVersion))
def test_the_log_readings_and_trail_export_as_valid_resources(
        db: Database, clock: FakeClock, version: FhirVersion) -> None:
    record = make_record(db, clock)
    bundle = _bundle(db, clock, record.patient_id, version)
    for entry in bundle["entry"]:
        validated(entry["resource"], version)  # each resource alone, as well as the Bundle
    given = _of(bundle, "MedicationAdministration")
    first, second = (f"MedicationRequest/program-{i}" for i in record.program_ids)
    pump = f"Device/pump-{record.implant_id}"
    # segments: set .. alarm stop, alarm cleared .. next program, next program .. clinician
    # bolus, after it (still running); boluses: the patient's and the cancelled clinician's
    i = record.implant_id
    assert sorted(given) == sorted([f"basal-{i}-2", f"bolus-{i}-3", f"basal-{i}-7",
                                    f"basal-{i}-8", f"bolus-{i}-9", f"basal-{i}-10"])
    when = "occurencePeriod" if version is FhirVersion.R5 else "effectivePeriod"
    other = "effectivePeriod" if version is FhirVersion.R5 else "occurencePeriod"
    assert all(when in g and other not in g for g in given.values())
    basal = given[f"basal-{i}-2"]
    assert basal["status"] == "completed" and basal["request"]["reference"] == first
    assert basal["dosage"]["rateQuantity"] == {"value": Decimal("1.2"), "unit": "mg/day",
                                               "system": UCUM, "code": "mg/d"}
    assert basal["dosage"]["route"]["coding"][0]["code"] == "72607000"
    assert basal[when] == {"start": (START + timedelta(minutes=2)).isoformat(),
                           "end": (START + timedelta(hours=3)).isoformat()}
    assert basal["device"] == ([{"reference": {"reference": pump}}]
                               if version is FhirVersion.R5 else [{"reference": pump}])
    bolus = given[f"bolus-{i}-3"]
    assert bolus["dosage"]["dose"] == {"value": Decimal("0.1"), "unit": "mg", "system": UCUM,
                                       "code": "mg"}  # 0.01 mL of 10 mg/mL
    assert bolus["status"] == "completed" and bolus["request"]["reference"] == first
    assert given[f"basal-{i}-8"]["request"]["reference"] == second
    assert given[f"basal-{i}-8"]["dosage"]["rateQuantity"]["value"] == Decimal("1.1")
    cancelled = given[f"bolus-{i}-9"]
    assert cancelled["status"] == "stopped" and "dose" not in cancelled["dosage"]
    assert "request" not in cancelled  # the program does not order a clinician bolus
    running = given[f"basal-{i}-10"]
    assert running["status"] == "in-progress" and set(running[when]) == {"start"}
    metrics = _of(bundle, "DeviceMetric")
    source = "device" if version is FhirVersion.R5 else "source"
    assert {m[source]["reference"] for m in metrics.values()} == {pump}
    observed = _of(bundle, "Observation")
    reservoir = observed["reading-1-reservoir"]  # the first reading's
    assert reservoir["valueQuantity"] == {"value": Decimal("12.345678"), "unit": "mL",
                                          "system": UCUM, "code": "mL"}
    assert reservoir["device"]["reference"] == f"DeviceMetric/metric-{i}-reservoir"
    assert observed["reading-1-battery"]["valueQuantity"]["code"] == "d"
    # the reservoir and the volume delivered: the MDC terms HL7 v2 sends, from one table entry
    mdc = "urn:iso:std:iso:11073:10101"
    assert reservoir["code"]["coding"] == [{"system": mdc, "code": "157872",
                                            "display": "MDC_VOL_FLUID_TBI_REMAIN"}]
    assert metrics[f"metric-{i}-reservoir"]["type"]["coding"] == reservoir["code"]["coding"]
    assert str(codes.MDC_VOL_FLUID_TBI_REMAIN.code) == "157872"
    delivered = observed["reading-1-delivered"]  # the pump's 5 mL since its fill
    assert delivered["code"]["coding"] == [{"system": mdc, "code": "157864",
                                            "display": "MDC_VOL_FLUID_DELIV"}]
    assert delivered["valueQuantity"] == {"value": Decimal("5"), "unit": "mL",
                                          "system": UCUM, "code": "mL"}
    assert delivered["device"]["reference"] == f"DeviceMetric/metric-{i}-delivered"
    assert metrics[f"metric-{i}-delivered"]["type"]["coding"] == delivered["code"]["coding"]
    battery = observed["reading-1-battery"]["code"]["coding"][0]
    assert battery["system"] == "urn:idds:fhir:device-metric"  # no MDC term cited
    events = list(_of(bundle, "AuditEvent").values())
    assert [e["entity"][0]["what"]["reference"] for e in events] == [first, second]
    assert {e["agent"][0]["who"]["display"] for e in events} == {"clinician1"}
    assert all(e["action"] == "C" for e in events)
    outcome = [e["outcome"] for e in events]
    assert outcome[0] == ("0" if version is FhirVersion.R4B else {"code": {
        "system": "http://terminology.hl7.org/CodeSystem/audit-event-outcome", "code": "0",
        "display": "Success"}})


def test_since_applies_to_administrations_readings_and_audit_events(
        db: Database, clock: FakeClock) -> None:
    record = make_record(db, clock)
    bundle = _bundle(db, clock, record.patient_id, FhirVersion.R5, START + timedelta(days=1))
    i = record.implant_id
    assert sorted(_of(bundle, "MedicationAdministration")) == sorted(
        [f"basal-{i}-8", f"bolus-{i}-9", f"basal-{i}-10"])
    (event,) = _of(bundle, "AuditEvent").values()
    assert event["entity"][0]["what"]["reference"] == \
        f"MedicationRequest/program-{record.program_ids[1]}"
    assert len([o for o in _of(bundle, "Observation") if o.startswith("reading-")]) == 3
    later = _bundle(db, clock, record.patient_id, FhirVersion.R5, clock() + timedelta(days=1))
    assert not _of(later, "MedicationAdministration") and not _of(later, "AuditEvent")
    assert not [o for o in _of(later, "Observation") if o.startswith("reading-")]


@pytest.mark.parametrize("version", list(FhirVersion))
def test_a_reading_with_the_pump_clock_epoch_dates_the_log_exactly(
        db: Database, clock: FakeClock, version: FhirVersion) -> None:
    # the pump's time 0 is 5.25 s before the moment the sync's estimate would give it
    epoch = START - timedelta(seconds=5, milliseconds=250)
    record = make_record(db, clock, epoch)
    bundle = _bundle(db, clock, record.patient_id, version)
    given, i = _of(bundle, "MedicationAdministration"), record.implant_id
    when = "occurencePeriod" if version is FhirVersion.R5 else "effectivePeriod"
    assert given[f"basal-{i}-2"][when] == {"start": (epoch + timedelta(minutes=2)).isoformat(),
                                           "end": (epoch + timedelta(hours=3)).isoformat()}
    assert given[f"bolus-{i}-3"][when]["start"] == (epoch + timedelta(hours=1)).isoformat()
    # (a reading without the epoch, as before revision 0003, is dated by the sync's estimate:
    # test_the_log_readings_and_trail_export_as_valid_resources, START + 2 min)


def test_log_dates_take_each_reading_s_epoch_or_fall_back_to_its_sync() -> None:
    log = EventLog()
    for time, kind in ((100, EventKind.INTERROGATED), (200, EventKind.ALARM_CLEARED),
                       (300, EventKind.INTERROGATED), (Fraction(1201, 3), EventKind.ALARM_CLEARED),
                       (500, EventKind.INTERROGATED), (600, EventKind.ALARM_CLEARED)):
        log.append(Fraction(time), kind, {"alarm": "motor stall", "why": "ok"}
                   if kind is EventKind.ALARM_CLEARED else {})
    synced = START + timedelta(days=3)
    epoch = START - timedelta(hours=1)
    older = PumpReading(log_length=3, read_at=synced, clock_epoch=None)
    newer = PumpReading(log_length=5, read_at=synced + timedelta(days=1), clock_epoch=epoch)
    dates = LogDates(log.entries, [older, newer])
    # entries 0-2: the older reading, no epoch: its sync is the moment of the entry at 300 s
    assert dates.at(1, Fraction(200)) == synced - timedelta(seconds=100)
    assert dates.at(2, Fraction(300)) == synced
    # entries 3-4: the newer reading's epoch plus the pump seconds (1201/3 s: to the us)
    assert dates.at(3, Fraction(1201, 3)) == epoch + timedelta(seconds=400,
                                                               microseconds=333333)
    assert dates.at(4, Fraction(500)) == epoch + timedelta(seconds=500)
    assert dates.at(5, Fraction(600)) is None  # no reading covers it
    # a reading with an epoch needs no interrogation in the log
    assert LogDates([], [newer]).at(0, Fraction(7)) == epoch + timedelta(seconds=7)


def _walk(drug: Drug, *steps: tuple[Fraction, EventKind, dict[str, Any]]
          ) -> list[Administration]:
    log = EventLog()
    for time, kind, details in steps:
        log.append(time, kind, details)
    return administrations(log.entries, [])


def _set(therapy: Therapy, drug: Drug) -> dict[str, Any]:
    return {"old": therapy_record(therapy), "old_confirmed": False,
            "new": therapy_record(therapy), "drug": drug_record(drug)}


FLEX = Flex(((FlexStep(0, q("0.4 mg/day")), FlexStep(480, q("0.6 mg/day")),
              FlexStep(1320, q("0.45 mg/day"))),))


def test_a_flex_segment_is_cut_at_each_step() -> None:
    morphine = Drug("morphine", q("10 mg/mL"))
    done = _walk(morphine,
                 (6 * HOUR, EventKind.PROGRAM_CHANGED, _set(Therapy(FLEX), morphine)),
                 (DAY + 9 * HOUR, EventKind.PROGRAM_CHANGED,
                  _set(Therapy(Continuous(q("0.5 mg/day"))), morphine)),
                 (DAY + 10 * HOUR, EventKind.INTERROGATED, {}))
    pieces = [(a.start / HOUR, None if a.end is None else a.end / HOUR, a.rate) for a in done]
    assert pieces == [(6, 8, q("0.4 mg/day")), (8, 22, q("0.6 mg/day")),
                      (22, 24, q("0.45 mg/day")), (24, 32, q("0.4 mg/day")),
                      (32, 33, q("0.6 mg/day")), (33, None, q("0.5 mg/day"))]
    assert [a.piece for a in done] == [0, 1, 2, 3, 4, None]


def test_a_microgram_drug_is_ug_in_ucum() -> None:
    ziconotide = Drug("ziconotide", q("25 mcg/mL"))
    done = _walk(ziconotide,
                 (MINUTE, EventKind.PROGRAM_CHANGED,
                  _set(Therapy(Continuous(q("2.4 mcg/day"))), ziconotide)),
                 (HOUR, EventKind.BOLUS_STARTED, {"kind": "patient", "volume": q("0.004 mL")}),
                 (HOUR + 30, EventKind.BOLUS_COMPLETED, {"kind": "patient",
                                                         "volume": q("0.004 mL")}))
    bolus = next(a for a in done if a.kind == "patient")
    assert bolus.dose == q("0.1 mcg") and done[0].rate == q("2.4 mcg/day")
    implant = Implant(id=1, patient_id=1, pump_serial="SN-9")
    dates = LogDates([], [])
    dates.anchors = [(10, Fraction(0), START)]
    for given_ in done:
        resource = administration_resource(given_, implant, dates, "mcg/day", FhirVersion.R5)
        assert resource is not None
        validated(resource, FhirVersion.R5)
        dosage = resource["dosage"]
        coded = dosage.get("dose") or dosage["rateQuantity"]
        assert coded["code"] in ("ug", "ug/d") and "mcg" in coded["unit"]


@settings(max_examples=60, deadline=None)
@given(starts=st.lists(st.integers(1, 1439), max_size=5, unique=True),
       begin=st.integers(0, 3 * 86400), length=st.integers(1, 3 * 86400))
def test_flex_pieces_cover_the_segment_one_step_each(starts: list[int], begin: int,
                                                     length: int) -> None:
    steps = tuple(FlexStep(m, Quantity.of(n + 1, "mg/day"))
                  for n, m in enumerate([0, *sorted(starts)]))
    flex = Flex((steps,))
    morphine = Drug("morphine", q("10 mg/mL"))
    end = Fraction(begin + length)
    done = _walk(morphine, (Fraction(begin), EventKind.PROGRAM_CHANGED,
                            _set(Therapy(flex), morphine)),
                 (end, EventKind.INFUSION_STOPPED, {"why": "test"}),
                 (end, EventKind.DRUG_CHANGED, {"old": drug_record(morphine),
                                                "new": drug_record(morphine)}))
    assert done[0].start == begin and done[-1].end == end
    for one, two in pairwise(done):
        assert one.end == two.start
    for piece in done:
        assert piece.end is not None and piece.start < piece.end
        minute = int(piece.start % DAY) // 60
        in_force = [s for s in steps if s.start_minute <= minute][-1]
        assert piece.rate == in_force.dose_rate
        last = int((piece.end - Fraction(1, 10**6)) % DAY) // 60
        assert [s for s in steps if s.start_minute <= last][-1] == in_force


@pytest.mark.parametrize("version", list(FhirVersion))
def test_the_bundle_round_trips_to_the_current_program(db: Database, clock: FakeClock,
                                                       version: FhirVersion) -> None:
    record = make_record(db, clock)
    text = fhir_json(_bundle(db, clock, record.patient_id, version))
    assert fhir_json(_bundle(db, clock, record.patient_id, version)) == text  # idempotent
    read = read_fhir_json(text)
    request = bundle_therapy(read, version, LIBRARY, record.patient_id, "MRN-1")
    stored = programs_of(db, actor(UserRole.NURSE, clock), record.patient_id,
                         record.implant_id)[-1]
    assert request.therapy == program_therapy(stored)
    assert (request.drug, request.concentration) == ("morphine", q("10 mg/mL"))
    assert fhir_json(read) == text  # read back, written again: the same text


def _refused(bundle: object, version: FhirVersion) -> str:
    with pytest.raises(FhirError) as refused:
        bundle_therapy(bundle, version, LIBRARY, 1, "MRN-1")
    return str(refused.value)


def test_bad_bundles_are_refused_naming_the_element(db: Database, clock: FakeClock) -> None:
    record = make_record(db, clock)
    assert record.patient_id == 1
    r5 = read_fhir_json(fhir_json(_bundle(db, clock, 1, FhirVersion.R5)))
    r4b = read_fhir_json(fhir_json(_bundle(db, clock, 1, FhirVersion.R4B)))
    assert _refused(r4b, FhirVersion.R5).startswith("Bundle.entry.")  # R4B read as R5
    assert _refused(r5, FhirVersion.R4B).startswith("Bundle.entry.")  # and vice versa
    assert "resourceType" in _refused({"resourceType": "Bundel"}, FhirVersion.R5)
    assert _refused({"resourceType": "Bundle", "type": "transaction", "entry": {"x": 1}},
                    FhirVersion.R5).startswith("Bundle.entry")
    assert _refused({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": {"resourceType": "MedicationRequest", "status": ["active"]}}]},
        FhirVersion.R5).startswith("Bundle.entry.0.resource")
    assert "not a Bundle" in _refused(_of(r5, "Patient")["patient-1"], FhirVersion.R5)
    assert "no MedicationRequest" in _refused({"resourceType": "Bundle", "type": "transaction",
                                               "entry": []}, FhirVersion.R5)
    assert isinstance(r5, dict)
    index = max(n for n, e in enumerate(r5["entry"])
                if e["resource"]["resourceType"] == "MedicationRequest")
    where = f"Bundle.entry[{index}].resource (MedicationRequest/program-2)."
    unit = copy.deepcopy(r5)
    unit["entry"][index]["resource"]["dosageInstruction"][0]["doseAndRate"][0][
        "rateQuantity"]["code"] = "mg/dL"
    assert _refused(unit, FhirVersion.R5).startswith(
        where + "dosageInstruction[0].doseAndRate[0].rateQuantity.code: 'mg/dL' is not a UCUM")
    drug = copy.deepcopy(r5)
    drug["entry"][index]["resource"]["medication"]["concept"]["text"] = "heroin 10 mg/mL"
    assert _refused(drug, FhirVersion.R5).startswith(where + "medication.concept.text")
    loop = copy.deepcopy(r5)
    first = min(n for n, e in enumerate(r5["entry"])
                if e["resource"]["resourceType"] == "MedicationRequest")
    loop["entry"][first]["resource"]["priorPrescription"] = {
        "reference": "MedicationRequest/program-2"}
    assert "one current MedicationRequest" in _refused(loop, FhirVersion.R5)


@settings(max_examples=40, deadline=None)
@given(rate=st.fractions(Fraction(1, 1000), 50).filter(lambda f: f.denominator <= 10**6),
       dose=st.integers(1, 500), duration=st.integers(1, 60), lockout=st.integers(60, 1440),
       most=st.integers(1, 24), with_bolus=st.booleans(),
       version=st.sampled_from(list(FhirVersion)))
def test_any_exported_program_reads_back_from_its_bundle(
        rate: Fraction, dose: int, duration: int, lockout: int, most: int, with_bolus: bool,
        version: FhirVersion) -> None:
    demand = DemandBolus(Quantity.of(Fraction(dose, 1000), "mg"), Quantity.of(duration, "min"),
                         Quantity.of(lockout, "min"), most) if with_bolus else None
    therapy = Therapy(Continuous(Quantity.of(rate, "mg/day")), demand)
    older = program_row(Therapy(Continuous(q("0.5 mg/day"))), 6, None)
    newer = program_row(therapy, 7, 6)
    resources = [r for row in (older, newer)
                 for r in program_resources(row, "mg/day", version)]
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": f"urn:idds:{r['resourceType']}/{r['id']}", "resource": r,
         "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
        for r in resources]}
    read = read_fhir_json(fhir_json(bundle))
    # the stored program's therapy: the record keeps a rate without a finite decimal (1/750
    # mg/day) to 12 significant digits (`idds.pump.records`), which then exports exactly
    assert bundle_therapy(read, version, LIBRARY, 1, "MRN-1").therapy == program_therapy(newer)
    if terminates(rate.denominator):
        assert program_therapy(newer) == therapy


def test_the_programming_trail_is_read_with_the_record_only(db: Database,
                                                            clock: FakeClock) -> None:
    record = make_record(db, clock)
    trail = program_trail(db, actor(UserRole.NURSE, clock), record.patient_id)
    assert [(r.entity_type, r.entity_id) for r in trail] == [
        ("therapy_program", str(i)) for i in record.program_ids]
    mine = actor(UserRole.PATIENT, clock, "patient1", record.patient_id)
    assert len(program_trail(db, mine, record.patient_id)) == 2
    for who, pid in ((actor(UserRole.RESEARCHER, clock), record.patient_id),
                     (actor(UserRole.PATIENT, clock, "other", 99), record.patient_id)):
        with pytest.raises(AccessDeniedError):
            program_trail(db, who, pid)
