"""The compiled kernel of `idds.trial.dayloop`: one day of steps for every patient (numba).

The state of every patient is a block of rows (`pack_state`), the day's sums another
(`ACC_FIELDS`); `day_steps` steps both in place, `daylanes.LANES` patients at a time, side by
side in a workspace whose branch-free parts the compiler vectorises (`daylanes`). The rules
are those of the readable forms each part names (physiology `model.step` and `kernel`,
`pain`, `behaviour`; the pump twin's `deliver` and `demand`; the sums of
`daysteps.readable_steps`), in their order of operations but where the cost of a step asked
otherwise: the PK map written out term by term (`PK_TERMS`), the effects' quotients merged (a
division costs more than a product; the same values to round-off), the analgesia power
computed inline (`fastpow`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import llvmlite.binding as llvm
import numpy as np
from numba import njit, types
from numba.extending import get_cython_function_address
from numpy.typing import NDArray

from idds.physiology.streams import Stream
from idds.pump.twin import BOLUS_DONE_MG
from idds.trial.daylanes import (
    A_DIARY_N,
    A_DIARY_SUM,
    A_GIVEN,
    A_PRESSES,
    A_REFUSED,
    A_ROWS,
    ACC,
    AP,
    AP_ARG,
    BASAL,
    BOLUS_LEFT,
    BOLUS_RATE,
    C50_BR,
    C50_SED,
    C50_SP,
    C50_SU,
    COEF,
    CONCENTRATION,
    CSF,
    DRIVE0,
    EP_AMP,
    EP_DUR,
    EP_ON,
    EP_TTP,
    ESTIMATE,
    FACTOR,
    FLEX,
    FLOOR,
    FLOW,
    HOUR_PAIN,
    IMPLANTED,
    LANES,
    LAST_PRESS,
    LAST_RESCUE,
    MAX_RELIEF,
    ONSET,
    ORAL_DOSE,
    PAIN,
    PENDING,
    PK,
    PLASMA_K,
    PRESS,
    PREVIOUS,
    PROGRESSION,
    R_SP,
    R_SU,
    RELIEF_START,
    RESCUE,
    RESERVOIR,
    RR_BASELINE,
    SD,
    SD_ARG,
    SPONTANEOUS,
    THRESHOLD,
    TOL_SP,
    TOL_SU,
    UNREACHABLE,
    WORKSPACE,
    X_SP,
    X_SU,
    deliver,
    draws,
    effects,
    onsets,
    pain,
    pk_and_exposures,
    power_rows,
    uniform,
)

Array = NDArray[np.float64]

# scipy's own ndtri, by its C interface, registered under a name so the compiled code caches
llvm.add_symbol("idds_scipy_ndtri",
                get_cython_function_address("scipy.special.cython_special", "ndtri"))
_ndtri: Any = types.ExternalFunction("idds_scipy_ndtri", types.float64(types.float64))

#: Rows of the state block (patients on the second axis).
ROW_PK, ROW_TOL_SU, ROW_TOL_SP = 0, 7, 8
ROW_EP_ON, ROW_EP_TTP, ROW_EP_DUR, ROW_EP_AMP = 9, 10, 11, 12
ROW_LAST_PRESS, ROW_LAST_RESCUE, ROW_PENDING, ROW_RELIEF, ROW_FACTOR = 13, 14, 15, 16, 17
STATE_ROWS = 18
#: Streams drawn in a step, in the order of `Schedule.salts`' rows.
STREAMS = (Stream.ONSET, Stream.TIME_TO_PEAK, Stream.DURATION, Stream.AMPLITUDE, Stream.DIARY)
#: The day's sums, in the order of the accumulator block's rows: (dictionary, key) of
#: `history.DayAccumulator`.
ACC_FIELDS = (
    ("values", "it_mg"), ("values", "oral_mg"), ("values", "pain_mean"),
    ("values", "controlled_fraction"), ("values", "waking_controlled_fraction"),
    ("values", "severe_fraction"), ("values", "plasma_mean"), ("values", "woken_night"),
    ("values", "respiratory_events"), ("values", "diary_sum"), ("values", "diary_count"),
    ("values", "sedation_max"), ("values", "respiratory_rate_min"),
    ("values", "withdrawal_max"), ("values", "presses"), ("values", "refused"),
    ("values", "given"), ("exposure", "supraspinal"), ("exposure", "spinal"),
    ("exposure", "gut_mg"), ("exposure", "sedation"),
)
if len(ACC_FIELDS) * LANES != A_ROWS:  # the workspace has a row for each sum
    raise ImportError("daylanes' sums are not ACC_FIELDS")


#: The columns of [Phi | Gamma] (0-6 state, 7 gut and 9 lumbar CSF input) each row of a step
#: of `day_steps` multiplies, in `pk.advance_terms`' order (the diagonal, then the others in
#: order): every entry that is not structurally zero (`pk.reachable`) for the morphine
#: model's rate matrix but the plasma input's (no step has one). `daylanes.pk_and_exposures`
#: writes these 27 terms out (no loop over an index array in the step).
PK_TERMS = ((0, 7), (1, 0, 3, 5, 7, 9), (2, 0, 1, 3, 5, 7, 9), (3, 9), (4, 3, 9), (5, 3, 9),
            (6, 3, 5, 9))


class Model(NamedTuple):
    """Per-patient constants of a cohort for one step length (rows (n,) unless noted)."""

    #: (n, 27): the entries of [Phi | Gamma] of `PK_TERMS`, in its order.
    pk_terms: Array
    plasma_ng_per_ml_per_mg: Array
    c50_supraspinal: Array
    c50_spinal: Array
    c50_breathing: Array
    c50_sedation: Array
    apnoea_floor: Array
    unreachable: Array  # 0 where the whole pain drive is reachable
    spontaneous_per_step: Array
    activity_min: Array  # (rows, n)
    incident_per_step: Array  # (rows, n)
    max_relief: Array
    respiratory_rate_baseline: Array
    drive0_nrs: Array
    progression_nrs_per_day: Array
    time_to_peak_min: Array
    duration_min: Array
    amplitude_nrs: Array


class Scalars(NamedTuple):
    """The step's scalar parameters (units of `physiology.parameters`)."""

    dt_min: float
    tolerance_decay: float
    systemic_potency: float
    spinal_potency: float
    brainstem_weight: float
    shift: float
    hill_analgesia: float
    hill_apnoea: float
    hill_sedation: float
    apnoea_adapted_multiple: float
    withdrawal_full_scale: float
    respiratory_event_threshold: float
    half_width_min: float
    radiotherapy_relief: float
    press_interval_min: float
    rescue_interval_min: float
    diary_sd_nrs: float
    has_rescue: bool
    uses_pump: bool
    has_unreachable: bool


