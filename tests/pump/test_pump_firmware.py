"""Pump firmware rules, modes, alarms and the known failures of ref, devices."""

from __future__ import annotations

from fractions import Fraction

import pytest

from idds.errors import IddsError
from idds.pump import (
    AlarmKind,
    Continuous,
    Drug,
    EventKind,
    Flex,
    FlexStep,
    HardwareSpec,
    Limit,
    MinimumRate,
    Mode,
    Pump,
    Refusal,
    Stopped,
    Therapy,
    interrogate,
    power_loss,
    restore,
    snapshot,
)
from idds.pump.clock import DAY, HOUR, MINUTE
from idds.pump.hardware import EOS_AFTER_ERI_S
from idds.pump.rules import FLOW_ERROR_BOUND
from tests.pump.pump_helpers import MORPHINE, demand, q, running_pump


def state_without_log(pump: Pump) -> bytes:
    """Everything except the log (a refusal adds exactly one log entry)."""
    tree = snapshot(pump)
    import json

    data = json.loads(tree)
    data.pop("log")
    data.pop("head")
    return json.dumps(data, sort_keys=True).encode()


# ------------------------------------------------------------------ rules ---------------------
def test_bolus_never_changes_basal_program() -> None:
    pump = running_pump()
    before = pump.state.therapy
    pump.patient_bolus()
    pump.advance(HOUR)
    pump.clinician_bolus(q("0.2 mg"), q("30 min"))
    assert pump.state.therapy == before
    pump.advance(3 * HOUR)
    assert pump.state.therapy == before
    assert pump.state.bolus is None
    assert pump.flow() == pump.basal_flow() > 0


def test_clinician_bolus_replaces_basal_then_reverts() -> None:
    pump = running_pump()
    basal = pump.flow()
    run = pump.clinician_bolus(q("0.5 mg"), q("1 h"))
    assert pump.flow() == run.flow
    pump.advance(run.ends)
    assert pump.flow() == basal
    kinds = [e.kind for e in pump.log]
    assert EventKind.BOLUS_COMPLETED in kinds


def test_no_bolus_while_critical_alarm() -> None:
    pump = running_pump()
    pump.inject_memory_error(critical=True)
    with pytest.raises(Refusal) as info:
        pump.patient_bolus()
    assert info.value.limit is Limit.CRITICAL_ALARM
    with pytest.raises(Refusal):
        pump.clinician_bolus(q("0.1 mg"), q("10 min"))
    assert pump.flow() == 0


def test_critical_alarm_cancels_running_bolus() -> None:
    pump = running_pump()
    pump.patient_bolus()
    pump.advance(pump.now + MINUTE)
    pump.mri_exposure()
    assert pump.state.bolus is None
    assert pump.log.entries[-1].kind is EventKind.BOLUS_CANCELLED


@pytest.mark.parametrize("command", [
    lambda p: p.clinician_bolus(q("10 mg"), q("1 min")),          # bolus flow too high
    lambda p: p.clinician_bolus(q("0.1 mg"), q("0.5 min")),
    lambda p: p.set_therapy(Therapy(Stopped(), demand(lockout="5 min"))),
    lambda p: p.set_therapy(Therapy(Stopped(), demand(max_per_24h=99))),
    lambda p: p.set_therapy(Therapy(Flex(((FlexStep(60, q("1 mg/day")),),)))),
    lambda p: p.set_therapy(Therapy(Flex((tuple(FlexStep(i * 60, q("1 mg/day"))
                                                for i in range(14)),)))),
    lambda p: p.refill(q("30 mL"), MORPHINE),
    lambda p: p.set_low_reservoir_alarm(q("0.5 mL")),
    lambda p: p.acknowledge(AlarmKind.END_OF_SERVICE),
    lambda p: p.advance(0),
])
def test_refused_command_changes_nothing_and_is_logged(command: object) -> None:
    pump = running_pump()
    pump.advance(HOUR)
    before, entries = state_without_log(pump), len(pump.log)
    with pytest.raises(Refusal) as info:
        command(pump)  # type: ignore[operator]
    assert isinstance(info.value, IddsError)
    assert "\n" not in str(info.value)
    assert state_without_log(pump) == before
    assert len(pump.log) == entries + 1
    last = pump.log.entries[-1]
    assert last.kind in (EventKind.COMMAND_REFUSED, EventKind.BOLUS_REFUSED)
    assert last.detail("limit") == info.value.limit.name


