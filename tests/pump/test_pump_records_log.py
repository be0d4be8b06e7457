"""The structured log: typed fields per event, therapy records, and logs of the old format.

The fixtures in tests/fixtures/pump were written by the code before details were typed
(commit 5793863, every detail text): a snapshot, and the same log as link pages with the
display line of every entry. `scenario()` below is the script that wrote them.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from idds.protocol.pagedlog import GENESIS, decode_page, encode_page
from idds.protocol.wire import WireError, therapy_from_json, therapy_to_json
from idds.pump import (
    AlarmKind,
    BolusKind,
    Command,
    Continuous,
    DemandBolus,
    Drug,
    EventKind,
    EventLog,
    Flex,
    FlexStep,
    HardwareSpec,
    Limit,
    MinimumRate,
    Pump,
    RecordError,
    Refusal,
    SnapshotError,
    Stopped,
    Therapy,
    drug_from_record,
    drug_record,
    interrogate,
    power_loss,
    restore,
    snapshot,
    therapy_from_record,
    therapy_record,
    verify_chain,
)
from idds.pump.clock import DAY, HOUR
from idds.pump.log import canonical
from idds.units import UnitError
from tests.pump.pump_helpers import q

FIXTURES = Path(__file__).parent.parent / "fixtures" / "pump"
OLD_SNAPSHOT = FIXTURES / "snapshot_v1_text_details.json"
OLD_PAGES = FIXTURES / "log_pages_text_details.json"

DEMAND = DemandBolus(q("0.1 mg"), q("10 min"), q("2 h"), 4)
DAILY = Flex(((FlexStep(0, q("1 mg/day")), FlexStep(480, q("2 mg/day"))),))
WEEKLY = Flex(tuple((FlexStep(0, q(f"{d + 1} mg/day")), FlexStep(600, q("0.5 mg/day")))
                    for d in range(7)))


def scenario() -> Pump:
    """The run that wrote the fixtures: priming, a program, a bolus, refusals, a drug change,
    a setting, an alarm acknowledged and cleared, an interrogation and a power loss."""
    pump = Pump.implant(HardwareSpec(stall_hazard_per_day=0.0), seed=3)
    pump.refill(q("20 mL"), Drug("morphine", q("10 mg/mL")))
    pump.advance(pump.priming_bolus().ends)
    pump.set_therapy(Therapy(Continuous(q("1.5 mg/day")), DEMAND))
    pump.advance(HOUR)
    pump.patient_bolus()
    pump.advance(HOUR + 1800)
    with pytest.raises(Refusal):
        pump.patient_bolus()
    with pytest.raises(Refusal):
        pump.set_therapy(Therapy(Continuous(q("500 mg/day"))))
    pump.set_therapy(Therapy(DAILY))
    pump.refill(q("18 mL"), Drug("morphine", q("20 mg/mL")))
    pump.set_therapy(Therapy(Continuous(q("1.5 mg/day"))))
    pump.set_low_reservoir_alarm(q("4 mL"))
    pump.inject_memory_error(False)
    pump.acknowledge(AlarmKind.MEMORY_ERROR)
    pump.clear_memory_error()
    pump.advance(DAY)
    interrogate(pump)
    return power_loss(pump)


# ------------------------------------------------------------------ records ------------------
@pytest.mark.parametrize("therapy", [
    Therapy(Continuous(q("0.5 mg/day")), DEMAND),
    Therapy(Continuous(q("60 mcg/h"))),
    Therapy(DAILY, DEMAND),
    Therapy(WEEKLY),
    Therapy(Stopped()),
    Therapy(MinimumRate(), DEMAND),
])
def test_therapy_record_round_trips(therapy: Therapy) -> None:
    record = therapy_record(therapy)
    assert therapy_from_record(json.loads(json.dumps(record))) == therapy


def test_therapy_record_is_the_wire_form() -> None:
    assert therapy_record(Therapy(Continuous(q("0.5 mg/day")), DEMAND)) == {
        "mode": "continuous", "dose": "0.5 mg/day",
        "demand": {"dose": "0.1 mg", "duration": "10 min", "lockout": "2 h", "max_per_24h": 4}}
    assert therapy_record(Therapy(DAILY)) == {
        "mode": "flex", "steps": [["00:00", "1 mg/day"], ["08:00", "2 mg/day"]]}
    assert therapy_record(Therapy(Stopped())) == {"mode": "stopped"}
    assert therapy_record(Therapy(MinimumRate())) == {"mode": "minimum rate"}
    weekly = therapy_record(Therapy(WEEKLY))
    assert "steps" not in weekly and len(weekly["days"]) == 7  # type: ignore[arg-type]
    assert weekly["days"][6] == [["00:00", "7 mg/day"], ["10:00", "0.5 mg/day"]]  # type: ignore[index]
    daily = Therapy(DAILY, DEMAND)
    assert therapy_to_json(daily) == therapy_record(daily)
    assert therapy_from_json(therapy_record(daily)) == daily


def test_the_link_still_refuses_weekly_flex() -> None:
    with pytest.raises(WireError, match="weekly"):
        therapy_to_json(Therapy(WEEKLY))
    with pytest.raises(WireError, match="weekly"):
        therapy_from_json(therapy_record(Therapy(WEEKLY)))


@pytest.mark.parametrize("bad", [
    "continuous", {"mode": "pulsed"}, {"mode": "continuous"}, {"mode": "flex", "steps": []},
    {"mode": "flex", "steps": [["0800", "1 mg/day"]]}, {"mode": "flex", "steps": [["00:00"]]},
    {"mode": "flex", "days": [[["00:00", "1 mg/day"]]]},
    {"mode": "flex", "steps": [["00:00", "1 mg/day"]], "days": []},
    {"mode": "stopped", "demand": {"dose": "0.1 mg", "duration": "10 min", "lockout": "2 h",
                                   "max_per_24h": 4.0}},
    {"mode": "stopped", "demand": "yes"},
])
def test_malformed_therapy_records_are_refused(bad: object) -> None:
    with pytest.raises(RecordError):
        therapy_from_record(bad)


def test_a_record_in_a_wrong_unit_is_refused_by_the_units() -> None:
    with pytest.raises(UnitError):
        therapy_from_record({"mode": "continuous", "dose": "0.5 mg"})
    with pytest.raises(WireError):
        therapy_from_json({"mode": "flex", "steps": [["25:00", "1 mg/day"]]})


def test_drug_record_round_trips() -> None:
    drug = Drug("morphine", q("10 mg/mL"))
    assert drug_record(drug) == {"name": "morphine", "concentration": "10 mg/mL"}
    assert drug_from_record(drug_record(drug)) == drug
    with pytest.raises(RecordError):
        drug_from_record({"name": "morphine"})


# ------------------------------------------------------------------ fields per event ---------
def test_program_changed_carries_old_and_new_therapy_records() -> None:
    pump = scenario()
    first, flex, after_refill = pump.log.of_kind(EventKind.PROGRAM_CHANGED)
    assert first.value("old") == {"mode": "stopped"} and first.value("old_confirmed") is False
    assert first.therapy("new") == Therapy(Continuous(q("1.5 mg/day")), DEMAND)
    assert first.therapy("old") == Therapy(Stopped())
    assert flex.value("old_confirmed") is True and flex.therapy("new") == Therapy(DAILY)
    assert after_refill.value("old_confirmed") is False
    assert after_refill.therapy("old") == Therapy(DAILY)
    assert after_refill.drug("drug") == Drug("morphine", q("20 mg/mL"))
    assert after_refill.detail("old") == "unconfirmed (flex daily [00:00 1 mg/day; 08:00 2 mg/day])"
    restarted = pump.log.of_kind(EventKind.RESTARTED)[-1]
    assert restarted.therapy("therapy") == Therapy(Continuous(q("1.5 mg/day")))


def test_weekly_flex_is_recorded() -> None:
    pump = Pump.implant(HardwareSpec(stall_hazard_per_day=0.0))
    pump.refill(q("20 mL"), Drug("morphine", q("10 mg/mL")))
    pump.set_therapy(Therapy(WEEKLY))
    entry = pump.log.of_kind(EventKind.PROGRAM_CHANGED)[-1]
    assert entry.therapy("new") == Therapy(WEEKLY)
    assert entry.detail("new") == WEEKLY.describe()


def test_refusals_carry_command_limit_and_reason() -> None:
    pump = scenario()
    bolus, program = (pump.log.of_kind(EventKind.BOLUS_REFUSED)[-1],
                      pump.log.of_kind(EventKind.COMMAND_REFUSED)[-1])
    assert bolus.value("command") == "patient bolus" and bolus.command() is Command.PATIENT_BOLUS
    assert bolus.value("limit") == "LOCKOUT_ACTIVE" and bolus.limit() is Limit.LOCKOUT_ACTIVE
    assert str(bolus.value("reason")).startswith("lockout: next bolus allowed in")
    assert program.command() is Command.SET_THERAPY and program.limit() is Limit.FLOW_RANGE


def test_command_kinds_decide_the_refusal_kind() -> None:
    assert {c for c in Command if c.is_bolus} == {
        Command.PATIENT_BOLUS, Command.CLINICIAN_BOLUS, Command.PRIMING_BOLUS,
        Command.BRIDGE_BOLUS}
    pump = Pump.implant(HardwareSpec(stall_hazard_per_day=0.0))
    with pytest.raises(Refusal):
        pump.priming_bolus()
    with pytest.raises(Refusal):
        pump.set_low_reservoir_alarm(q("9 mL"))
    assert pump.log.of_kind(EventKind.BOLUS_REFUSED)[-1].command() is Command.PRIMING_BOLUS
    assert pump.log.of_kind(EventKind.COMMAND_REFUSED)[-1].command() is \
        Command.SET_LOW_RESERVOIR_ALARM


def test_bolus_and_alarm_entries_carry_their_kind() -> None:
    pump = scenario()
    started = pump.log.of_kind(EventKind.BOLUS_STARTED)
    assert [e.value("kind") for e in started] == ["priming", "patient"]
    assert [e.bolus_kind() for e in started] == [BolusKind.PRIMING, BolusKind.PATIENT]
    for kind in (EventKind.ALARM_RAISED, EventKind.ALARM_ACKNOWLEDGED, EventKind.ALARM_CLEARED):
        entry = pump.log.of_kind(kind)[-1]
        assert entry.value("alarm") == "non-critical memory error"
        assert entry.alarm() is AlarmKind.MEMORY_ERROR
    refill = pump.log.of_kind(EventKind.REFILL)[-1]
    assert refill.value("mismatch") is False and refill.detail("mismatch") == "no"


def test_no_float_is_logged() -> None:
    def floats(value: object) -> bool:
        if isinstance(value, float):
            return True
        if isinstance(value, list):
            return any(floats(v) for v in value)
        if isinstance(value, dict):
            return any(floats(v) for v in value.values())
        return False

    log = EventLog()
    log.append(Fraction(0), EventKind.ALARM_TEST, {"x": 0.1, "y": [1.5], "z": {"w": 2.5}})
    assert log.entries[0].details == (("x", "0.1"), ("y", ["1.5"]), ("z", {"w": "2.5"}))
    assert not any(floats(v) for e in scenario().log for _, v in e.details)


# ------------------------------------------------------------------ display ------------------
def _relabelled(line: str) -> str:
    """An old display line with the refill fields labelled as they are now (issue 14: the
    simulated true withdrawn volume was shown beside the entered one with no explanation)."""
    if " refill: " not in line and " refill volumes entered: " not in line:
        return line
    for old, new in (("expected=", "expected_by_pump="),
                     ("withdrawn=", "withdrawn_simulated_true="),
                     ("withdrawn_entered=", "withdrawn_entered_by_clinician=")):
        line = line.replace(f" {old}", f" {new}")
    return line


def test_display_is_built_from_the_fields_and_unchanged() -> None:
    """The same run shows exactly the lines the text-only log showed, but for the refill
    fields' labels."""
    old = json.loads(OLD_PAGES.read_text())
    pump = scenario()
    assert [str(e) for e in pump.log] == [_relabelled(line) for line in old["lines"]]
    refill = pump.log.of_kind(EventKind.REFILL)[0]
    assert "withdrawn_simulated_true=" in str(refill) and "expected_by_pump=" in str(refill)
    entry = pump.log.of_kind(EventKind.PROGRAM_CHANGED)[0]
    assert entry.as_json()["details"] == dict(entry.details)
    assert entry.as_json()["shown"] == dict(entry.shown())
    assert "old_confirmed" not in dict(entry.shown())


