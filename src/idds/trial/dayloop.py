"""The compiled day loop: one trial day of one arm, every step of it, fused per patient.

The readable loop (`daysteps.readable_steps`) steps a day as 288 calls of `physiology.step`
on whole-cohort arrays, then the pump twin (`pump.twin.deliver`, `demand`) and the day's
sums: about a hundred array passes a step, each over every patient. This one computes the
same day in one compiled pass over the patients (`daykernel.day_steps`, numba), a block of
`daylanes.LANES` patients side by side in vector lanes: the same model in the same order of
operations (physiology `model.step`: PK, exposures, tolerance, effects, breakthrough onsets,
pain and behaviour; the pump twin's delivery and bolus decisions; the day's sums). It is the
second, fast form of that loop (docs/design.md principle 8), about 3.8x faster for a whole
trial in one process (`bench/bench_bound.py`); `tests/trial/test_dayloop.py` keeps the two
equal: the same discrete events (onsets, presses and their outcomes, diary entries,
respiratory events) and the continuous values to round-off (exp, log and pow are libm's
scalar forms here, numpy's vectorised ones there; the 2.4 power is `fastpow.power_2_4` here,
`kernel.power`'s refined estimate there; some quotients of the effects are merged here).

It applies where the readable loop has nothing this one leaves out (`applies`): a
morphine-only cohort on exact propagators, in a trial without a scenario (a scenario's
`DayEvents` are consulted every day, so a scenario trial takes the readable loop throughout).

Random numbers are `physiology.streams`' counter-based ones (the same splitmix64 hash of the
patient key and a salt per stream and step; normals by scipy's own `ndtri`, called through
its C interface), so both loops draw identical numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from idds.physiology import Cohort, CohortState, kernel
from idds.physiology.behaviour import diary_due
from idds.physiology.pain import Episodes
from idds.physiology.parameters import BEHAVIOUR, PAIN, PD, SYMPTOMS
from idds.physiology.pk import N_COMPARTMENTS, Propagator
from idds.physiology.streams import salt
from idds.pump.twin import HOURS, MAX_BOLUSES_PER_DAY, PumpArrays, TwinProgram
from idds.trial.daykernel import (
    ACC_FIELDS,
    PK_TERMS,
    ROW_EP_AMP,
    ROW_EP_DUR,
    ROW_EP_ON,
    ROW_EP_TTP,
    ROW_FACTOR,
    ROW_LAST_PRESS,
    ROW_LAST_RESCUE,
    ROW_PENDING,
    ROW_PK,
    ROW_RELIEF,
    ROW_TOL_SP,
    ROW_TOL_SU,
    STATE_ROWS,
    STREAMS,
    Model,
    PumpBlock,
    Scalars,
    Schedule,
    day_steps,
)
from idds.trial.history import DayAccumulator
from idds.trial.scenario import DayEvents

Array = NDArray[np.float64]


@dataclass(frozen=True)
class DayResult:
    """What a compiled day hands back (the pumps and the accumulator were changed in place):
    the state at the day's end, the last step's respiratory events (n,), and presses, refused
    presses and the summed perceived pain per hour of day and patient (24, n)."""

    state: CohortState
    previous_event: NDArray[np.bool_]
    presses_by_hour: Array
    refused_by_hour: Array
    pain_by_hour: Array


def applies(cohort: Cohort, dt_min: float, scenario_day: DayEvents | None) -> bool:
    """Whether this loop computes the day `engine` would: a morphine-only cohort on exact
    propagators, with no scenario changing the day."""
    return (scenario_day is None and cohort.drugs == ("morphine",)
            and isinstance(cohort.propagators(dt_min)[0], Propagator)
            and _model(cohort, dt_min) is not None)


def _model(cohort: Cohort, dt_min: float) -> Model | None:
    """The cohort's `Model` for steps of dt_min (cached on the cohort like `kernel.constants`);
    None where its propagator has a term the kernel's `PK_TERMS` leaves out."""
    k = kernel.constants(cohort, dt_min)

    def build() -> Model | None:
        pk_terms = _pk_terms(k.propagators[0])
        if pk_terms is None:
            return None
        incident = np.empty_like(k.incident_sorted_per_step)
        np.put_along_axis(incident, k.activity_order, k.incident_sorted_per_step, axis=1)
        s, p = cohort.sensitivity, cohort.pain
        n = cohort.n
        return Model(
            pk_terms=pk_terms,
            plasma_ng_per_ml_per_mg=k.plasma_ng_per_ml_per_mg[0] * np.ones(n),
            c50_supraspinal=k.c50_sites[0].copy(), c50_spinal=k.c50_sites[1].copy(),
            c50_breathing=k.c50_breathing, c50_sedation=k.c50_sedation,
            apnoea_floor=k.apnoea_floor,
            unreachable=np.zeros(n) if k.unreachable is None else k.unreachable,
            spontaneous_per_step=k.spontaneous_per_step,
            activity_min=np.ascontiguousarray(p.activity_times_min), incident_per_step=incident,
            max_relief=s.max_relief, respiratory_rate_baseline=s.respiratory_rate_baseline_per_min,
            drive0_nrs=p.drive0_nrs, progression_nrs_per_day=p.progression_nrs_per_day,
            time_to_peak_min=p.time_to_peak_min, duration_min=p.duration_min,
            amplitude_nrs=p.amplitude_nrs,
        )

    cached = cohort.cached("day_model", dt_min, lambda: (k, build()),
                           lambda entry: entry[0] is k)
    return cached[1]