@pytest.mark.parametrize("dose", ["0.4 mg/day", "250 mg/day"])
def test_flow_outside_device_limits_refused(dose: str) -> None:
    pump = running_pump()
    with pytest.raises(Refusal) as info:
        pump.set_therapy(Therapy(Continuous(q(dose))))
    assert info.value.limit is Limit.FLOW_RANGE
    assert "0.048 mL/day" in str(info.value)


def test_drug_change_stops_until_confirmed() -> None:
    pump = running_pump()
    pump.advance(DAY)
    pump.refill(q("20 mL"), Drug("morphine", q("20 mg/mL")))
    assert not pump.state.confirmed and pump.flow() == 0
    with pytest.raises(Refusal) as info:
        pump.patient_bolus()
    assert info.value.limit is Limit.NOT_CONFIRMED
    delivered = pump.hardware.pumped_nl
    pump.advance(2 * DAY)
    assert pump.hardware.pumped_nl == delivered
    pump.set_therapy(running_pump().state.therapy)
    assert pump.flow() > 0


def test_bridge_bolus_pushes_old_drug_at_old_dose_rate() -> None:
    pump = running_pump("2 mg/day")
    pump.advance(2 * DAY)
    old_flow = pump.flow()
    pump.refill(q("20 mL"), Drug("morphine", q("20 mg/mL")))
    pump.set_therapy(running_pump("2 mg/day").state.therapy)
    run = pump.bridge_bolus()
    assert run.flow == old_flow
    assert run.volume_nl == pump.state.dead_volume_nl
    start_mass = pump.hardware.delivered_ng
    pump.advance(run.ends)
    # out of the tip: old 10 mg/mL drug at the old flow, i.e. the old 2 mg/day
    hours = float((run.ends - run.started) / HOUR)
    mg = float((pump.hardware.delivered_ng - start_mass) / 1_000_000)
    assert mg == pytest.approx(2 * hours / 24, rel=0.25)
    assert pump.flow() == pump.basal_flow() < old_flow  # new program: half the flow
    with pytest.raises(Refusal):
        pump.bridge_bolus()


def test_priming_fills_catheter_before_drug_reaches_tip() -> None:
    pump = Pump.implant(HardwareSpec(stall_hazard_per_day=0.0))
    pump.refill(q("20 mL"), MORPHINE)
    run = pump.priming_bolus()
    assert run.volume_nl == 182_000  # (110 - 40) cm x 0.0026 mL/cm
    pump.advance(run.ends)
    assert pump.hardware.delivered_ng < 3 * 2000 * 10  # at most a few strokes of drug
    assert pump.hardware.catheter_ng > 0
    assert pump.flow() == 0  # therapy not yet confirmed


def test_flex_schedule_steps_and_weekdays() -> None:
    pump = running_pump()
    week = tuple(
        (FlexStep(0, q("1 mg/day")), FlexStep(8 * 60, q(f"{2 + d} mg/day")))
        for d in range(7)
    )
    pump.set_therapy(Therapy(Flex(week)))
    pump.advance(DAY + 7 * HOUR)  # Tuesday 07:00
    low = pump.flow()
    pump.advance(DAY + 9 * HOUR)  # Tuesday 09:00 -> 3 mg/day
    assert pump.flow() == 3 * low
    pump.advance(6 * DAY + 9 * HOUR)  # Sunday
    assert pump.flow() == 8 * low
    assert pump.state.therapy.mode is Mode.FLEX


def test_minimum_rate_mode() -> None:
    pump = running_pump()
    pump.set_therapy(Therapy(MinimumRate()))
    assert pump.flow() == Fraction(48_000) / DAY


def test_patient_bolus_lockout_and_daily_maximum() -> None:
    pump = running_pump()
    pump.set_therapy(Therapy(pump.state.therapy.basal, demand(max_per_24h=2, lockout="1 h")))
    first = pump.now
    pump.patient_bolus()
    pump.advance(pump.now + 30 * MINUTE)
    with pytest.raises(Refusal) as info:
        pump.patient_bolus()
    assert info.value.limit is Limit.LOCKOUT_ACTIVE
    pump.advance(pump.now + 30 * MINUTE)
    pump.patient_bolus()
    pump.advance(pump.now + 3 * HOUR)
    with pytest.raises(Refusal) as info:
        pump.patient_bolus()
    assert info.value.limit is Limit.MAX_PER_24H_REACHED
    pump.advance(first + DAY - 1)
    with pytest.raises(Refusal):
        pump.patient_bolus()  # first bolus of the pair not yet 24 h ago
    pump.advance(first + DAY)
    pump.patient_bolus()
    refused = pump.log.of_kind(EventKind.BOLUS_REFUSED)
    assert [e.detail("limit") for e in refused] == [
        "LOCKOUT_ACTIVE", "MAX_PER_24H_REACHED", "MAX_PER_24H_REACHED"]
    assert pump.log.of_kind(EventKind.LOCKOUT_ENDED)


