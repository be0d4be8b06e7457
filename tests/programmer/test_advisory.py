"""Advisory mode in the programmer (in-memory rig): observations from the pump and the
clinician's file -> controller -> supervisor -> advice; accept programs through the normal
path, reject sends nothing; the decision is in the device log; bad input exits 2."""

from __future__ import annotations

import datetime as dt
import io
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from idds.cli.main import main
from idds.cli.program import show_advice
from idds.control.reasons import Reason
from idds.control.supervisor import Verdict
from idds.programmer import Programmer, RefillRequest, TherapyRequest
from idds.programmer.advisory import (
    AdvisoryError,
    AdvisoryRun,
    accept_advice,
    gather,
    load_observations,
    load_state,
    prepare,
    pump_day,
    reject_advice,
    save_state,
)
from idds.protocol.wire import daily_dose
from idds.pump import Continuous, DemandBolus, EventKind, Flex, Therapy
from idds.units import parse_quantity as q
from tests.cli.helpers import assert_refused
from tests.programmer.rig import LIBRARY, Rig, run

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
DAY = 86_400
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "advice" / "patient.toml"


def at(hours_ago: float) -> str:
    return (NOW - dt.timedelta(hours=hours_ago)).isoformat()


def observations(tmp: Path, *, diary: list[tuple[float, float]] | None = None,
                 poss: list[tuple[float, int]] | None = None,
                 rr: list[tuple[float, float]] | None = None,
                 burden: list[tuple[float, float]] | None = None, name: str = "obs") -> Path:
    """An observations file; defaults: uncontrolled pain (NRS 7, 9 entries in 2.5 days), alert
    (POSS 1), breathing 16/min, little burden."""
    diary = [(h, 7.0) for h in range(2, 60, 7)] if diary is None else diary
    poss = [(3.0, 1)] if poss is None else poss
    rr = [(3.0, 16.0)] if rr is None else rr
    burden = [(5.0, 1.0)] if burden is None else burden
    lines = ['clinician = "Dr Test"', "[patient]", 'oral_morphine = "0 mg/day"', "[bounds]",
             'max_daily_dose = "6 mg/day"', 'min_lockout = "1 h"']
    for table, key, rows in (("diary", "nrs", diary), ("sedation", "poss", poss),
                             ("respiratory_rate", "per_min", rr),
                             ("side_effects", "burden", burden)):
        for hours, value in rows:
            lines += [f"[[{table}]]", f'time = "{at(hours)}"', f"{key} = {value}"]
    path = tmp / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def pump_on(rig: Rig, dose: str = "2 mg/day", presses_at: float | None = None,
            days: int = 5) -> Programmer:
    """Morphine 10 mg/mL at `dose` with 0.2 mg boluses (2 h lockout, 4/day) from t = 0; the
    patient presses at `presses_at` (hour) each day; the pump clock ends at day `days` 12:00."""
    prog = rig.programmer()
    change = run(prog.plan_refill(RefillRequest(q("0 mL"), q("20 mL"), q("10 mg/mL"),
                                                "morphine")))
    run(prog.send_refill(change))
    therapy = Therapy(Continuous(q(dose)), DemandBolus(q("0.2 mg"), q("10 min"), q("2 h"), 4))
    run(prog.send_therapy(run(prog.plan_therapy(
        TherapyRequest("morphine", q("10 mg/mL"), therapy, opioid_tolerant=True)))))
    if presses_at is not None:
        remote = rig.remote()
        for d in range(days):
            rig.pump_time = Fraction(int((d + presses_at / 24) * DAY))
            assert run(remote.bolus()).given
    rig.pump_time = Fraction(days * DAY + 12 * 3600)
    return prog


def advise_now(prog: Programmer, path: Path, controller: str = "intelligent",
               carried: object | None = None) -> AdvisoryRun:
    status, log = run(gather(prog))
    return prepare(status, log, load_observations(path), controller, LIBRARY, NOW, carried)


def screen(adv: AdvisoryRun) -> str:
    buffer = io.StringIO()
    show_advice(Console(file=buffer, width=220, highlight=False), adv, "state: test")
    return buffer.getvalue()


def daily(rig: Rig) -> float:
    dose = daily_dose(rig.pump.state.therapy, "mg/day")
    assert dose is not None
    return float(dose.value_in("mg/day"))


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path)