class Schedule(NamedTuple):
    """The day's steps: times (min) at each step's start and end, hour, what happens."""

    start_min: Array
    end_min: Array
    #: Time of day at each step's middle (min after midnight) and days at each step's end.
    middle_of_day_min: Array
    end_day: Array
    hour: NDArray[np.int64]
    oral: NDArray[np.bool_]
    waking: NDArray[np.bool_]
    night_after: NDArray[np.bool_]
    diary: NDArray[np.bool_]
    salts: NDArray[np.uint64]  # (len(STREAMS), steps)


class PumpBlock(NamedTuple):
    """`PumpArrays` and the `TwinProgram` in force (arrays changed in place)."""

    implanted: NDArray[np.bool_]
    concentration: Array
    reservoir_ml: Array
    estimate_ml: Array
    flow_factor: Array
    starts: Array
    slot: NDArray[np.int64]
    bolus_left_mg: Array
    bolus_rate_mg_per_min: Array
    basal_mg_per_day: Array
    flex: Array
    bolus_mg: Array
    lockout_min: Array
    max_per_24h: NDArray[np.int64]
    duration_min: Array


@njit(cache=True)
def _gives_bolus(w: Array, lane: int, pump: PumpBlock, i: int, now: float) -> bool:
    """Whether pump i (the block's lane) gives a bolus for a press at `now` (`twin.demand`'s
    rules: not from an empty reservoir, nor while a bolus runs, nor without a patient bolus
    programmed, nor in the lockout, nor at the rolling 24 h maximum); starts it if so. Which
    rule refuses is not needed here: the day's sums count given and refused presses only."""
    if w[RESERVOIR + lane] <= 0.0 or w[BOLUS_LEFT + lane] > BOLUS_DONE_MG:
        return False
    maximum = pump.max_per_24h[i]
    if pump.bolus_mg[i] <= 0.0 or maximum <= 0:
        return False
    last, count = -np.inf, 0
    for b in range(pump.starts.shape[1]):
        start = pump.starts[i, b]
        last = max(last, start)
        if start > now - 1440.0 and start <= now:
            count += 1
    if now < last + pump.lockout_min[i] or count >= maximum:
        return False
    pump.starts[i, pump.slot[i]] = now
    pump.slot[i] = (pump.slot[i] + 1) % pump.starts.shape[1]
    w[BOLUS_LEFT + lane] += pump.bolus_mg[i]
    w[BOLUS_RATE + lane] = pump.bolus_mg[i] / pump.duration_min[i]
    return True