def test_power_loss_snapshot_restores_and_continues_identically() -> None:
    pump = running_pump(spec=HardwareSpec(stall_hazard_per_day=0.5))
    pump.advance(DAY / 3)
    pump.patient_bolus()
    data = snapshot(pump)
    twin = restore(data)
    assert snapshot(twin) == data
    for t in (DAY, 3 * DAY, 5 * DAY):
        pump.advance(t)
        twin.advance(t)
    assert snapshot(twin) == snapshot(pump)
    rebooted = power_loss(pump)
    assert rebooted.log.entries[-1].kind is EventKind.RESTARTED
    assert rebooted.state.therapy == pump.state.therapy
    assert rebooted.log.verify().ok


def test_restore_refuses_tampered_snapshot() -> None:
    pump = running_pump()
    pump.advance(HOUR)
    data = snapshot(pump).replace(b"morphine", b"fentanyl")
    with pytest.raises(IddsError):
        restore(data)
    with pytest.raises(IddsError):
        restore(b"not json")


def test_nothing_delivered_when_stopped_or_backwards() -> None:
    pump = running_pump()
    pump.set_therapy(Therapy(Stopped()))
    before = pump.hardware.pumped_nl
    pump.advance(5 * DAY)
    assert pump.hardware.pumped_nl == before
    with pytest.raises(Refusal):
        pump.advance(DAY)


def test_eri_then_eos_ninety_days_later() -> None:
    spec = HardwareSpec(stall_hazard_per_day=0.0, eri_at_s=Fraction(10 * DAY))
    pump = running_pump("0.5 mg/day", spec=spec)
    pump.advance(200 * DAY)
    raised = {e.detail("alarm"): e.time for e in pump.log.of_kind(EventKind.ALARM_RAISED)}
    assert raised["elective replacement indicator"] == 10 * DAY
    assert raised["end of service"] == 10 * DAY + EOS_AFTER_ERI_S
    pumped = pump.hardware.pumped_nl
    pump.advance(210 * DAY)
    assert pump.hardware.pumped_nl == pumped
    with pytest.raises(Refusal) as info:
        pump.patient_bolus()
    assert info.value.limit is Limit.END_OF_SERVICE


def test_mri_stall_restart_and_resume_after_interrogation() -> None:
    pump = running_pump()
    pump.advance(HOUR)
    pump.mri_exposure()
    restart = pump.state.restart_at
    assert restart is not None and 2 * HOUR <= restart - HOUR <= 24 * HOUR
    pumped = pump.hardware.pumped_nl
    pump.advance(restart + HOUR)
    assert pump.hardware.pumped_nl == pumped  # waits for interrogation
    kinds = [e.kind for e in pump.log]
    assert EventKind.MOTOR_STALLED in kinds and EventKind.MOTOR_RESTARTED in kinds
    telemetry = interrogate(pump)
    assert not telemetry.motor_stalled
    assert not pump.alarm_active(AlarmKind.MOTOR_STALL)
    pump.advance(restart + DAY)
    assert pump.hardware.pumped_nl > pumped


def test_random_stall_hazard_happens_with_high_hazard() -> None:
    pump = running_pump(spec=HardwareSpec(stall_hazard_per_day=1.0))
    pump.advance(10 * DAY)
    assert pump.log.of_kind(EventKind.MOTOR_STALLED)


def test_noncritical_memory_error_continues_and_clears() -> None:
    pump = running_pump()
    pump.inject_memory_error(critical=False)
    assert pump.flow() > 0
    pump.patient_bolus()
    pump.clear_memory_error()
    assert not pump.alarm_active(AlarmKind.MEMORY_ERROR)


def test_critical_memory_error_needs_reprogramming() -> None:
    pump = running_pump()
    therapy = pump.state.therapy
    pump.inject_memory_error(critical=True)
    pump.clear_memory_error()
    assert pump.flow() == 0 and not pump.state.confirmed
    pump.set_therapy(therapy)
    assert pump.flow() > 0