@pytest.mark.parametrize("controller", ["intelligent", "rule-based"])
def test_uncontrolled_pain_gets_an_increase_within_bounds_and_accept_programs_it(
        rig: Rig, tmp_path: Path, controller: str) -> None:
    prog = pump_on(rig)
    adv = advise_now(prog, observations(tmp_path), controller)
    a = adv.advice
    assert a.reason is Reason.INCREASE_UNCONTROLLED
    assert a.verdict in (Verdict.ACCEPTED, Verdict.REDUCED)
    assert 2.0 < a.allowed.daily_mg <= 2.0 * 1.2 + 1e-9  # the +20% step; bound 6 mg/day
    text = screen(adv)
    if controller == "intelligent":
        assert a.predicted_nrs is not None and a.predicted_nrs < 7
        # It explains itself: beliefs with intervals, and forecasts for the plan now and the
        # plan the supervisor lets through (what acceptance delivers).
        ex = adv.explanation
        assert ex is not None
        assert ex.proposed.dose_mg_per_day > ex.current.dose_mg_per_day
        assert ex.proposed.nrs < ex.current.nrs
        assert ex.proposed.nrs_low < ex.proposed.nrs < ex.proposed.nrs_high
        assert "What the controller believes" in text and "90% interval" in text
        assert "Predicted in 3 days on the proposed plan: NRS" in text
    else:
        assert adv.explanation is None and "What the controller believes" not in text
    assert "Basal dose per DAY (mg/day)" in text and "Basal dose per HOUR (mg/h)" in text
    assert "daily dose increased" in text and "Checks applied" in text
    shown: list[str] = []
    out = run(accept_advice(prog, adv, "Dr Test", NOW.isoformat(), "programmer-1",
                            lambda plan: shown.append(plan.rows[0].setting)))
    assert out.result is not None and shown  # went through plan_therapy (finish screen)
    assert 2.0 < daily(rig) <= 2.4 + 1e-9
    changes = [e for e in rig.pump.log.last(20) if e.kind is EventKind.PROGRAM_CHANGED]
    assert changes and "continuous 2 mg/day" in (changes[-1].detail("old") or "")
    entry = [e for e in prog.log.entries() if e["kind"] == "advice"][-1]
    details = entry["details"]
    assert details["outcome"] == "accepted" and details["programmed"] is True
    [on_pump] = rig.pump.log.of_kind(EventKind.ADVICE_DECISION)  # logged on both sides
    assert on_pump.detail("outcome") == "accepted"
    assert details["clinician"] == "Dr Test" and details["device"] == "programmer-1"
    assert details["verdict"] in ("accepted", "reduced")
    assert details["recommendation"]["daily_mg_per_day"] > 2.0
    assert prog.log.verify().ok


def test_sedation_warning_gives_no_increase_and_the_screen_says_why(rig: Rig,
                                                                    tmp_path: Path) -> None:
    prog = pump_on(rig)
    adv = advise_now(prog, observations(tmp_path, poss=[(2.0, 3)]))
    assert adv.advice.allowed.daily_mg <= 2.0 + 1e-9
    assert adv.advice.reason is Reason.DECREASE_SIDE_EFFECTS
    text = screen(adv)
    assert "sedation at the warning limit" in text
    assert "sedation, slow breathing or intolerable side effects" in text


def test_stale_breathing_reading_is_missing_and_the_supervisor_refuses_the_increase(
        rig: Rig, tmp_path: Path) -> None:
    prog = pump_on(rig)
    adv = advise_now(prog, observations(tmp_path, rr=[(30.0, 16.0)]))
    assert np.isnan(adv.observations.respiratory_rate_min[0])
    assert adv.advice.recommended.daily_mg > 2.0  # the controller asked for more
    assert adv.advice.verdict is Verdict.REFUSED
    assert adv.advice.allowed.daily_mg == pytest.approx(2.0)
    assert not adv.changes
    text = screen(adv)
    assert "no respiratory rate (counts as a warning)" in text
    assert "Respiratory rate (lowest): MISSING" in text
    assert "interlock warning" in text


@pytest.mark.parametrize("hours", [[50.0, 55.0, 60.0], [100.0, 110.0, 120.0]])
def test_stale_diary_gives_no_increase(rig: Rig, tmp_path: Path, hours: list[float]) -> None:
    prog = pump_on(rig)
    adv = advise_now(prog, observations(tmp_path, diary=[(h, 8.0) for h in hours]))
    assert adv.advice.allowed.daily_mg <= 2.0 + 1e-9
    assert "diary" in screen(adv).lower()
    if hours[0] > 72:
        assert np.isnan(adv.observations.diary_mean_nrs[0])
        assert adv.advice.reason is Reason.HOLD_NO_DATA
    else:
        assert "diary missing or stale: no increase" in adv.advice.limits


def test_monitoring_window_after_the_last_increase_comes_from_the_pump_log(
        rig: Rig, tmp_path: Path) -> None:
    prog = pump_on(rig, days=1)  # programmed 36 h ago
    adv = advise_now(prog, observations(tmp_path))
    assert adv.advice.allowed.daily_mg == pytest.approx(2.0)
    assert any("monitoring window" in t for t in adv.advice.limits)