@njit(cache=True)
def _start_episode(w: Array, lane: int, m: Model, i: int, key: np.uint64, day: Schedule,
                   s: int) -> None:
    """`pain.start_episodes` for lane `lane` (patient i) at step s."""
    ttp = m.time_to_peak_min[i] * np.exp(0.5 * _ndtri(uniform(key, day.salts[1, s])) * 0.7)
    ttp = min(max(ttp, 2.0), 15.0)
    w[EP_TTP + lane] = ttp
    dur = m.duration_min[i] * np.exp(0.2 * _ndtri(uniform(key, day.salts[2, s])))
    w[EP_DUR + lane] = min(max(dur, max(ttp + 5.0, 20.0)), 120.0)
    w[EP_AMP + lane] = m.amplitude_nrs[i] * np.exp(0.25 * _ndtri(uniform(key, day.salts[3, s])))
    w[EP_ON + lane] = day.start_min[s]


#: (workspace row, state block row) of what a day changes and the next one starts from.
_STATE = (
    *((PK + k * LANES, ROW_PK + k) for k in range(7)),
    (TOL_SU, ROW_TOL_SU), (TOL_SP, ROW_TOL_SP), (EP_ON, ROW_EP_ON), (EP_TTP, ROW_EP_TTP),
    (EP_DUR, ROW_EP_DUR), (EP_AMP, ROW_EP_AMP), (LAST_PRESS, ROW_LAST_PRESS),
    (LAST_RESCUE, ROW_LAST_RESCUE), (PENDING, ROW_PENDING), (RELIEF_START, ROW_RELIEF),
    (FACTOR, ROW_FACTOR))


@njit(cache=True)
def _load(w: Array, keys_w: NDArray[np.uint64], activity: Array, i0: int, st: Array,
          m: Model, pump: PumpBlock, uses_pump: bool, keys: NDArray[np.uint64],
          per_patient: Array, acc: Array, previous: NDArray[np.bool_]) -> None:
    """The block of patients from i0 into the workspace: lanes past the cohort's end repeat
    its last patient (their results are not stored). `per_patient`: press threshold, rescue
    and oral dose (3, n)."""
    n = st.shape[1]
    activities = m.activity_min.shape[0]
    for lane in range(LANES):
        i = min(i0 + lane, n - 1)
        keys_w[lane] = keys[i]
        for k in range(m.pk_terms.shape[1]):
            w[COEF + k * LANES + lane] = m.pk_terms[i, k]
        for row, values in ((PLASMA_K, m.plasma_ng_per_ml_per_mg), (C50_SU, m.c50_supraspinal),
                            (C50_SP, m.c50_spinal), (C50_BR, m.c50_breathing),
                            (C50_SED, m.c50_sedation), (FLOOR, m.apnoea_floor),
                            (UNREACHABLE, m.unreachable), (SPONTANEOUS, m.spontaneous_per_step),
                            (MAX_RELIEF, m.max_relief), (RR_BASELINE, m.respiratory_rate_baseline),
                            (DRIVE0, m.drive0_nrs), (PROGRESSION, m.progression_nrs_per_day)):
            w[row + lane] = values[i]
        w[THRESHOLD + lane], w[RESCUE + lane] = per_patient[0, i], per_patient[1, i]
        w[ORAL_DOSE + lane] = per_patient[2, i]
        for j in range(activities):
            activity[j * LANES + lane] = m.activity_min[j, i]
            activity[(activities + j) * LANES + lane] = m.incident_per_step[j, i]
        for row, block_row in _STATE:
            w[row + lane] = st[block_row, i]
        for k in range(acc.shape[0]):
            w[ACC + k * LANES + lane] = acc[k, i]
        w[PREVIOUS + lane] = 1.0 if previous[i] else 0.0
        w[CSF + lane] = 0.0
        if uses_pump:
            w[IMPLANTED + lane] = 1.0 if pump.implanted[i] else 0.0
            for row, values in ((CONCENTRATION, pump.concentration), (RESERVOIR, pump.reservoir_ml),
                                (ESTIMATE, pump.estimate_ml), (FLOW, pump.flow_factor),
                                (BOLUS_LEFT, pump.bolus_left_mg),
                                (BOLUS_RATE, pump.bolus_rate_mg_per_min),
                                (BASAL, pump.basal_mg_per_day)):
                w[row + lane] = values[i]