# ------------------------------------------------------------------ old logs -----------------
def test_a_snapshot_of_the_old_format_still_loads_and_verifies() -> None:
    old = json.loads(OLD_PAGES.read_text())
    pump = restore(OLD_SNAPSHOT.read_bytes())
    assert pump.log.verify(old["head"]).ok
    assert [str(e) for e in pump.log] == [_relabelled(line) for line in old["lines"]]
    entry = pump.log.of_kind(EventKind.PROGRAM_CHANGED)[0]
    assert entry.value("old") == "unconfirmed (stopped)" and entry.therapy("old") is None
    assert pump.log.of_kind(EventKind.DRUG_CHANGED)[-1].drug("old") == Drug(
        "morphine", q("10 mg/mL"))
    assert pump.log.of_kind(EventKind.BOLUS_REFUSED)[-1].command() is Command.PATIENT_BOLUS
    pump.advance(pump.now + HOUR)  # and it runs on, appending typed entries
    pump.set_therapy(Therapy(Stopped()))
    assert pump.log.verify().ok
    assert restore(snapshot(pump)).log.entries == pump.log.entries


def test_a_tampered_old_snapshot_is_refused() -> None:
    data = OLD_SNAPSHOT.read_text()
    assert data.count("lockout: next bolus allowed in 90.0 min") == 1
    tampered = data.replace("lockout: next bolus allowed in 90.0 min",
                            "lockout: next bolus allowed in 10.0 min")
    with pytest.raises(SnapshotError, match="fails verification at entry 8: entry content"):
        restore(tampered.encode())