def _pk_terms(prop: Propagator) -> Array | None:
    """`Model.pk_terms` of a propagator (n, 27), or None where one of its entries outside
    `PK_TERMS` is not zero for some patient (the plasma input's aside: no step has one)."""
    rows = [row for row, columns in enumerate(PK_TERMS) for _ in columns]
    columns = [column for row_columns in PK_TERMS for column in row_columns]
    covered = np.zeros(prop.matrix.shape[:2], dtype=bool)
    covered[rows, columns] = True
    covered[:, N_COMPARTMENTS + 1] = True
    if ((prop.matrix != 0) & ~covered[:, :, None]).any():
        return None
    return np.ascontiguousarray(prop.matrix[rows, columns].T)


def _scalars(cohort: Cohort, k: kernel.StepConstants, uses_pump: bool) -> Scalars:
    drug = cohort.drug_params[0]
    return Scalars(
        dt_min=k.dt_min, tolerance_decay=k.tolerance_decay,
        systemic_potency=drug.systemic_potency_vs_morphine,
        spinal_potency=drug.spinal_potency_vs_morphine,
        brainstem_weight=drug.spinal_potency_vs_morphine * PD.brainstem_potency,
        shift=PD.tolerance_max_shift, hill_analgesia=PD.hill_analgesia,
        hill_apnoea=PD.hill_apnoea, hill_sedation=PD.hill_sedation,
        apnoea_adapted_multiple=PD.apnoea_adapted_multiple,
        withdrawal_full_scale=PD.withdrawal_full_scale_occupancy,
        respiratory_event_threshold=PD.respiratory_event_threshold_per_min,
        half_width_min=PAIN.activity_half_width_min,
        radiotherapy_relief=PAIN.radiotherapy_relief_fraction,
        press_interval_min=BEHAVIOUR.press_interval_min,
        rescue_interval_min=BEHAVIOUR.rescue_interval_min,
        diary_sd_nrs=BEHAVIOUR.diary_noise_sd_nrs,
        has_rescue=bool(cohort.oral_rescue_mg.any()), uses_pump=uses_pump,
        has_unreachable=k.unreachable is not None,
    )