@njit(cache=True)
def _store(w: Array, i0: int, st: Array, pump: PumpBlock, uses_pump: bool, acc: Array,
           previous: NDArray[np.bool_]) -> None:
    """The block's real lanes back into the state block, the sums and the pumps."""
    for lane in range(min(LANES, st.shape[1] - i0)):
        i = i0 + lane
        for row, block_row in _STATE:
            st[block_row, i] = w[row + lane]
        for k in range(acc.shape[0]):
            acc[k, i] = w[ACC + k * LANES + lane]
        previous[i] = w[PREVIOUS + lane] != 0.0
        if uses_pump:
            pump.reservoir_ml[i], pump.estimate_ml[i] = w[RESERVOIR + lane], w[ESTIMATE + lane]
            pump.bolus_left_mg[i] = w[BOLUS_LEFT + lane]
            pump.bolus_rate_mg_per_min[i] = w[BOLUS_RATE + lane]


@njit(cache=True, error_model="numpy")
def day_steps(st: Array, m: Model, c: Scalars, day: Schedule, pump: PumpBlock,
              keys: NDArray[np.uint64], per_patient: Array, acc: Array, presses_h: Array,
              refused_h: Array, pain_h: Array,
              previous: NDArray[np.bool_]) -> None:  # pragma: no cover - compiled
    """Every step of the day for every patient, `LANES` patients at a time (`daylanes`);
    state, sums and pumps updated in place. `per_patient`: each patient's press threshold
    (NRS), oral rescue dose and around-the-clock oral dose (mg), rows (3, n)."""
    n, steps = st.shape[1], day.hour.size
    dt = c.dt_min
    per_min = 1.0 / dt
    kept, gained = c.tolerance_decay, 1.0 - c.tolerance_decay
    w = np.empty(WORKSPACE)
    keys_w = np.empty(LANES, dtype=np.uint64)
    activity = np.empty(2 * m.activity_min.shape[0] * LANES)
    for i0 in range(0, n, LANES):
        lanes = min(LANES, n - i0)
        _load(w, keys_w, activity, i0, st, m, pump, c.uses_pump, keys, per_patient, acc,
              previous)
        for s in range(steps):
            hour = day.hour[s]
            if s == 0 or hour != day.hour[s - 1]:  # an hour's first step
                for lane in range(LANES):
                    i = min(i0 + lane, n - 1)
                    w[HOUR_PAIN + lane] = pain_h[hour, i]
                    if c.uses_pump:
                        w[FLEX + lane] = pump.flex[i, hour]
            if c.uses_pump:
                deliver(w, dt)
            pk_and_exposures(w, day.oral[s], per_min, c.systemic_potency, c.brainstem_weight,
                             c.spinal_potency, c.shift, kept, gained,
                             c.apnoea_adapted_multiple, c.withdrawal_full_scale)
            power_rows(w, X_SU, R_SU, c.hill_analgesia)
            power_rows(w, X_SP, R_SP, c.hill_analgesia)
            power_rows(w, AP, AP_ARG, c.hill_apnoea)
            power_rows(w, SD, SD_ARG, c.hill_sedation)
            effects(w, c.has_unreachable, c.respiratory_event_threshold)
            draws(w, keys_w, day.salts[0, s])
            onsets(w, activity, day.start_min[s], day.middle_of_day_min[s], c.half_width_min)
            for lane in range(lanes):
                if w[ONSET + lane] != 0.0:
                    _start_episode(w, lane, m, i0 + lane, keys_w[lane], day, s)
            t_new = day.end_min[s]
            pain(w, t_new, day.end_day[s], day.waking[s], day.night_after[s],
                 c.radiotherapy_relief, c.press_interval_min, c.has_rescue,
                 c.rescue_interval_min)
            if day.diary[s]:  # `behaviour.diary_entry`
                for lane in range(lanes):
                    noisy = w[PAIN + lane] + c.diary_sd_nrs * _ndtri(
                        uniform(keys_w[lane], day.salts[4, s]))
                    w[A_DIARY_SUM + lane] += min(max(np.rint(noisy), 0.0), 10.0)
                    w[A_DIARY_N + lane] += 1.0
            if c.uses_pump:  # `twin.demand`
                for lane in range(lanes):
                    if w[PRESS + lane] != 0.0 and w[IMPLANTED + lane] != 0.0:
                        i = i0 + lane
                        w[A_PRESSES + lane] += 1.0
                        presses_h[hour, i] += 1.0
                        if _gives_bolus(w, lane, pump, i, t_new):
                            w[A_GIVEN + lane] += 1.0
                        else:
                            w[A_REFUSED + lane] += 1.0
                            refused_h[hour, i] += 1.0
            if s == steps - 1 or hour != day.hour[s + 1]:  # an hour's last step
                for lane in range(lanes):
                    pain_h[hour, i0 + lane] = w[HOUR_PAIN + lane]
        _store(w, i0, st, pump, c.uses_pump, acc, previous)
