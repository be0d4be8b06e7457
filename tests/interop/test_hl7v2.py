"""HL7 v2 (IHE PCD-01 ORU^R01, PCD-04 ORU^R40) messages of a patient's pumps: built by hl7apy,
read back strictly by hl7apy and independently by the `hl7` package with the same segments,
OBX values and units; the MDC codes are the table's; quantities are exact ("0.35", UCUM
"ug" never "mcg" in a code); a value with no finite decimal is refused; the ACK."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import hl7
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idds.drugs import load_library
from idds.interop import codes
from idds.interop.fhir_export import dose_units
from idds.interop.hl7v2 import (
    AckCode,
    Hl7v2Error,
    Obx,
    Trigger,
    ack,
    add_obx,
    er7,
    escaped,
    new_message,
    number,
    parse,
    read_ack,
    units,
)
from idds.interop.hl7v2_export import observations, patient_messages, pump_rows
from idds.pump import AlarmKind, Continuous, Flex, FlexStep, Therapy
from idds.store import Database, UserRole, alarms, patients, readings
from idds.store.clock import FakeClock
from idds.store.model import Implant, PumpReading
from idds.units import Quantity
from tests.store.store_helpers import START, actor, pump_status, q

MDC_TABLE = {v.code: v.refid for v in vars(codes).values() if isinstance(v, codes.MdcCode)}


def _record(db: Database, clock: FakeClock, rate: str = "0.35 mg/day",
            name: str = "Ada Example") -> int:
    nurse, doctor = actor(UserRole.NURSE, clock), actor(UserRole.CLINICIAN, clock)
    patient = patients.register_patient(db, nurse, "MRN-1", name, date(1950, 5, 17))
    implant = patients.record_implant(db, doctor, patient.id, patients.ImplantDetails(
        "SN-1", "IDDS reference pump", "8709SC", "T10", date(2026, 2, 20), q("0.1 mL")))
    low = alarms.record_alarm(db, nurse, implant.id, AlarmKind.LOW_RESERVOIR, clock())
    alarms.record_alarm(db, nurse, implant.id, AlarmKind.ELECTIVE_REPLACEMENT, clock())
    alarms.acknowledge(db, nurse, alarms.record_alarm(
        db, nurse, implant.id, AlarmKind.MOTOR_STALL, clock()).id, 1)
    readings.record_reading(db, nurse, implant.id, pump_status(Therapy(Continuous(q(rate)))),
                            clock().date())
    assert low.id
    return patient.id


def _messages(db: Database, clock: FakeClock) -> list[str]:
    pid = _record(db, clock)
    return [m.text for m in patient_messages(db, actor(UserRole.NURSE, clock), pid,
                                             dose_units(load_library()), clock())]


def _obx(text: str) -> dict[str, tuple[str, str]]:
    """OBX-3 code -> (OBX-5, OBX-6 code) as the `hl7` package reads them."""
    out = {}
    for obx in hl7.parse(text).segments("OBX"):
        out[str(obx[3][0][0])] = (str(obx[5]), str(obx[6][0][0]) if str(obx[6]) else "")
    return out


def test_messages_read_the_same_with_hl7apy_and_the_hl7_package(db: Database,
                                                                clock: FakeClock) -> None:
    texts = _messages(db, clock)
    assert len(texts) == 3  # the observations, the two alarms not acknowledged
    for text in texts:
        assert "\n" not in text and text.count("\r") == len(text.split("\r")) - 1
        ours = parse(text)  # strict: hl7apy validates the structure
        theirs = hl7.parse(text)
        ours_segments = [s.name for s in ours.children if s.name == "MSH"] + [
            s.name for s in _segments(ours) if s.name != "MSH"]
        assert ours_segments == [str(s[0]) for s in theirs]
        for obx, other in zip(_segments(ours, "OBX"), theirs.segments("OBX"), strict=True):
            assert obx.obx_5.to_er7() == str(other[5])
            assert obx.obx_6.to_er7() == str(other[6])
            code, refid = str(other[3][0][0]), str(other[3][0][1])
            if str(other[3][0][2]) == codes.HL7_LOCAL:  # the one local observation
                assert obx.obx_3.to_er7() == codes.HL7_DOSE_DELIVERED.cwe()
                continue
            assert MDC_TABLE[int(code)] == refid and str(other[3][0][2]) == "MDC"
            assert str(other[18][0][0]) == "SN-1"
    first = hl7.parse(texts[0])
    assert str(first.segment("MSH")[9]) == Trigger.PCD_01.value
    assert str(first.segment("MSH")[21]) == codes.PCD_01_PROFILE
    assert str(first.segment("PID")[3][0][0]) == "MRN-1"
    assert [str(s[4]) for s in first.segments("OBX")][:5] == [
        "1.0.0.0", "1.0.0.1", "1.0.0.2", "1.1.0.0", "1.1.1.0"]
    for text in texts[1:]:
        alarm = hl7.parse(text)
        assert str(alarm.segment("MSH")[9]) == Trigger.PCD_04.value
        assert str(alarm.segment("OBR")[4]) == codes.MDC_EVT_ALARM.cwe()


def _segments(message: object, name: str | None = None) -> list:  # type: ignore[type-arg]
    """Every segment of an hl7apy message, in order (groups walked)."""
    out = []
    for child in message.children:  # type: ignore[attr-defined]
        if child.classname == "Segment":
            out.append(child)
        else:
            out += _segments(child)
    return [s for s in out if name is None or s.name == name]


def test_values_are_exact_and_units_ucum(db: Database, clock: FakeClock) -> None:
    obx = _obx(_messages(db, clock)[0])
    assert obx[str(codes.MDC_RATE_DOSE.code)] == ("0.35", "mg/d")
    assert obx[str(codes.MDC_FLOW_FLUID_PUMP.code)] == ("0.035", "mL/d")
    assert obx[str(codes.MDC_VOL_FLUID_TBI_REMAIN.code)] == ("15", "mL")
    assert obx[str(codes.MDC_CONC_DRUG.code)] == ("10", "mg/mL")
    assert obx[str(codes.MDC_DRUG_NAME_TYPE.code)] == ("morphine", "")
    assert obx[str(codes.MDC_ATTR_SYS_ID.code)] == ("SN-1", "")
    # the pump's 5 mL since its fill, and 5 mL x 10 mg/mL
    assert obx[str(codes.MDC_VOL_FLUID_DELIV.code)] == ("5", "mL")
    assert obx[codes.HL7_DOSE_DELIVERED.code] == ("50", "mg")


def test_the_volume_and_dose_delivered_read_the_same_with_both_parsers(
        db: Database, clock: FakeClock) -> None:
    text = _messages(db, clock)[0]
    ours = {s.obx_3.to_er7(): s for s in _segments(parse(text), "OBX")}
    theirs = {str(s[3]): s for s in hl7.parse(text).segments("OBX")}
    for code, value, unit, sub in (
            (codes.MDC_VOL_FLUID_DELIV.cwe(), "5", "mL^mL^UCUM^263762^MDC_DIM_MILLI_L^MDC",
             "1.1.1.6"),
            (codes.HL7_DOSE_DELIVERED.cwe(), "50", "mg^mg^UCUM", "1.1.1.7")):
        assert ours[code].obx_2.to_er7() == "NM" == str(theirs[code][2])
        assert ours[code].obx_5.to_er7() == value == str(theirs[code][5])
        assert ours[code].obx_6.to_er7() == unit == str(theirs[code][6])
        assert ours[code].obx_4.to_er7() == sub == str(theirs[code][4])
    assert str(theirs[codes.HL7_DOSE_DELIVERED.cwe()][3][0][2]) == "99IDDS"


def test_micrograms_are_ug_in_codes_and_mcg_only_in_text() -> None:
    implant = Implant(id=1, patient_id=1, pump_serial="S^1", pump_model="M|2",
                      explanted_on=None)
    reading = PumpReading(read_at=START, drug="ziconotide", concentration_num=100,
                          concentration_den=1000, therapy=_therapy_json("2.4 mcg/day"),
                          infusing=True, reservoir_nl=12_500_000)
    rows = pump_rows(1, implant, reading, "mcg/day")
    by_code = {r.code: r for r in rows}
    assert by_code[codes.MDC_RATE_DOSE].value == "2.4"
    assert by_code[codes.MDC_RATE_DOSE].unit == "ug/d^mcg/day^UCUM"
    assert by_code[codes.MDC_CONC_DRUG].value == "100"
    assert by_code[codes.MDC_CONC_DRUG].unit.startswith("ug/mL^mcg/mL^UCUM")
    assert by_code[codes.MDC_FLOW_FLUID_PUMP].value == "0.024"
    assert by_code[codes.MDC_VOL_FLUID_TBI_REMAIN].value == "12.5"
    assert by_code[codes.MDC_ATTR_SYS_ID].value == "S\\S\\1"
    assert all("mcg" not in r.unit.split("^")[0] for r in rows)
    # a reading stored before revision 0003 has no volume delivered: neither row is sent
    assert codes.MDC_VOL_FLUID_DELIV not in by_code
    assert codes.HL7_DOSE_DELIVERED not in by_code
    reading.pumped_nl = 1_234_567  # 1.234567 mL of 100 mcg/mL: 123.4567 mcg
    by_code = {r.code: r for r in pump_rows(1, implant, reading, "mcg/day")}
    assert (by_code[codes.MDC_VOL_FLUID_DELIV].value,
            by_code[codes.MDC_VOL_FLUID_DELIV].unit) == (
        "1.234567", "mL^mL^UCUM^263762^MDC_DIM_MILLI_L^MDC")
    assert (by_code[codes.HL7_DOSE_DELIVERED].value,
            by_code[codes.HL7_DOSE_DELIVERED].unit) == ("123.4567", "ug^mcg^UCUM")
    reading.concentration_num = reading.concentration_den = None  # no drug: the volume only
    by_code = {r.code: r for r in pump_rows(1, implant, reading, "mcg/day")}
    assert codes.MDC_VOL_FLUID_DELIV in by_code and codes.HL7_DOSE_DELIVERED not in by_code


@settings(max_examples=60, deadline=None)
@given(nl=st.integers(0, 10**11), concentration=st.sampled_from(
    ["10 mg/mL", "0.5 mg/mL", "2.5 mg/mL", "25 mcg/mL", "100 mcg/mL", "1.05 mcg/mL"]))
def test_any_volume_delivered_gives_the_exact_volume_and_dose(nl: int,
                                                              concentration: str) -> None:
    from idds.store.quantities import concentration_columns
    conc = q(concentration)
    num, den = concentration_columns(conc)
    mass = concentration.split()[1].split("/")[0]
    reading = PumpReading(read_at=START, drug="a drug", concentration_num=num,
                          concentration_den=den, therapy=_therapy_json("1 mg/day"),
                          infusing=False, reservoir_nl=0, pumped_nl=nl)
    implant = Implant(id=1, patient_id=1, pump_serial="S", pump_model="M", explanted_on=None)
    by_code = {r.code: r for r in pump_rows(1, implant, reading, f"{mass}/day")}
    volume, dose = by_code[codes.MDC_VOL_FLUID_DELIV], by_code[codes.HL7_DOSE_DELIVERED]
    assert Fraction(Decimal(volume.value)) == Fraction(nl, 10**6)  # nL -> mL
    assert Fraction(Decimal(dose.value)) == Fraction(nl, 10**6) * conc.value_in(f"{mass}/mL")
    assert dose.unit.split("^")[0] == codes.ucum(mass)


def _therapy_json(rate: str) -> str:
    from idds.pump.records import therapy_record
    from idds.store.canonical import canonical_json
    return canonical_json(therapy_record(Therapy(Continuous(q(rate)))))


def test_a_rate_with_no_finite_decimal_is_refused() -> None:
    third = Quantity.of(Fraction(1, 3), "mg/day")
    with pytest.raises(Hl7v2Error, match="no exact decimal form"):
        number(third, "mg/day", "the dose rate")
    assert number(Quantity.of(Fraction(7, 20), "mg/day"), "mg/day", "r") == "0.35"
    assert number(Quantity.of(Fraction(1, 1024), "mL"), "mL", "v") == "0.0009765625"


def test_flex_explanted_and_unread_pumps(db: Database, clock: FakeClock) -> None:
    nurse, doctor = actor(UserRole.NURSE, clock), actor(UserRole.CLINICIAN, clock)
    patient = patients.register_patient(db, nurse, "MRN-2", "B^|&~\\ Example",
                                        date(1960, 1, 2))
    flex = patients.record_implant(db, doctor, patient.id, patients.ImplantDetails(
        "SN-F", "IDDS reference pump", "8709SC", "T10", date(2026, 2, 20), q("0.1 mL")))
    patients.record_implant(db, doctor, patient.id, patients.ImplantDetails(
        "SN-N", "IDDS reference pump", "8709SC", "T10", date(2026, 2, 21), q("0.1 mL")))
    steps = (FlexStep(0, q("1 mg/day")), FlexStep(720, q("2 mg/day")))
    readings.record_reading(db, nurse, flex.id, pump_status(Therapy(Flex((steps,)))),
                            clock().date())
    message = observations(db, nurse, patient.id, dose_units(load_library()), clock())
    parsed = hl7.parse(message.text)
    assert parsed.unescape(str(parsed.segment("PID")[5])) == "B^|&~\\ Example"
    obx = [(str(s[3][0][1]), str(s[4])) for s in parsed.segments("OBX")]
    assert ("MDC_VOL_FLUID_TBI_REMAIN", "1.1.1.3") in obx  # the flex pump: no rate rows
    assert not any(refid in ("MDC_RATE_DOSE", "MDC_FLOW_FLUID_PUMP") for refid, _ in obx)
    assert [sub for refid, sub in obx if sub.startswith("2.")] == ["2.0.0.0", "2.0.0.1",
                                                                  "2.0.0.2"]
    assert len(parsed.segments("OBR")) == 2
    parse(message.text)


def test_alarm_messages_carry_the_event_priority_and_source(db: Database,
                                                           clock: FakeClock) -> None:
    texts = _messages(db, clock)[1:]
    low, eri = (hl7.parse(t).segments("OBX") for t in texts)
    assert str(low[0][5][0][0]) == "low-reservoir" and str(low[0][5][0][2]) == codes.HL7_LOCAL
    assert str(eri[0][5]) == "eri^elective replacement indicator^99IDDS^^^^^^elective " \
        "replacement indicator (medium priority)"
    assert [str(r) for r in low[0][8]] == ["PM", "ST"]  # medium priority, technical
    assert str(low[1][5]) == codes.MDC_DEV_PUMP_INFUS_MDS.cwe()
    assert [str(r[5]) for r in low[2:]] == ["start", "active", "enabled"]
    assert {str(hl7.parse(t).segment("MSH")[10]) for t in texts} == {
        "20260302093000.1.1", "20260302093000.1.2"}


def test_exporting_twice_at_one_time_gives_the_same_messages(db: Database,
                                                             clock: FakeClock) -> None:
    pid = _record(db, clock)
    nurse, units_ = actor(UserRole.NURSE, clock), dose_units(load_library())
    assert patient_messages(db, nurse, pid, units_, clock()) == \
        patient_messages(db, nurse, pid, units_, clock())
    later = patient_messages(db, nurse, pid, units_, clock() + timedelta(seconds=1))
    assert later[0].control_id != patient_messages(db, nurse, pid, units_, clock())[0] \
        .control_id


def test_the_ack_is_hl7apy_built_and_read_back() -> None:
    sent = "MSH|^~\\&|IDDS||||20260302093000+0000||ORU^R01^ORU_R01|ABC.1|P|2.6\rPID|||X"
    accepted = ack(sent, AckCode.ACCEPTED, START, "K1")
    parse(accepted)
    assert read_ack(accepted).code == "AA" and read_ack(accepted).control_id == "ABC.1"
    refused = read_ack(ack(sent, AckCode.ERROR, START, "K2", "no such bed | ward ^ 3"))
    assert (refused.code, refused.text) == ("AE", "no such bed | ward ^ 3")
    assert str(hl7.parse(ack(sent, AckCode.ERROR, START, "K2", "x")).segment("MSA")[2]) \
        == "ABC.1"
    with pytest.raises(Hl7v2Error, match="no MSA"):
        read_ack(sent)
    with pytest.raises(Hl7v2Error, match="not an HL7 message"):
        read_ack("hello")
    with pytest.raises(Hl7v2Error):
        parse("MSH|^~\\&|IDDS||||x||NOPE^Z99|1|P|2.6")


def test_escaping() -> None:
    assert escaped("a|b^c&d~e\\f\ng") == "a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\.br\\g"


#: Positive exact decimals: n / (2^a 5^b), the values an NM can carry exactly.
decimals = st.builds(lambda n, a, b: Fraction(n, 2 ** a * 5 ** b),
                     st.integers(1, 10 ** 12), st.integers(0, 20), st.integers(0, 20))


@settings(max_examples=40, deadline=None)
@given(value=decimals, unit=st.sampled_from(["mg/day", "mcg/day", "mL", "mL/day", "mg/mL"]))
def test_any_exact_quantity_round_trips_through_obx5(value: Fraction, unit: str) -> None:
    message = new_message(Trigger.PCD_01, "P.1", START, codes.PCD_01_PROFILE)
    result = message.add_group("ORU_R01_PATIENT_RESULT")
    patient = result.add_group("ORU_R01_PATIENT").pid
    patient.pid_3, patient.pid_5 = "X", "Y"
    order = result.add_group("ORU_R01_ORDER_OBSERVATION")
    order.obr.obr_4 = codes.MDC_DEV_PUMP_INFUS_MDS.cwe()
    add_obx(order, 1, Obx("NM", codes.MDC_RATE_DOSE, "1.1.1.1",
                          number(Quantity.of(value, unit), unit, "v"), units(unit), "R"))
    text = er7(message)
    ours = _segments(parse(text), "OBX")[0]
    theirs = hl7.parse(text).segment("OBX")
    assert Fraction(Decimal(ours.obx_5.to_er7())) == value == Fraction(Decimal(str(theirs[5])))
    assert str(theirs[6][0][0]) == ours.obx_6.obx_6_1.to_er7() == \
        codes.hl7_ucum(unit)


def test_every_alarm_kind_and_priority_has_a_code() -> None:
    from idds.pump import ALARM_SPECS
    from idds.pump.alarms import Priority
    assert set(codes.ALARM_LOCAL_CODE) == {kind.value for kind in AlarmKind}
    assert set(codes.ALARM_PRIORITY) == {p.value for p in Priority}
    assert all(spec.priority.value in codes.ALARM_PRIORITY for spec in ALARM_SPECS.values())
    assert all(code.islower() and " " not in code for code in codes.ALARM_LOCAL_CODE.values())