def test_telemetry_is_json_able() -> None:
    import json

    pump = running_pump()
    pump.advance(HOUR)
    data = interrogate(pump).as_json()
    text = json.dumps(data)
    assert "morphine" in text
    assert data["refill_due_in"] is not None
    assert data["log_head"] == pump.log.head


def test_low_reservoir_alarm_at_estimate_crossing() -> None:
    pump = running_pump("10 mg/day", fill="4 mL", with_demand=False)
    pump.advance(10 * DAY)
    low = pump.log.of_kind(EventKind.ALARM_RAISED)[0]
    assert low.detail("alarm") == "low reservoir" and low.detail("priority") == "medium"
    # 4 mL - 0.182 mL priming, at 1 mL/day the 2 mL alarm volume falls due at ~1.82 days
    assert abs(low.time - Fraction(182, 100) * DAY) < HOUR
    assert pump.alarm_active(AlarmKind.EMPTY_RESERVOIR)
    assert pump.flow() == 0


# ------------------------------------------------------------------ known failures ------------
def test_known_failure_40_ml_entered_when_20_filled_caught_at_refill() -> None:
    spec = HardwareSpec(reservoir_nl=40_000_000, stall_hazard_per_day=0.0)
    pump = Pump.implant(spec, seed=3)
    pump.refill(q("20 mL"), MORPHINE, entered=q("40 mL"))
    pump.priming_bolus()
    pump.set_therapy(running_pump("5 mg/day").state.therapy)   # 0.5 mL/day
    pump.advance(45 * DAY)
    # physically dry at ~day 40 while the pump still believes ~17 mL are left: no alarm
    assert pump.hardware.ran_dry_at is not None
    assert not pump.alarm_active(AlarmKind.LOW_RESERVOIR)
    report = pump.refill(q("20 mL"), MORPHINE)
    assert report.mismatch
    assert report.expected_nl > 15_000_000 and report.withdrawn_nl == 0
    assert pump.log.of_kind(EventKind.REFILL)[-1].detail("mismatch") == "yes"


def test_correct_refill_is_not_flagged() -> None:
    pump = running_pump("5 mg/day", seed=4)
    pump.advance(20 * DAY)
    report = pump.refill(q("20 mL"), MORPHINE)
    assert not report.mismatch


def test_known_failure_over_infusing_pump_runs_dry_before_its_alarm() -> None:
    spec = HardwareSpec(stall_hazard_per_day=0.0, systematic_error=0.14)
    pump = running_pump("5 mg/day", spec=spec, with_demand=False)  # 0.5 mL/day nominal
    pump.advance(60 * DAY)
    dry = pump.hardware.ran_dry_at
    assert dry is not None
    alarms = {e.detail("alarm"): e.time for e in pump.log.of_kind(EventKind.ALARM_RAISED)}
    assert dry < alarms["low reservoir"]   # ran dry before the calculated low alarm
    assert dry < alarms["empty reservoir"]
    assert pump.hardware.balanced()


def test_tip_delivery_within_flow_error_bound() -> None:
    pump = running_pump("2 mg/day", seed=11)
    pump.advance(DAY)
    start = pump.hardware.delivered_ng
    pump.advance(6 * DAY)
    per_day = float(pump.hardware.delivered_ng - start) / 5 / 1_000_000
    assert 2 * (1 - FLOW_ERROR_BOUND) <= per_day <= 2 * (1 + FLOW_ERROR_BOUND)
    assert per_day == pytest.approx(2 * (1 + pump.state.systematic_error), rel=0.01)


def test_catheter_revision_then_priming_fills_the_new_catheter() -> None:
    """Catheter revision (ref, devices): the new catheter's dead volume is (110 cm - trimmed) x
    0.0026 mL/cm; the old catheter's drug leaves the system as withdrawn; a priming bolus then
    fills exactly the new dead volume; drug stays conserved through two revisions."""
    pump = running_pump()
    pump.advance(pump.now + 3600)
    for trimmed in (60, 30):
        pump.replace_catheter(trimmed)
        expected_nl = (110 - trimmed) * 2600 + pump.spec.internal_volume_nl
        assert pump.state.dead_volume_nl == expected_nl
        run = pump.priming_bolus()
        assert run.volume_nl == expected_nl
        pump.advance(run.ends)
        assert pump.hardware.balanced()
    assert pump.log.of_kind(EventKind.CATHETER_CHANGED)