def _schedule(state: CohortState, dt_min: float, oral_steps: frozenset[int]) -> Schedule:
    """The day's steps from `state.t_min` (times added step by step, as `model.step` does)."""
    steps = int(1440 // dt_min)
    start, end = np.empty(steps), np.empty(steps)
    t = state.t_min
    for s in range(steps):
        start[s] = t
        t = t + dt_min
        end[s] = t
    offset = np.arange(steps) * dt_min
    night_end, night_start = SYMPTOMS.night_end_min, SYMPTOMS.night_start_min
    return Schedule(
        start_min=start, end_min=end, middle_of_day_min=(start + 0.5 * dt_min) % 1440.0,
        end_day=end / 1440.0, hour=(offset // 60).astype(np.int64),
        oral=np.isin(np.arange(steps), sorted(oral_steps)),
        waking=(night_end <= offset) & (offset < night_start),
        night_after=~((night_end <= offset + dt_min) & (offset + dt_min < night_start)),
        diary=np.array([diary_due(t0, dt_min) for t0 in start]),
        salts=np.array([[salt(stream, state.step_index + s) for s in range(steps)]
                        for stream in STREAMS], dtype=np.uint64),
    )


def _pump(pumps: PumpArrays | None, program: TwinProgram | None, duration_min: Array,
          n: int) -> PumpBlock:
    if pumps is None or program is None:
        none, flat = np.zeros(0), np.zeros((0, MAX_BOLUSES_PER_DAY))
        return PumpBlock(np.zeros(0, dtype=bool), none, none, none, none, flat,
                         np.zeros(0, dtype=np.int64), none, none, none, flat, none, none,
                         np.zeros(0, dtype=np.int64), none)
    as_f = np.ascontiguousarray
    return PumpBlock(
        pumps.implanted, pumps.concentration_mg_per_ml, pumps.reservoir_ml, pumps.estimate_ml,
        pumps.flow_factor, pumps.starts, pumps.slot, pumps.bolus_left_mg,
        pumps.bolus_rate_mg_per_min, as_f(program.basal_mg_per_day, dtype=np.float64),
        as_f(program.flex, dtype=np.float64), as_f(program.bolus_mg, dtype=np.float64),
        as_f(program.lockout_min, dtype=np.float64), as_f(program.max_per_24h, dtype=np.int64),
        as_f(np.broadcast_to(np.asarray(duration_min, dtype=np.float64), (n,))))


def pack_state(state: CohortState) -> Array:
    """The state block (`STATE_ROWS`, n) `day_steps` steps in place, from a `CohortState`."""
    n = state.tol_supra.shape[0]
    ep = state.episodes
    factor = np.ones(n) if state.coanalgesic_factor is None else state.coanalgesic_factor
    st = np.empty((STATE_ROWS, n))
    st[ROW_PK:ROW_PK + N_COMPARTMENTS] = state.pk[0]
    for row, values in ((ROW_TOL_SU, state.tol_supra), (ROW_TOL_SP, state.tol_spinal),
                        (ROW_EP_ON, ep.onset_min), (ROW_EP_TTP, ep.time_to_peak_min),
                        (ROW_EP_DUR, ep.duration_min), (ROW_EP_AMP, ep.amplitude_nrs),
                        (ROW_LAST_PRESS, state.last_press_min),
                        (ROW_LAST_RESCUE, state.last_rescue_min),
                        (ROW_PENDING, state.pending_rescue_mg),
                        (ROW_RELIEF, state.relief_start_min),
                        (ROW_FACTOR, factor)):
        st[row] = values
    return st


def unpack_state(st: Array, before: CohortState, day: Schedule) -> CohortState:
    """The `CohortState` after the day `day_steps` stepped `pack_state(before)` through
    (views of the block's rows)."""
    return CohortState(
        t_min=float(day.end_min[-1]), step_index=before.step_index + day.hour.size,
        pk=st[None, ROW_PK:ROW_PK + N_COMPARTMENTS], tol_supra=st[ROW_TOL_SU],
        tol_spinal=st[ROW_TOL_SP],
        episodes=Episodes(st[ROW_EP_ON], st[ROW_EP_TTP], st[ROW_EP_DUR], st[ROW_EP_AMP]),
        last_press_min=st[ROW_LAST_PRESS], last_rescue_min=st[ROW_LAST_RESCUE],
        pending_rescue_mg=st[ROW_PENDING], relief_start_min=st[ROW_RELIEF],
        coanalgesic_factor=before.coanalgesic_factor,
    )


def simulate_day(state: CohortState, cohort: Cohort, dt_min: float, oral_steps: frozenset[int],
                 oral_dose_mg: Array, pumps: PumpArrays | None, program: TwinProgram | None,
                 duration_min: Array, acc: DayAccumulator,
                 previous_event: NDArray[np.bool_]) -> DayResult:
    """One day of `daysteps.readable_steps` from `state` (`applies` must hold): around-the-
    clock oral doses `oral_dose_mg` (n,) at `oral_steps`, the pumps (None: no pump) running
    `program` with boluses over `duration_min`; the day's sums added to `acc`."""
    n = cohort.n
    k = kernel.constants(cohort, dt_min)
    st = pack_state(state)
    sums = np.stack([getattr(acc, part)[name] for part, name in ACC_FIELDS])
    day = _schedule(state, dt_min, oral_steps)
    previous = previous_event.copy()
    by_hour = np.zeros((3, HOURS, n))
    model = _model(cohort, dt_min)
    assert model is not None, "simulate_day needs `applies`"
    day_steps(st, model, _scalars(cohort, k, pumps is not None), day,
         _pump(pumps, program, duration_min, n), cohort.keys,
         np.stack([np.broadcast_to(np.asarray(x, dtype=np.float64), (n,)) for x in
                   (cohort.press_threshold_nrs, cohort.oral_rescue_mg, oral_dose_mg)]),
         sums, by_hour[0], by_hour[1], by_hour[2], previous)
    for (part, name), values in zip(ACC_FIELDS, sums, strict=True):
        getattr(acc, part)[name][...] = values
    acc.steps += day.hour.size
    acc.waking_steps += int(day.waking.sum())
    new = unpack_state(st, state, day)
    return DayResult(new, previous, by_hour[0], by_hour[1], by_hour[2])