def test_old_log_pages_still_verify_and_tampering_is_seen() -> None:
    old = json.loads(OLD_PAGES.read_text())
    entries = []
    for page in old["pages"]:
        entries += decode_page(page, entries[-1].hash if entries else GENESIS)
    assert verify_chain(entries, old["head"]).ok
    assert [str(e) for e in entries] == [_relabelled(line) for line in old["lines"]]
    assert all(isinstance(v, str) for e in entries for _, v in e.details)
    tampered = list(entries)
    tampered[5] = type(entries[5])(**{**entries[5].__dict__, "details": (
        *entries[5].details[:-1], ("old", "continuous 9 mg/day"))})
    check = verify_chain(tampered, old["head"])
    assert not check.ok and check.bad_index == 5


def test_canonical_bytes_of_text_details_are_the_old_ones() -> None:
    details = (("new", "continuous 1 mg/day"), ("drug", "morphine 10 mg/mL"))
    old_bytes = json.dumps([3, "7/2", "program changed", sorted(details)],
                           separators=(",", ":"), ensure_ascii=True).encode()
    assert canonical(3, Fraction(7, 2), EventKind.PROGRAM_CHANGED, details) == old_bytes


# ------------------------------------------------------------------ transport ----------------
def test_snapshot_and_pages_carry_typed_values_exactly() -> None:
    pump = scenario()
    pump.annotate(EventKind.ADVICE_DECISION, outcome="accepted", count=3, flag=True,
                  nothing=None, nested={"list": [1, "a", {"b": False}]})
    restored = restore(snapshot(pump))
    assert restored.log.entries == pump.log.entries
    entries, start = [], 0
    while start < len(pump.log):
        page, count = encode_page(pump.log.entries, start)
        entries += decode_page(page, entries[-1].hash if entries else GENESIS)
        start += count
    assert entries == list(pump.log.entries)
    assert verify_chain(entries, pump.log.head, pump.log.key).ok
    last = entries[-1]
    assert last.value("nested") == {"list": [1, "a", {"b": False}]}
    assert last.value("count") == 3 and last.value("flag") is True and last.has("nothing")
    assert restored.log.entries[5].therapy("new") == Therapy(Continuous(q("1.5 mg/day")), DEMAND)
