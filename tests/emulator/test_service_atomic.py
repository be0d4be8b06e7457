"""Issue 13, finding 4: refused means nothing changed, and interrogate always fits one message.

A property test over random programs and commands through `PumpService.handle` (the pump side
of every link command): after every refused command, the pump's snapshot is byte-identical to
the one before it once the single log entry that records the refusal is set aside; after every
accepted command, `interrogate` answers within one link message."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idds.drugs import load_library
from idds.emulator import PumpService
from idds.emulator.replies import MAX_RESULT_BYTES
from idds.emulator.tickets import BolusTickets
from idds.errors import IddsError
from idds.link import CommandRequest, JsonValue, Role
from idds.link.messages import encode_json
from idds.pump import ActiveAlarm, AlarmKind, EventLog, HardwareSpec, Pump, snapshot
from idds.pump.log import EventKind

LIBRARY = load_library()
REFUSAL_KINDS = {EventKind.COMMAND_REFUSED, EventKind.BOLUS_REFUSED, EventKind.LINK_REFUSED}


class Bench:
    """A pump behind its service, a pump clock and a ticket timer the test moves."""

    def __init__(self) -> None:
        self.now = Fraction(0)
        self.timer = 0.0
        pump = Pump.implant(HardwareSpec(stall_hazard_per_day=0.0), seed=2)
        self.service = PumpService(pump, LIBRARY, lambda: self.now, lambda p: None, "pump-t")
        self.service.tickets = BolusTickets(lambda: self.timer)
        self.counter = 0
        self.ticket: JsonValue = None

    def send(self, command: str, args: dict[str, JsonValue] | None = None,
             role: Role = Role.CLINICIAN) -> dict[str, JsonValue]:
        self.counter += 1
        result = dict(self.service.handle(CommandRequest(
            role, command, dict(args or {}), "device-1", b"k" * 8, self.counter)))
        if command == "bolus_ticket":
            self.ticket = result["ticket"]
        return result


def without_last_entry(pump: Pump) -> bytes:
    cut = Pump(pump.spec, pump.limits, pump.state, pump.hardware, pump.rng,
               EventLog(pump.log.entries[:-1], pump.log.key))
    return snapshot(cut)


def number(digits: int, places: int) -> str:
    text = str(digits)
    if places == 0:
        return text
    text = text.rjust(places + 1, "0")
    return f"{text[:-places]}.{text[-places:]}"


NUMBERS = st.builds(number, st.integers(1, 10**13), st.integers(0, 14))
DOSES = st.builds(lambda n, u: f"{n} {u}", NUMBERS, st.sampled_from(["mg/day", "mcg/h",
                                                                    "mg/h", "mcg/day"]))
DEMAND = st.none() | st.fixed_dictionaries({
    "dose": st.builds(lambda n: f"{n} mg", NUMBERS),
    "duration": st.sampled_from(["2 min", "10 min", "10.123456789 min"]),
    "lockout": st.sampled_from(["10 min", "2 h", "0.5 h"]),
    "max_per_24h": st.integers(-2, 40),
})


@st.composite
def therapies(draw: st.DrawFn) -> dict[str, Any]:
    mode = draw(st.sampled_from(["continuous", "flex", "stopped", "minimum rate"]))
    out: dict[str, Any] = {"mode": mode}
    if mode == "continuous":
        out["dose"] = draw(DOSES)
    if mode == "flex":
        minutes = sorted(draw(st.sets(st.integers(1, 24 * 60 - 1), max_size=15)))
        out["steps"] = [[f"{m // 60:02d}:{m % 60:02d}", draw(DOSES)] for m in [0, *minutes]]
    demand = draw(DEMAND)
    if demand is not None:
        out["demand"] = demand
    return out


COMMANDS = st.one_of(
    st.tuples(st.just("program"), st.fixed_dictionaries({
        "drug": st.just("morphine"), "concentration": st.sampled_from(["10 mg/mL", "20 mg/mL"]),
        "therapy": therapies(), "opioid_tolerant": st.booleans(),
        "override_reason": st.sampled_from(["", "x", "titration-agreed"])})),
    st.tuples(st.just("refill"), st.fixed_dictionaries({
        "drug": st.sampled_from(["morphine", "hydromorphone", "nothing"]),
        "concentration": st.sampled_from(["10 mg/mL", "20 mg/mL", "25 mg/mL",
                                          "10.0000000001 mg/mL"]),
        "volume": st.sampled_from(["20 mL", "0 mL", "50 mL"]),
        "withdrawn": st.sampled_from(["0 mL", "19 mL"]),
        "keep_dose": st.booleans(), "bridge": st.booleans()})),
    st.tuples(st.just("prime"), st.fixed_dictionaries({
        "reason": st.sampled_from(["implant", "catheter revision", "drug change", "why not"])})),
    st.tuples(st.sampled_from(["bolus_ticket", "bolus_status", "interrogate", "alarm_test"]),
              st.just({})),
    st.tuples(st.just("bolus_request"), st.sampled_from([{}, {"ticket": "00" * 16}, "LAST"])),
    st.tuples(st.just("read_log"), st.fixed_dictionaries({"start": st.integers(-1, 60)})),
    st.tuples(st.just("record_advice"), st.fixed_dictionaries({
        "outcome": st.sampled_from(["accepted", "rejected", "maybe"]),
        "clinician": st.just("dr a"), "device": st.just("d"), "advice": st.just("a")})),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(COMMANDS, st.integers(0, 4000), st.floats(0, 8)), min_size=1,
                max_size=10))
def test_refused_means_nothing_changed(steps: list[Any]) -> None:
    bench = Bench()
    bench.send("refill", {"drug": "morphine", "concentration": "10 mg/mL", "volume": "20 mL",
                          "withdrawn": "0 mL"})
    for (command, args), dt, wait in steps:
        bench.now += dt
        bench.service.catch_up()
        if args == "LAST":
            args = {"ticket": bench.ticket}
        bench.timer += wait
        before = snapshot(bench.service.pump)
        try:
            bench.send(command, args)
        except IddsError:
            pump = bench.service.pump
            assert without_last_entry(pump) == before, f"refused {command} changed the pump"
            assert pump.log.entries[-1].kind in REFUSAL_KINDS
            continue
        # whatever was accepted, the next interrogation fits one message
        assert len(encode_json(bench.send("interrogate"))) <= MAX_RESULT_BYTES


def test_worst_case_interrogation_fits_one_message() -> None:
    """13 flex steps with the longest numbers the link accepts, a bolus setting of the same,
    every alarm at once, the longest events: interrogate still answers."""
    bench = Bench()
    bench.send("refill", {"drug": "morphine", "concentration": "10.12345 mg/mL",
                          "volume": "20 mL", "withdrawn": "0 mL"})
    steps: list[JsonValue] = [[f"{h:02d}:00", f"1.{h:02d}1234 mg/day"] for h in range(13)]
    bench.send("program", {
        "drug": "morphine", "concentration": "10.12345 mg/mL", "opioid_tolerant": True,
        "override_reason": "titration-agreed",
        "therapy": {"mode": "flex", "steps": steps,
                    "demand": {"dose": "0.054321 mg", "duration": "10.12345 min",
                               "lockout": "2.123456 h", "max_per_24h": 11}}})
    pump = bench.service.pump
    pump.state.alarms = tuple(ActiveAlarm(kind, Fraction(10**9)) for kind in AlarmKind)
    bench.service.link_stats = lambda: {k: 10**18 for k in ("processed", "dropped",
                                                              "rejected", "delivered")}
    bench.now = Fraction(10**9)  # day 11575: the longest times
    bench.service.catch_up()
    bench.send("bolus_ticket", role=Role.PATIENT)
    result = bench.send("interrogate")
    assert len(encode_json(result)) <= MAX_RESULT_BYTES
    therapy = result["therapy"]
    assert isinstance(therapy, dict) and isinstance(therapy["steps"], list)
    assert len(therapy["steps"]) == 13
    core = {**result, "last_events": []}  # what must fit before any event is trimmed
    assert "link" in result and len(encode_json(core)) + 100 < MAX_RESULT_BYTES


def test_long_decimal_flex_program_is_refused_and_changes_nothing() -> None:
    bench = Bench()
    bench.send("refill", {"drug": "morphine", "concentration": "10 mg/mL", "volume": "20 mL",
                          "withdrawn": "0 mL"})
    before = snapshot(bench.service.pump)
    steps: list[JsonValue] = [[f"{h:02d}:00", f"0.1{h:02d}34567891234 mg/day"]
                              for h in range(13)]
    try:
        bench.send("program", {"drug": "morphine", "concentration": "10 mg/mL",
                               "opioid_tolerant": True, "override_reason": "titration-agreed",
                               "therapy": {"mode": "flex", "steps": steps}})
    except IddsError as exc:
        assert "more than 8 characters" in str(exc)
    else:
        raise AssertionError("a 13-step long-decimal program was accepted")
    assert without_last_entry(bench.service.pump) == before
    bench.send("interrogate")
