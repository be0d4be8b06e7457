"""One trial day of one arm, step by step: the arm's working state (`ArmState`) and the day's
steps in two forms, the readable one over whole-cohort arrays (`readable_steps`) and the
compiled one (`compiled_steps`, `idds.trial.dayloop`) that `tests/trial/test_dayloop.py` keeps
equal to it. Each step: the oral schedule and the pump twin give the deliveries, the
physiology steps, the pump twin decides the remote presses, the day's sums are updated.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from idds.control.prescription import HOURS, Prescription
from idds.physiology import Cohort, CohortState, Delivery, step
from idds.physiology.pain import start_episodes
from idds.physiology.parameters import SYMPTOMS
from idds.physiology.symptoms import Care, SymptomState
from idds.pump import twin as pump_twin
from idds.pump.twin import GIVEN, PumpArrays
from idds.trial import dayloop
from idds.trial.history import DayAccumulator, History
from idds.trial.scenario import DayEvents

Array = NDArray[np.float64]

DAY_MIN = 1440
#: Around-the-clock oral doses (sustained release q12h), minutes after midnight.
ORAL_TIMES_MIN = (480, 1200)

@dataclass
class ArmState:
    """Mutable working state of one arm on one batch, day after day (owned by `engine`)."""

    cohort: Cohort
    state: CohortState
    symptoms: SymptomState
    care: Care
    weight_kg: Array
    therapy: Prescription
    pumps: PumpArrays | None
    acc: DayAccumulator
    history: History
    previous_event: NDArray[np.bool_]
    visits: Array
    refills: Array
    reasons: NDArray[np.int64]
    alive: NDArray[np.bool_]
    pain_by_hour_sum: Array = field(default_factory=lambda: np.zeros(HOURS))
    pain_by_hour_count: Array = field(default_factory=lambda: np.zeros(HOURS))
    presses_by_hour: Array = field(default_factory=lambda: np.zeros(HOURS))
    refused_by_hour: Array = field(default_factory=lambda: np.zeros(HOURS))
    bolus_duration_min: Array = field(default_factory=lambda: np.zeros(0))


def readable_steps(run: ArmState, dt: float, uses_pump: bool, events: DayEvents | None
                   ) -> tuple[Array, Array]:
    """The day's steps, readable form (arrays over the cohort, step by step): the day's sums
    added to `run.acc`; presses and refused presses per hour and patient (24, n)."""
    steps = int(DAY_MIN // dt)
    oral_steps = {int(t // dt): t for t in ORAL_TIMES_MIN}
    values, exposure = run.acc.values, run.acc.exposure
    threshold = run.cohort.press_threshold_nrs
    presses_by_hour = np.zeros((HOURS, run.cohort.n))  # hour-major: contiguous row updates
    refused_by_hour = np.zeros((HOURS, run.cohort.n))
    dose_per_intake = run.therapy.oral_mg_per_day / len(ORAL_TIMES_MIN)
    night_end, night_start = SYMPTOMS.night_end_min, SYMPTOMS.night_start_min
    alive = run.alive.astype(np.float64)
    alive_count = float(alive.sum())
    program = run.therapy.pump_program()
    onsets = {} if events is None else events.onsets
    for s in range(steps):
        hour = int((s * dt) // 60)
        if s in onsets:  # a scheduled breakthrough episode starts in this step
            episodes = start_episodes(run.state.episodes, run.cohort, run.state.t_min, onsets[s],
                                      run.state.step_index)
            run.state = replace(run.state, episodes=episodes)
        gut = dose_per_intake if s in oral_steps else 0.0
        csf: Array | float = 0.0
        if uses_pump and run.pumps is not None:
            csf = pump_twin.deliver(run.pumps, program, hour, dt)
            if events is not None:  # an obstructed catheter: nothing reaches the CSF
                csf = events.reaching_csf(csf)
            values["it_mg"] += csf
        values["oral_mg"] += gut
        run.state, out = step(run.state, run.cohort, [Delivery("morphine", gut_mg=gut,
                                                               csf_mg=csf)], dt)
        eff, exp = out.effects, out.exposure
        pain = out.pain_nrs
        values["oral_mg"] += out.oral_rescue_mg
        values["pain_mean"] += pain
        values["controlled_fraction"] += pain <= 3.0
        if night_end <= s * dt < night_start:
            values["waking_controlled_fraction"] += pain <= 3.0
            run.acc.waking_steps += 1
        values["severe_fraction"] += pain >= 7.0
        values["plasma_mean"] += exp.plasma
        exposure["supraspinal"] += exp.supraspinal
        exposure["spinal"] += exp.spinal
        exposure["gut_mg"] += exp.gut_mg
        exposure["sedation"] += eff.sedation
        if not night_end <= (s + 1) * dt < night_start:
            np.maximum(values["woken_night"], pain >= threshold, out=values["woken_night"])
        event = out.respiratory_event
        values["respiratory_events"] += event & ~run.previous_event
        run.previous_event = event
        diary = out.diary_nrs
        if not np.isnan(diary).all():
            if events is not None:  # missing or noisier entries (the step's own draw)
                diary = events.diary(diary, pain, run.cohort.keys, run.state.step_index - 1)
            has = ~np.isnan(diary)
            values["diary_sum"] += np.where(has, diary, 0.0)
            values["diary_count"] += has
        np.maximum(values["sedation_max"], eff.sedation_poss, out=values["sedation_max"])
        np.minimum(values["respiratory_rate_min"], eff.respiratory_rate_per_min,
                   out=values["respiratory_rate_min"])
        np.maximum(values["withdrawal_max"], eff.withdrawal, out=values["withdrawal_max"])
        run.pain_by_hour_sum[hour] += pain @ alive
        run.pain_by_hour_count[hour] += alive_count
        if uses_pump and run.pumps is not None:
            press = out.wants_bolus
            if events is not None:  # a scenario's remote behaviour
                press = events.presses(press, run.pumps, program, out.t_min)
            codes = pump_twin.demand(run.pumps, press, out.t_min, program,
                                     run.bolus_duration_min)
            pressed = codes >= 0
            refused = pressed & (codes != GIVEN)
            values["presses"] += pressed
            values["refused"] += refused
            values["given"] += codes == GIVEN
            presses_by_hour[hour] += pressed
            refused_by_hour[hour] += refused
            run.presses_by_hour[hour] += pressed.sum()
            run.refused_by_hour[hour] += refused.sum()
        run.acc.steps += 1
    return presses_by_hour, refused_by_hour


def compiled_steps(run: ArmState, dt: float, uses_pump: bool) -> tuple[Array, Array]:
    """`readable_steps` by the compiled day loop (`dayloop.simulate_day`), for a day
    `dayloop.applies` to."""
    pumps = run.pumps if uses_pump else None
    result = dayloop.simulate_day(
        run.state, run.cohort, dt, frozenset(int(t // dt) for t in ORAL_TIMES_MIN),
        run.therapy.oral_mg_per_day / len(ORAL_TIMES_MIN), pumps,
        run.therapy.pump_program() if pumps is not None else None, run.bolus_duration_min,
        run.acc, run.previous_event)
    run.state, run.previous_event = result.state, result.previous_event
    run.pain_by_hour_sum += result.pain_by_hour @ run.alive.astype(np.float64)
    steps_by_hour = np.bincount((np.arange(int(DAY_MIN // dt)) * dt // 60).astype(np.intp),
                                minlength=HOURS)
    run.pain_by_hour_count += float(run.alive.sum()) * steps_by_hour
    run.presses_by_hour += result.presses_by_hour.sum(axis=1)
    run.refused_by_hour += result.refused_by_hour.sum(axis=1)
    return result.presses_by_hour, result.refused_by_hour


def day_of_steps(run: ArmState, dt: float, uses_pump: bool, events: DayEvents | None,
                 compiled: bool) -> tuple[Array, Array]:
    """The day's steps by the compiled loop where it applies (and `compiled`), else by the
    readable one; presses and refused presses per hour and patient (24, n)."""
    if compiled and dayloop.applies(run.cohort, dt, events):
        return compiled_steps(run, dt, uses_pump)
    return readable_steps(run, dt, uses_pump, events)