def test_reject_sends_nothing_and_logs_the_reason(rig: Rig, tmp_path: Path) -> None:
    prog = pump_on(rig)
    adv = advise_now(prog, observations(tmp_path))
    before = rig.pump.state.therapy
    def programs_sent() -> int:
        return sum(1 for e in prog.log.entries()
                   if e["kind"] == "sent" and e["details"].get("command") == "program")

    sent_before = programs_sent()
    decision = run(reject_advice(prog, adv, "Dr Test", NOW.isoformat(), "programmer-1",
                                 "patient prefers current dose"))
    assert decision.program == adv.advice.current
    assert rig.pump.state.therapy == before
    assert programs_sent() == sent_before
    entry = [e for e in prog.log.entries() if e["kind"] == "advice"][-1]["details"]
    assert entry["outcome"] == "rejected" and entry["reason"] == "patient prefers current dose"
    assert entry["programmed"] is False and entry["verdict"] in ("accepted", "reduced")
    [on_pump] = rig.pump.log.of_kind(EventKind.ADVICE_DECISION)  # logged on both sides
    assert on_pump.detail("outcome") == "rejected"
    assert on_pump.detail("reason") == "patient prefers current dose"
    assert on_pump.detail("clinician") == "Dr Test"
    with pytest.raises(Exception, match="reason"):
        run(reject_advice(prog, adv, "Dr Test", NOW.isoformat(), "programmer-1", " "))


