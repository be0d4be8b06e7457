"""The programmer API over the memory transport: finish screen, library checks and
overrides, the refill mismatch warning, the 60 mcg/day -> 60 mcg/h slip, the remote."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from idds.drugs import HardLimitError, SoftLimitError
from idds.link import ErrorCode, RefusedError
from idds.programmer import (
    PlanError,
    Programmer,
    RefillRequest,
    TherapyRequest,
    parse_flex,
)
from idds.pump import Continuous, DemandBolus, EventKind, Therapy
from idds.units import parse_quantity as q
from tests.programmer.rig import Rig, run


def morphine(dose: str, *, demand: bool = True, override: str | None = None,
             conc: str = "10 mg/mL") -> TherapyRequest:
    bolus = DemandBolus(q("0.1 mg"), q("10 min"), q("2 h"), 4) if demand else None
    return TherapyRequest("morphine", q(conc), Therapy(Continuous(q(dose)), bolus), override)


def filled(rig: Rig, prog: Programmer, conc: str = "10 mg/mL") -> None:
    change = run(prog.plan_refill(RefillRequest(q("0 mL"), q("20 mL"), q(conc), "morphine")))
    run(prog.send_refill(change))


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path)


def test_finish_screen_shows_old_and_new_per_day_per_hour_and_refill_date(rig: Rig) -> None:
    prog = rig.programmer()
    filled(rig, prog)
    run(prog.send_therapy(run(prog.plan_therapy(morphine("0.5 mg/day")))))
    rig.pump.advance(rig.pump.now + 24 * 3600)  # the library's 24 h after a start
    plan = run(prog.plan_therapy(morphine("0.6 mg/day")))
    rows = {r.setting: (r.old, r.new) for r in plan.rows}
    assert rows["Basal dose per DAY (mg/day)"] == ("0.5 mg/day", "0.6 mg/day")
    assert rows["Basal dose per HOUR (mg/h)"] == ("0.02083 mg/h", "0.025 mg/h")
    assert rows["Flow (mL/day)"] == ("0.05 mL/day", "0.06 mL/day")
    assert rows["Patient bolus dose"] == ("0.1 mg", "0.1 mg")
    assert rows["Most per day (basal + all boluses)"] == ("0.9 mg/day", "1 mg/day")
    # 20 mL - 0.05 mL in the first day - 2 mL alarm = 17.95 mL at 0.06 + 0.04 mL/day
    # (every bolus used) = 179.5 days
    assert plan.refill is not None and plan.refill.days_to_alarm == Fraction(359, 2)
    assert rows["Next refill (low-reservoir alarm)"][1] == "2026-06-29 (179.5 days)"
    assert any("+20%" in note for note in plan.notes)
    # nothing was sent by planning
    assert rig.pump.state.therapy.basal == Continuous(q("0.5 mg/day"))


def test_slip_60_mcg_per_day_to_60_mcg_per_hour_is_held(rig: Rig) -> None:
    prog = rig.programmer()
    filled(rig, prog, conc="1 mg/mL")
    first = TherapyRequest("morphine", q("1 mg/mL"), Therapy(Continuous(q("60 mcg/day"))))
    run(prog.send_therapy(run(prog.plan_therapy(first))))
    slip = TherapyRequest("morphine", q("1 mg/mL"),
                          Therapy(parse_flex("00:00=60 mcg/day,08:00=60 mcg/h")))
    with pytest.raises(SoftLimitError, match=r"\+1533%"):
        run(prog.plan_therapy(slip))
    assert rig.pump.state.therapy.basal == Continuous(q("60 mcg/day"))
    log = (rig.tmp / "programmer.jsonl").read_text()
    assert "refused" in log and "1533%" in log


def test_pump_itself_refuses_a_soft_breach_without_reason(rig: Rig) -> None:
    """Defence in depth: a programmer that skips its checks is still held by the pump."""
    prog = rig.programmer()
    filled(rig, prog)
    run(prog.send_therapy(run(prog.plan_therapy(morphine("0.5 mg/day")))))
    plan = run(prog.plan_therapy(morphine("5 mg/day", override="titration-agreed")))
    bare = type(plan)(morphine("5 mg/day"), plan.status, plan.checks, plan.rows, None,
                      override_confirmed=True)
    with pytest.raises(RefusedError, match="needs an override") as err:
        run(prog.send_therapy(bare))
    assert err.value.code is ErrorCode.COMMAND_REFUSED
    assert rig.pump.log.of_kind(EventKind.LINK_REFUSED)


def test_soft_limit_override_is_logged_on_both_sides(rig: Rig) -> None:
    prog = rig.programmer()
    filled(rig, prog)
    with pytest.raises(SoftLimitError, match="starting range"):
        run(prog.plan_therapy(morphine("2 mg/day")))
    plan = run(prog.plan_therapy(morphine("2 mg/day", override="opioid tolerant, 200 mg oral")))
    assert plan.overridden and any("OVERRIDE" in n for n in plan.notes)
    with pytest.raises(PlanError, match="not confirmed again"):
        run(prog.send_therapy(plan))  # the Finish screen asks a second time
    assert rig.pump.state.therapy.basal != Continuous(q("2 mg/day"))
    run(prog.send_therapy(plan.with_override_confirmed()))
    assert rig.pump.state.therapy.basal == Continuous(q("2 mg/day"))
    overrides = rig.pump.log.of_kind(EventKind.LIBRARY_OVERRIDE)
    assert overrides and overrides[0].detail("device_reason") == "opioid tolerant, 200 mg oral"
    assert '"override"' in (rig.tmp / "programmer.jsonl").read_text()


def test_hard_limit_blocks_even_with_override(rig: Rig) -> None:
    prog = rig.programmer()
    with pytest.raises(HardLimitError, match="concentration 25 mg/mL"):
        run(prog.plan_refill(RefillRequest(q("0 mL"), q("20 mL"), q("25 mg/mL"), "morphine")))
    assert rig.pump.state.drug is None


def test_wrong_drug_or_concentration_is_refused_before_sending(rig: Rig) -> None:
    prog = rig.programmer()
    filled(rig, prog)
    with pytest.raises(PlanError, match="the pump holds morphine 10 mg/mL"):
        run(prog.plan_therapy(morphine("0.5 mg/day", conc="20 mg/mL")))


def test_refill_mismatch_warns_of_leak_or_pocket_fill(rig: Rig) -> None:
    prog = rig.programmer()
    filled(rig, prog)
    run(prog.send_therapy(run(prog.plan_therapy(morphine("0.5 mg/day", demand=False)))))
    rig.pump_time = Fraction(10 * 86400)  # 10 days at 0.05 mL/day: 0.5 mL pumped
    change = run(prog.plan_refill(RefillRequest(q("5.5 mL"), q("20 mL"), q("10 mg/mL"))))
    assert change.mismatch and change.expected == q("19.5 mL")
    assert "suspect a leak" in change.warnings[0] and "pocket fill" in change.warnings[0]
    assert change.tolerance == q("1 mL")
    ok = run(prog.plan_refill(RefillRequest(q("19 mL"), q("20 mL"), q("10 mg/mL"))))
    assert not ok.mismatch and not ok.warnings
    result = run(prog.send_refill(change))
    assert result["mismatch"] is True
    assert rig.pump.log.of_kind(EventKind.REFILL_CHECKED)[-1].detail("mismatch") == "yes"


def test_concentration_change_keeps_dose_and_bridges(rig: Rig) -> None:
    prog = rig.programmer()
    filled(rig, prog)
    run(prog.send_therapy(run(prog.plan_therapy(
        morphine("1 mg/day", override="opioid-tolerant"))).with_override_confirmed()))
    rig.pump_time = Fraction(86400)
    change = run(prog.plan_refill(RefillRequest(q("19.9 mL"), q("20 mL"), q("20 mg/mL"))))
    rows = {r.setting: (r.old, r.new) for r in change.rows}
    assert rows["Flow (mL/day)"] == ("0.1 mL/day", "0.05 mL/day")
    assert change.keep_dose and change.bridge
    result = run(prog.send_refill(change))
    assert result["bridge_bolus"] is True and result["confirmed"] is True
    assert rig.pump.state.bolus is not None and rig.pump.state.bolus.kind.value == "bridge"


def test_acknowledged_program_is_durable_before_reply(rig: Rig) -> None:
    prog = rig.programmer()
    filled(rig, prog)
    run(prog.send_therapy(run(prog.plan_therapy(morphine("0.5 mg/day")))))
    stored = rig.stored()
    assert stored.state.therapy == rig.pump.state.therapy and stored.log.verify().ok


def test_log_download_verifies(rig: Rig) -> None:
    prog = rig.programmer()
    filled(rig, prog)
    for _ in range(30):
        run(prog.alarm_test())
    download = run(prog.read_log())
    assert download.verified and len(download.entries) == len(rig.pump.log)
    assert download.head == rig.pump.log.head


def test_remote_bolus_given_then_lockout_in_words(rig: Rig) -> None:
    prog = rig.programmer()
    filled(rig, prog)
    run(prog.send_therapy(run(prog.plan_therapy(morphine("0.5 mg/day")))))
    remote = rig.remote()
    given = run(remote.bolus())
    assert given.given, given.message
    rig.pump_time += 30 * 60
    refused = run(remote.bolus())
    assert not refused.given
    assert "lockout: next bolus allowed in 90.0 min" in refused.message
    with pytest.raises(RefusedError, match="patient remote"):
        run(remote.send("program", {}))


def test_wakeups_are_charged_to_the_battery(rig: Rig) -> None:
    prog = rig.programmer()
    before = rig.pump.eri_at()
    status = run(prog.interrogate())
    processed = rig.endpoint.stats.processed
    assert status.radio_wakeups >= processed - 1
    assert rig.pump.eri_at() < before


def test_a_second_increase_inside_the_library_interval_is_held_on_the_finish_screen(
        rig: Rig) -> None:
    """The library's minimum interval between increases (morphine: 24 h after a start or an
    increase, soft) is checked on the Finish screen, before the clinician confirms: the pump
    says how long ago it last raised the dose. An override shows there, with its source."""
    prog = rig.programmer()
    filled(rig, prog)
    run(prog.send_therapy(run(prog.plan_therapy(morphine("0.5 mg/day")))))  # the start
    with pytest.raises(SoftLimitError, match="increases need at least 24 h"):
        run(prog.plan_therapy(morphine("0.55 mg/day")))
    assert rig.pump.state.therapy.basal == Continuous(q("0.5 mg/day"))
    plan = run(prog.plan_therapy(morphine("0.55 mg/day", override="titration-agreed")))
    assert any("increases need at least 24 h" in line and "Infumorph" in line
               for line in plan.override_lines())
    run(prog.send_therapy(run(prog.plan_therapy(morphine("0.49 mg/day")))))  # a cut is fine
    rig.pump.advance(rig.pump.now + 25 * 3600)
    run(prog.send_therapy(run(prog.plan_therapy(morphine("0.5 mg/day")))))
    assert rig.pump.state.therapy.basal == Continuous(q("0.5 mg/day"))
    with pytest.raises(SoftLimitError, match="increases need at least 24 h"):
        run(prog.plan_therapy(morphine("0.55 mg/day")))


def test_the_pump_still_holds_an_increase_planned_on_an_old_interrogation(rig: Rig) -> None:
    """The pump remains the last word: a plan made before the last increase (its status did
    not know of it) is refused by the pump, and nothing changes."""
    prog = rig.programmer()
    filled(rig, prog)
    stale = run(prog.plan_therapy(morphine("0.5 mg/day")))  # planned before any start
    run(prog.send_therapy(run(prog.plan_therapy(morphine("0.49 mg/day")))))
    with pytest.raises(RefusedError, match="increases need at least 24 h"):
        run(prog.send_therapy(stale))
    assert rig.pump.state.therapy.basal == Continuous(q("0.49 mg/day"))


def test_a_dose_outside_the_device_flow_range_is_refused_before_the_finish_screen(
        rig: Rig) -> None:
    prog = rig.programmer()
    filled(rig, prog)
    with pytest.raises(PlanError, match=r"0\.45 mg/day at 10 mg/mL needs .*0\.048 mL/day"):
        run(prog.plan_therapy(morphine("0.45 mg/day")))
    with pytest.raises(PlanError, match="flow range"):
        run(prog.plan_therapy(TherapyRequest("morphine", q("10 mg/mL"), Therapy(
            parse_flex("00:00=0.5 mg/day,08:00=0.3 mg/day")))))
