"""Scenario in, advice out (the habit of LoopAlgorithm's fixture pairs), for the advisory path.

Each folder under tests/fixtures/advice holds `scenario.toml` (the pump's program, the
patient's remote presses, the visit), `observations.toml` (the clinician's file, as a clinician
writes it) and `expected.json` (the advice: reason, verdict, settings current / recommended /
allowed, limits, the program acceptance would send, and every check applied). The pump runs
on the in-memory link; the advice comes through `gather` and `prepare` as in the CLI.

The same scenarios shifted by 1000 days (the pump's clock and the clinic's calendar together)
give the same advice: no decision depends on when time started.

A deliberate change of behaviour regenerates the expected files with
`IDDS_UPDATE_FIXTURES=1 pytest tests/programmer/test_advice_fixtures.py`; review the diff.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tomllib
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from idds.programmer import Programmer, RefillRequest, TherapyRequest
from idds.programmer.advisory import advice_summary, gather, parse_observations, prepare
from idds.pump import Continuous, DemandBolus, Therapy
from idds.units import parse_quantity as q
from tests.programmer.rig import LIBRARY, Rig, run

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "advice"
SCENARIOS = sorted(p.name for p in FIXTURES.iterdir() if (p / "scenario.toml").exists())
DAY = 86_400
SHIFT_DAYS = 1000


def _shift(value: Any, by: dt.timedelta) -> Any:
    """Every date-time in parsed TOML moved by `by` (text date-times are parsed first)."""
    if isinstance(value, dict):
        return {k: _shift(v, by) if k != "time" else _when(v) + by for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v, by) for v in value]
    return value


def _when(value: Any) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)


def _pump_on(rig: Rig, spec: dict[str, Any], start: int) -> Programmer:
    """The scenario's program from pump time `start` (basal `dose`, patient bolus `bolus`,
    default 0.2 mg, lockout 2 h, 4 a day), the remote pressed each day at `presses_at_hour` or
    at each of `presses_at_hours` (hours of day), the visit at 12:00."""
    prog = rig.programmer()
    change = run(prog.plan_refill(RefillRequest(q("0 mL"), q("20 mL"), q("10 mg/mL"),
                                                "morphine")))
    run(prog.send_refill(change))
    therapy = Therapy(Continuous(q(spec["dose"])),
                      DemandBolus(q(spec.get("bolus", "0.2 mg")), q("10 min"), q("2 h"), 4))
    run(prog.send_therapy(run(prog.plan_therapy(
        TherapyRequest("morphine", q("10 mg/mL"), therapy, opioid_tolerant=True)))))
    days = int(spec["days"])
    hours = spec.get("presses_at_hours", [spec["presses_at_hour"]] if "presses_at_hour" in spec
                     else [])
    if hours:
        remote = rig.remote()
        for d in range(days):
            for hour in hours:  # a press inside the lockout is refused by the pump
                rig.pump_time = Fraction(start + int((d + hour / 24) * DAY))
                run(remote.bolus())
    rig.pump_time = Fraction(start + days * DAY + 12 * 3600)
    return prog


def advice_for(name: str, tmp: Path, shift_days: int = 0) -> dict[str, Any]:
    folder = FIXTURES / name
    scenario = tomllib.loads((folder / "scenario.toml").read_text())
    by = dt.timedelta(days=shift_days)
    observations = _shift(tomllib.loads((folder / "observations.toml").read_text()), by)
    start = shift_days * DAY
    rig = Rig(tmp, start=start)
    prog = _pump_on(rig, scenario["pump"], start)
    status, log = run(gather(prog))
    adv = prepare(status, log, parse_observations(observations, folder),
                  scenario["visit"]["controller"], LIBRARY,
                  _when(scenario["visit"]["now"]) + by, None)
    summary = advice_summary(adv)
    summary.pop("pump")
    summary["pump_day"] -= shift_days
    return {"advice": summary,
            "checks": [{"check": label, "applied": hit} for label, hit, _ in adv.checks]}


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_gives_the_expected_advice(name: str, tmp_path: Path) -> None:
    got = advice_for(name, tmp_path)
    expected = FIXTURES / name / "expected.json"
    if os.environ.get("IDDS_UPDATE_FIXTURES"):
        expected.write_text(json.dumps(got, indent=2, sort_keys=True) + "\n")
    assert got == json.loads(expected.read_text())


@pytest.mark.parametrize("name", SCENARIOS)
def test_shifting_every_time_by_a_constant_changes_no_advice(name: str, tmp_path: Path) -> None:
    assert advice_for(name, tmp_path / "later", SHIFT_DAYS) == advice_for(name, tmp_path)


def test_the_fixtures_cover_increase_hold_reduce_and_reshape() -> None:
    """The scenario set keeps its spread: a change to the fixtures cannot quietly drop one."""
    reasons = {json.loads((FIXTURES / n / "expected.json").read_text())["advice"]["reason"]
               for n in SCENARIOS}
    assert {"increase_uncontrolled", "decrease_side_effects", "reshape_flex"} <= reasons
    assert any(r.startswith("hold") for r in reasons)


#: The reasons that state a side-effect or safety gain (`idds.control.harm.GAIN_REASONS`).
_GAIN = {"decrease_side_effects", "decrease_little_benefit", "decrease_overcontrolled"}


@pytest.mark.parametrize("name", SCENARIOS)
def test_no_advice_cuts_a_dose_without_a_gain(name: str, tmp_path: Path) -> None:
    """Issue 20: what acceptance would program never lowers the daily dose, the patient bolus
    or the boluses a day unless the reason states a side-effect or safety gain (or the
    supervisor's interlock acted): advice that predicts harm is not recommended."""
    got = advice_for(name, tmp_path)["advice"]
    if got["reason"] in _GAIN or got["verdict"] == "alarm":
        return
    cur, allowed = got["current"], got["allowed"]
    for key in ("daily_mg_per_day", "bolus_mg", "max_boluses_per_day"):
        assert allowed[key] >= cur[key] - 1e-9, (key, cur[key], allowed[key])
