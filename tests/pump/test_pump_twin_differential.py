"""The vectorised pump twin (`idds.pump.twin`) against the firmware: same decisions, same drug.

docs/design.md principle 2: the fast form of the pump rules is kept equal to the readable firmware
by a differential test on random programs and presses. Equal means: every press gets the same
outcome (given, or refused for the same reason: the same `Limit`), and the drug pumped each day
agrees within the firmware's stroke granularity (two strokes) plus 1% for per-stroke noise.
Moved from tests/trial; the twin's outcomes are the firmware's `Limit` members (None: given).
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idds.pump import (
    Continuous,
    DemandBolus,
    Drug,
    HardwareSpec,
    Limit,
    Pump,
    Refusal,
    Therapy,
)
from idds.pump import twin as pump_twin
from idds.pump.twin import HOURS, PumpArrays, TwinProgram
from idds.units import Quantity

DT_MIN = 5
DAYS = 3
START_S = 3600  # therapy starts 1 h after implant (after priming), on the 5-min grid
STROKE_NL = 2000

#: The outcome of a press that gives a bolus (a refused one is the firmware's `Limit`).
GIVEN = None


programs = st.fixed_dictionaries({
    "dose_mg_per_day": st.sampled_from(["0.5", "1", "2.4", "5", "8"]),
    "concentration": st.sampled_from(["2", "5", "10", "20"]),
    "bolus_mg": st.sampled_from(["0.05", "0.1", "0.25", "0.5"]),
    "duration_min": st.sampled_from([5, 10, 20]),
    "lockout_min": st.sampled_from([30, 60, 120, 240]),
    "max_per_day": st.integers(min_value=1, max_value=8),
    "systematic": st.floats(min_value=-0.14, max_value=0.14),
    "presses": st.lists(st.integers(min_value=1, max_value=DAYS * 288 - 1), max_size=40,
                        unique=True).map(sorted),
})


def firmware_run(p: dict[str, object]) -> tuple[list[object], list[int]]:
    pump = Pump.implant(HardwareSpec(systematic_error=float(p["systematic"]),  # type: ignore[arg-type]
                                     stall_hazard_per_day=0.0), seed=1)
    pump.refill(Quantity.of(20, "mL"), Drug("morphine", Quantity.of(p["concentration"],  # type: ignore[arg-type]
                                                                    "mg/mL")))
    pump.advance(pump.priming_bolus().ends)
    pump.advance(START_S)
    demand = DemandBolus(Quantity.of(p["bolus_mg"], "mg"),  # type: ignore[arg-type]
                         Quantity.of(p["duration_min"], "min"),  # type: ignore[arg-type]
                         Quantity.of(p["lockout_min"], "min"), int(p["max_per_day"]))  # type: ignore[arg-type]
    try:
        pump.set_therapy(Therapy(Continuous(Quantity.of(p["dose_mg_per_day"], "mg/day")),  # type: ignore[arg-type]
                                 demand))
    except Refusal as refusal:
        return [refusal.limit.name], []
    outcomes: list[object] = []
    pumped = [pump.hardware.pumped_nl]
    presses = list(p["presses"])  # type: ignore[call-overload]
    for day in range(1, DAYS + 1):
        end = START_S + day * 86400
        while presses and START_S + presses[0] * DT_MIN * 60 < end:
            pump.advance(START_S + presses.pop(0) * DT_MIN * 60)
            try:
                pump.patient_bolus()
                outcomes.append(GIVEN)
            except Refusal as refusal:
                outcomes.append(refusal.limit)
        pump.advance(end)
        pumped.append(pump.hardware.pumped_nl)
    return outcomes, list(np.diff(pumped))


def twin_run(p: dict[str, object]) -> tuple[list[object], list[float]]:
    concentration = float(str(p["concentration"]))
    therapy = TwinProgram(
        basal_mg_per_day=np.array([float(str(p["dose_mg_per_day"]))]),
        flex=np.ones((1, HOURS)),
        bolus_mg=np.array([float(str(p["bolus_mg"]))]),
        lockout_min=np.array([float(p["lockout_min"])]),  # type: ignore[arg-type]
        max_per_24h=np.array([p["max_per_day"]], dtype=np.int64),
    )
    pumps = PumpArrays.empty(1, np.array([float(p["systematic"])]))  # type: ignore[arg-type]
    pumps.fill(np.ones(1, dtype=bool), 20.0, np.array([concentration]))
    problem = pump_twin.program_problems(therapy, pumps.concentration_mg_per_ml,
                                         np.array([float(p["duration_min"])]))  # type: ignore[arg-type]
    if problem[0]:
        return [pump_twin.limit_of(int(problem[0])).name], []
    presses = set(p["presses"])  # type: ignore[call-overload]
    outcomes: list[object] = []
    per_day: list[float] = []
    for day in range(DAYS):
        volume_ml = 0.0
        for s in range(288):
            index = day * 288 + s
            hour = (index * DT_MIN // 60) % 24
            volume_ml += float(pump_twin.deliver(pumps, therapy, hour, DT_MIN)[0]) / concentration
            if index + 1 in presses:
                code = pump_twin.demand(pumps, np.array([True]), (index + 1) * DT_MIN, therapy,
                                        float(p["duration_min"]))  # type: ignore[arg-type]
                outcomes.append(pump_twin.outcome(int(code[0])))
        per_day.append(volume_ml * 1e6)
    return outcomes, per_day


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs)
def test_twin_matches_firmware(program: dict[str, object]) -> None:
    firm_outcomes, firm_nl = firmware_run(program)
    twin_outcomes, twin_nl = twin_run(program)
    assert twin_outcomes == firm_outcomes
    for firm, twin in zip(firm_nl, twin_nl, strict=True):
        assert abs(firm - twin) <= 2 * STROKE_NL + 0.01 * firm, (firm, twin)


def test_a_bolus_in_the_lockout_is_refused_by_both() -> None:
    program: dict[str, object] = {
        "dose_mg_per_day": "1", "concentration": "10", "bolus_mg": "0.1", "duration_min": 10,
        "lockout_min": 120, "max_per_day": 4, "systematic": 0.0, "presses": [12, 24, 36, 60],
    }
    firm, _ = firmware_run(program)
    twin, _ = twin_run(program)
    assert firm == twin == [GIVEN, Limit.LOCKOUT_ACTIVE, GIVEN, GIVEN]