def test_presses_at_the_same_hour_move_dose_before_that_hour(rig: Rig, tmp_path: Path) -> None:
    prog = pump_on(rig, presses_at=18.0, days=7)
    adv = advise_now(prog, observations(tmp_path, diary=[(h, 2.5) for h in range(2, 60, 7)]))
    assert adv.observations.presses_by_hour[0, 18] == 7
    flex = np.array(adv.advice.allowed.flex)
    assert flex[15:18].mean() > 1.1 and flex[15:18].mean() > flex[3:6].mean()
    assert isinstance(adv.proposed.basal, Flex)
    assert "Flex shape by hour" in screen(adv)
    run(accept_advice(prog, adv, "Dr Test", NOW.isoformat(), "programmer-1", lambda p: None))
    basal = rig.pump.state.therapy.basal
    assert isinstance(basal, Flex)
    rates = {s.start_minute // 60: float(s.dose_rate.value_in("mg/day")) for s in basal.days[0]}
    at_16 = rates[max(h for h in rates if h <= 16)]
    at_04 = rates[max(h for h in rates if h <= 4)]
    assert at_16 > at_04
    # the programmed daily dose never exceeds the supervisor's (rates rounded down)
    assert daily(rig) <= adv.advice.allowed.daily_mg + 1e-9


def test_carried_state_resumes_next_day_and_rerun_same_day_is_idempotent(
        rig: Rig, tmp_path: Path) -> None:
    prog = pump_on(rig)
    obs = observations(tmp_path)
    first = advise_now(prog, obs)
    path = tmp_path / "state.json"
    save_state(path, first.state)
    status, _ = run(gather(prog))
    again = advise_now(prog, obs, carried=load_state(path, status.pump_id, "intelligent",
                                                     pump_day(status)))
    assert again.resumed
    assert again.advice.recommended == first.advice.recommended
    assert again.advice.predicted_nrs == pytest.approx(first.advice.predicted_nrs)
    rig.pump_time += DAY
    status, _ = run(gather(prog))
    carried = load_state(path, status.pump_id, "intelligent", pump_day(status))
    assert carried is not None and carried.started
    with pytest.raises(AdvisoryError, match="rule-based"):
        load_state(path, status.pump_id, "rule-based", pump_day(status))


def _first_format(value: object) -> object:
    """An encoded state as the first state format wrote it: no side-effect estimate, three
    recovered fields a day."""
    if isinstance(value, dict) and "__array__" not in value:
        out = {k: _first_format(v) for k, v in value.items() if k != "side_effects"}
        if out.get("__type__") == "DailyState":
            rows, fields, n = out["recent"]["shape"]
            data = np.asarray(out["recent"]["data"]).reshape(rows, fields, n)[:, :3]
            out["recent"] = {"__array__": "float64", "shape": [rows, 3, n],
                             "data": data.ravel().tolist()}
        return out
    return value


def test_a_state_file_of_the_first_format_still_resumes(rig: Rig, tmp_path: Path) -> None:
    """A programmer updated between visits keeps what its controller learnt about the pain:
    the first format's state is read with the side-effect prior added."""
    prog = pump_on(rig)
    first = advise_now(prog, observations(tmp_path))
    old = dict(first.state, format="idds-advice-state/1",
               before=_first_format(first.state["before"]),
               after=_first_format(first.state["after"]))
    path = tmp_path / "state.json"
    save_state(path, old)
    rig.pump_time += DAY
    status, _ = run(gather(prog))
    carried = load_state(path, status.pump_id, "intelligent", pump_day(status))
    assert carried is not None and carried.started
    after = first.state["after"]["response"]["log_weight"]["data"]
    assert carried.response.log_weight.ravel().tolist() == after  # the pain estimate kept
    assert carried.side_effects.mean.shape == (1, 3)  # the prior, to learn from now on
    daily = first.state["after"]["daily"]["recent"]
    kept = np.asarray(daily["data"]).reshape(daily["shape"])[:, :3]
    assert np.array_equal(carried.daily.recent[:, :3], kept)  # the recovered diary days kept
    again = advise_now(prog, observations(tmp_path), carried=carried)
    assert again.resumed and again.advice.recommended is not None


def test_example_file_loads() -> None:
    clinical = load_observations(EXAMPLE)
    assert clinical.bounds.max_daily_mg == 6.0 and clinical.bounds.min_lockout_min == 60.0
    assert len(clinical.diary) == 5 and clinical.clinician == "Dr A. Example"


def bad_cases(tmp: Path) -> list[tuple[list[str], str]]:
    good = observations(tmp)
    broken = tmp / "broken.toml"
    broken.write_text("[bounds\nmax_daily_dose = 1")
    high = observations(tmp, diary=[(2.0, 11.0)], name="high")
    nobound = tmp / "nobound.toml"
    nobound.write_text('[patient]\noral_morphine = "0 mg/day"\n')
    base = ["program", "advise", "--device", str(tmp / "dev")]
    return [
        ([*base, "--observations", str(tmp / "none.toml")], "not found"),
        ([*base, "--observations", str(broken)], "not valid TOML"),
        ([*base, "--observations", str(high)], "outside 0-10"),
        ([*base, "--observations", str(good), "--controller", "pid"], "unknown controller"),
        ([*base, "--observations", str(good), "--accept", "--reject", "no"], "exclude"),
        ([*base, "--observations", str(good), "--reject", " "], "needs a reason"),
        ([*base, "--observations", str(nobound)], "max_daily_dose is required"),
        ([*base, "--observations", str(good), "--now", "yesterday"], "not a date"),
        ([*base], "--observations"),
    ]


@pytest.mark.parametrize("index", range(9))
def test_bad_input_exits_2_with_one_line(index: int, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    argv, fragment = bad_cases(tmp_path)[index]
    code = main(argv)
    assert_refused(code, capsys.readouterr().err, fragment, argv)


def test_advise_accept_through_the_cli_against_the_emulator(tmp_path: Path) -> None:
    """Real processes: emulator, `idds program pair/therapy/advise --accept --yes --json`."""
    import json
    import time

    from tests.system.system_helpers import Emulator, call, idds
    from tests.system.system_helpers import programmer as tcp_programmer

    speed = 100_000  # pump s per wall s: the 72 h monitoring window passes in 2.6 s
    state, prog_dir = tmp_path / "pump", tmp_path / "prog"
    emu = Emulator(state, speed)
    port = emu.start()
    try:
        assert idds("program", "pair", "--port", str(port), "--wand", str(state),
                    "--device", str(prog_dir)).returncode == 0
        prog = tcp_programmer(prog_dir, port)
        change = call(prog, prog.plan_refill(
            RefillRequest(q("0 mL"), q("20 mL"), q("10 mg/mL"), "morphine")))
        call(prog, prog.send_refill(change))
        therapy = Therapy(Continuous(q("2 mg/day")),
                          DemandBolus(q("0.2 mg"), q("10 min"), q("2 h"), 4))
        prog = tcp_programmer(prog_dir, port)
        plan = call(prog, prog.plan_therapy(TherapyRequest("morphine", q("10 mg/mL"), therapy,
                                                           opioid_tolerant=True)))
        call(tcp_programmer(prog_dir, port), tcp_programmer(prog_dir, port).send_therapy(plan))
        time.sleep(80 * 3600 / speed)
        done = idds("program", "advise", "--observations", str(observations(tmp_path)),
                    "--now", NOW.isoformat(), "--accept", "--yes", "--json",
                    "--device", str(prog_dir))
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["advice"]["reason"] == "increase_uncontrolled"
        assert report["decision"]["outcome"] == "accepted" and report["decision"]["sent"]
        assert "continuous 2 mg/day" in report["result"]["old"]
        assert Path(report["state_file"]).exists()
        entries = [json.loads(line) for line in
                   (prog_dir / "device-log.jsonl").read_text().splitlines()]
        advice = [e for e in entries if e["kind"] == "advice"]
        assert advice and advice[-1]["details"]["outcome"] == "accepted"
        assert advice[-1]["details"]["programmed"] is True
    finally:
        emu.stop()
