"""The compiled kernel of `idds.trial.dayloop`: one day of steps for every patient (numba).

The state of every patient is a block of rows (`pack_state`), the day's sums another
(`ACC_FIELDS`); `day_steps` steps both in place, each patient's steps with its state in local
variables. The rules are those of the readable forms each section names (physiology
`model.step` and `kernel`, `pain`, `behaviour`; the pump twin's `deliver` and `demand`; the
sums of `daysteps.readable_steps`), in their order of operations but where the cost of a step
asked otherwise: the PK map written out term by term (`PK_TERMS`), the effects' quotients
merged (a division costs more than a product; the same values to round-off), the analgesia
power computed inline (`fastpow`), every per-step helper inlined (a call costs the step the
saving and reloading of its live values).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import llvmlite.binding as llvm
import numpy as np
from numba import njit, types
from numba.extending import get_cython_function_address
from numpy.typing import NDArray

from idds.physiology.streams import MIX_M1, MIX_M2, MIX_S11, MIX_S27, MIX_S30, MIX_S31, Stream
from idds.pump.twin import BOLUS_DONE_MG
from idds.trial.fastpow import power_2_4

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
(_IT, _ORAL, _PAIN, _CONTROLLED, _WAKING, _SEVERE, _PLASMA, _WOKEN, _RESP, _DIARY_SUM,
 _DIARY_N, _SED_MAX, _RR_MIN, _WD_MAX, _PRESSES, _REFUSED, _GIVEN, _X_SU, _X_SP, _X_GUT,
 _X_SED) = range(len(ACC_FIELDS))


#: The columns of [Phi | Gamma] (0-6 state, 7 gut and 9 lumbar CSF input) each row of a step
#: of `day_steps` multiplies, in `pk.advance_terms`' order (the diagonal, then the others in
#: order): every entry that is not structurally zero (`pk.reachable`) for the morphine
#: model's rate matrix but the plasma input's (no step has one). `_pk_step` writes these 27
#: terms out, so the state stays in registers.
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


@njit(cache=True, inline="always")
def _uniform(key: np.uint64, salt_: np.uint64) -> float:
    """`streams.uniform` of one key with a precomputed salt (`streams.salt`)."""
    z = key ^ salt_
    z = (z ^ (z >> MIX_S30)) * MIX_M1
    z = (z ^ (z >> MIX_S27)) * MIX_M2
    z = z ^ (z >> MIX_S31)
    return (float(z >> MIX_S11) + 0.5) * (1.0 / 2.0**53)


@njit(cache=True, inline="always")
def _power(r: float, gamma: float) -> float:
    """r ** gamma for r >= 0: `kernel.power`'s products for 1, 1.5, 2 and 4, `fastpow` for 2.4."""
    if gamma == 1.0:
        return r
    if gamma == 2.0:
        return r * r
    if gamma == 1.5:
        return float(np.sqrt(r)) * r
    if gamma == 4.0:
        r2 = r * r
        return r2 * r2
    if gamma == 2.4:
        return power_2_4(r)
    return float(max(r, 1e-300) ** gamma)


@njit(cache=True, inline="always")
def _pk_step(c: Array, x0: float, x1: float, x2: float, x3: float, x4: float, x5: float,
             x6: float, gut: float, csf: float) -> tuple[float, float, float, float, float,
                                                         float, float]:
    """One step of `pk.advance_terms` by `PK_TERMS` (c: a patient's `Model.pk_terms`; gut
    and csf: input rates, mg/min)."""
    return (c[0] * x0 + c[1] * gut,
            c[2] * x1 + c[3] * x0 + c[4] * x3 + c[5] * x5 + c[6] * gut + c[7] * csf,
            c[8] * x2 + c[9] * x0 + c[10] * x1 + c[11] * x3 + c[12] * x5 + c[13] * gut
            + c[14] * csf,
            c[15] * x3 + c[16] * csf,
            c[17] * x4 + c[18] * x3 + c[19] * csf,
            c[20] * x5 + c[21] * x3 + c[22] * csf,
            c[23] * x6 + c[24] * x3 + c[25] * x5 + c[26] * csf)


@njit(cache=True)
def _gives_bolus(pump: PumpBlock, i: int, now: float) -> bool:
    """Whether pump i gives a bolus for a press at `now` (`twin.demand`'s rules: not from an
    empty reservoir, nor while a bolus runs, nor without a patient bolus programmed, nor in the
    lockout, nor at the rolling 24 h maximum); starts it if so. Which rule refuses is not
    needed here: the day's sums count given and refused presses only."""
    if pump.reservoir_ml[i] <= 0.0 or pump.bolus_left_mg[i] > BOLUS_DONE_MG:
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
    pump.bolus_left_mg[i] += pump.bolus_mg[i]
    pump.bolus_rate_mg_per_min[i] = pump.bolus_mg[i] / pump.duration_min[i]
    return True


@njit(cache=True, inline="always")
def _deliver(pump: PumpBlock, i: int, hour: int, dt: float) -> float:
    """`twin.deliver` for pump i: drug reaching the CSF in the step, mg; drains the reservoir."""
    basal = pump.basal_mg_per_day[i] * pump.flex[i, hour] * (dt / 1440.0)
    bolus = min(pump.bolus_left_mg[i], pump.bolus_rate_mg_per_min[i] * dt)
    pump.bolus_left_mg[i] -= bolus
    programmed_mg = basal + bolus if pump.implanted[i] else 0.0
    programmed_ml = programmed_mg / pump.concentration[i]
    actual_ml = min(programmed_ml * pump.flow_factor[i], pump.reservoir_ml[i])
    pump.reservoir_ml[i] -= actual_ml
    pump.estimate_ml[i] = max(pump.estimate_ml[i] - programmed_ml, 0.0)
    return float(actual_ml * pump.concentration[i])


@njit(cache=True)
def day_steps(st: Array, m: Model, c: Scalars, day: Schedule, pump: PumpBlock,
              keys: NDArray[np.uint64], threshold: Array, rescue_dose: Array,
              oral_dose: Array, acc: Array, presses_h: Array, refused_h: Array,
              pain_h: Array, previous: NDArray[np.bool_]) -> None:  # pragma: no cover - compiled
    """Every step of the day for every patient; state, sums and pumps updated in place.

    A patient's state and sums live in local variables over the day (loaded before its first
    step, stored after its last), so the compiler keeps them in registers.
    """
    dt = c.dt_min
    per_min = 1.0 / dt
    h = c.half_width_min
    full = c.withdrawal_full_scale
    kept, gained = c.tolerance_decay, 1.0 - c.tolerance_decay
    for i in range(st.shape[1]):
        coef = m.pk_terms[i]
        key, thr = keys[i], threshold[i]
        p0, p1, p2, p3 = st[ROW_PK, i], st[ROW_PK + 1, i], st[ROW_PK + 2, i], st[ROW_PK + 3, i]
        p4, p5, p6 = st[ROW_PK + 4, i], st[ROW_PK + 5, i], st[ROW_PK + 6, i]
        tol_su, tol_sp = st[ROW_TOL_SU, i], st[ROW_TOL_SP, i]
        ep_on, ep_ttp, ep_dur, ep_amp = st[ROW_EP_ON, i], st[ROW_EP_TTP, i], st[ROW_EP_DUR, i], \
            st[ROW_EP_AMP, i]
        last_press, last_rescue, pending = st[ROW_LAST_PRESS, i], st[ROW_LAST_RESCUE, i], \
            st[ROW_PENDING, i]
        relief_start, factor = st[ROW_RELIEF, i], st[ROW_FACTOR, i]
        it_mg, oral_mg, pain_sum = acc[_IT, i], acc[_ORAL, i], acc[_PAIN, i]
        controlled, waking, severe = acc[_CONTROLLED, i], acc[_WAKING, i], acc[_SEVERE, i]
        plasma_sum, woken, resp = acc[_PLASMA, i], acc[_WOKEN, i], acc[_RESP, i]
        diary_sum, diary_n = acc[_DIARY_SUM, i], acc[_DIARY_N, i]
        sed_max, rr_min, wd_max = acc[_SED_MAX, i], acc[_RR_MIN, i], acc[_WD_MAX, i]
        presses, refused, given = acc[_PRESSES, i], acc[_REFUSED, i], acc[_GIVEN, i]
        x_su, x_sp, x_gut, x_sed = acc[_X_SU, i], acc[_X_SP, i], acc[_X_GUT, i], acc[_X_SED, i]
        prev = previous[i]
        for s in range(day.hour.size):
            t, t_new, hour = day.start_min[s], day.end_min[s], day.hour[s]
            gut = oral_dose[i] if day.oral[s] else 0.0
            csf = 0.0
            if c.uses_pump:
                csf = _deliver(pump, i, hour, dt)
                it_mg += csf
            oral_mg += gut
            # PK (`pk.advance_terms`): inputs are constant rates over the step
            p0, p1, p2, p3, p4, p5, p6 = _pk_step(coef, p0, p1, p2, p3, p4, p5, p6,
                                                  (gut + pending) * per_min, csf * per_min)
            # exposures (`kernel.site_exposure`), occupancy and tolerance
            su = p2 * c.systemic_potency
            su += p6 * c.brainstem_weight
            sp = p4 * c.spinal_potency
            plasma = p1 * m.plasma_ng_per_ml_per_mg[i] * c.systemic_potency
            gut_x = p0 * c.systemic_potency
            # the analgesia ratios su / (g C50), g = 1 + shift x tol', without waiting for the
            # occupancy's quotient: with S = su + C50, occ = su / S and tol' = tol decay +
            # (1 - decay) occ, g S = (tol decay S + (1 - decay) su) shift + S, so su / (g C50) =
            # su S / (g S C50): one division, not two in a row
            s_su, s_sp = su + m.c50_supraspinal[i], sp + m.c50_spinal[i]
            r_su = su * s_su / (((tol_su * kept * s_su + gained * su) * c.shift + s_su)
                                * m.c50_supraspinal[i])
            r_sp = sp * s_sp / (((tol_sp * kept * s_sp + gained * sp) * c.shift + s_sp)
                                * m.c50_spinal[i])
            occ_su, occ_sp = su / s_su, sp / s_sp
            tol_su = (tol_su - occ_su) * kept + occ_su
            tol_sp = (tol_sp - occ_sp) * kept + occ_sp
            # effects (`kernel.effects`), its quotients merged (a division costs the step more
            # than a product): with g = 1 + shift x tol and c_su = su / g,
            # 1 - c_su / (c_su + C50_br) = g C50_br / (su + g C50_br);
            # 1 - a / (a + 1) = 1 / (a + 1); su / max(tol / d C, floor) = su d / max(tol C,
            # floor d) for d = max(1 - tol, 1e-12) > 0
            g_su = tol_su * c.shift + 1.0
            x0 = _power(r_su, c.hill_analgesia) + 1.0
            x1 = _power(r_sp, c.hill_analgesia) + 1.0
            spared = 1.0  # 1 / x1' = u + (1 - u) / x1, so 1 / (x0 x1') = (u x1 + 1 - u) / (x0 x1)
            if c.has_unreachable:
                spared = m.unreachable[i] * x1 + (1.0 - m.unreachable[i])
            analgesia = 1.0 - spared / (x0 * x1)
            d = max(1.0 - tol_su, 1e-12)
            ap = _power(su * d / max(tol_su * m.c50_supraspinal[i] * c.apnoea_adapted_multiple,
                                     m.apnoea_floor[i] * d), c.hill_apnoea)
            g_br = g_su * m.c50_breathing[i]
            rr = g_br * m.respiratory_rate_baseline[i] / ((su + g_br) * (ap + 1.0))
            sd = _power(su / (g_su * m.c50_sedation[i]), c.hill_sedation)
            sedation = sd / (sd + 1.0)
            poss = 1.0 + (sedation >= 0.25) + (sedation >= 0.5) + (sedation >= 0.75)
            withdrawal = min(max(tol_su - occ_su, 0.0), full) * (10.0 / full)
            relief = m.max_relief[i] * analgesia
            # breakthrough onsets (`kernel.onsets_per_step`, `model._onsets`)
            tod = day.middle_of_day_min[s]
            rate = m.spontaneous_per_step[i]
            for j in range(m.activity_min.shape[0]):
                at = m.activity_min[j, i]
                for centre in (tod - 1440.0, tod, tod + 1440.0):
                    if centre - h <= at < centre + h:
                        d = (at - centre) * (1.0 / h)
                        d = max(1.0 - d * d, 0.0)
                        rate += d * d * m.incident_per_step[j, i]
            p = rate * (rate * -0.5 + 1.0)
            if _uniform(key, day.salts[0, s]) < p and t - ep_on >= ep_dur:
                # `pain.start_episodes`
                ttp = m.time_to_peak_min[i] * np.exp(
                    0.5 * _ndtri(_uniform(key, day.salts[1, s])) * 0.7)
                ep_ttp = min(max(ttp, 2.0), 15.0)
                dur = m.duration_min[i] * np.exp(0.2 * _ndtri(_uniform(key, day.salts[2, s])))
                ep_dur = min(max(dur, max(ep_ttp + 5.0, 20.0)), 120.0)
                ep_amp = m.amplitude_nrs[i] * np.exp(
                    0.25 * _ndtri(_uniform(key, day.salts[3, s])))
                ep_on = t
            # pain (`pain.background_drive`, `episode_increment`, `perceived_nrs`)
            bg = m.progression_nrs_per_day[i] * day.end_day[s] + m.drive0_nrs[i]
            bg *= factor
            if relief_start < t_new:
                ramp = min(max((t_new - relief_start) / 10080.0, 0.0), 1.0)
                bg = bg * (1.0 - c.radiotherapy_relief * ramp)
            since = t_new - ep_on
            fall = (ep_dur - since) / (ep_dur - ep_ttp)
            bt = min(max(min(since / ep_ttp, fall), 0.0), 1.0) * ep_amp
            pain = min(max((bg + bt) * (1.0 - relief), 0.0), 10.0)
            # behaviour (`behaviour.wants_bolus`, `takes_rescue`, `diary_entry`)
            press = pain >= thr and t_new - last_press >= c.press_interval_min
            pending = 0.0
            if (c.has_rescue and rescue_dose[i] > 0.0 and bt > 0.0 and pain >= thr
                    and t_new - last_rescue >= c.rescue_interval_min):
                pending = rescue_dose[i]
                last_rescue = t_new
            if press:
                last_press = t_new
            event = rr < c.respiratory_event_threshold
            # the day's sums (`daysteps.readable_steps`)
            oral_mg += pending
            pain_sum += pain
            controlled += pain <= 3.0
            if day.waking[s]:
                waking += pain <= 3.0
            severe += pain >= 7.0
            plasma_sum += plasma
            x_su += su
            x_sp += sp
            x_gut += gut_x
            x_sed += sedation
            if day.night_after[s] and pain >= thr:
                woken = max(woken, 1.0)
            if event and not prev:
                resp += 1.0
            prev = event
            if day.diary[s]:
                noisy = pain + c.diary_sd_nrs * _ndtri(_uniform(key, day.salts[4, s]))
                diary_sum += min(max(np.rint(noisy), 0.0), 10.0)
                diary_n += 1.0
            sed_max = max(sed_max, poss)
            rr_min = min(rr_min, rr)
            wd_max = max(wd_max, withdrawal)
            pain_h[hour, i] += pain
            if c.uses_pump and press and pump.implanted[i]:  # `twin.demand`
                presses += 1.0
                presses_h[hour, i] += 1.0
                if _gives_bolus(pump, i, t_new):
                    given += 1.0
                else:
                    refused += 1.0
                    refused_h[hour, i] += 1.0
        st[ROW_PK, i], st[ROW_PK + 1, i], st[ROW_PK + 2, i], st[ROW_PK + 3, i] = p0, p1, p2, p3
        st[ROW_PK + 4, i], st[ROW_PK + 5, i], st[ROW_PK + 6, i] = p4, p5, p6
        st[ROW_TOL_SU, i], st[ROW_TOL_SP, i] = tol_su, tol_sp
        st[ROW_EP_ON, i], st[ROW_EP_TTP, i], st[ROW_EP_DUR, i], st[ROW_EP_AMP, i] = \
            ep_on, ep_ttp, ep_dur, ep_amp
        st[ROW_LAST_PRESS, i], st[ROW_LAST_RESCUE, i], st[ROW_PENDING, i] = \
            last_press, last_rescue, pending
        acc[_IT, i], acc[_ORAL, i], acc[_PAIN, i] = it_mg, oral_mg, pain_sum
        acc[_CONTROLLED, i], acc[_WAKING, i], acc[_SEVERE, i] = controlled, waking, severe
        acc[_PLASMA, i], acc[_WOKEN, i], acc[_RESP, i] = plasma_sum, woken, resp
        acc[_DIARY_SUM, i], acc[_DIARY_N, i] = diary_sum, diary_n
        acc[_SED_MAX, i], acc[_RR_MIN, i], acc[_WD_MAX, i] = sed_max, rr_min, wd_max
        acc[_PRESSES, i], acc[_REFUSED, i], acc[_GIVEN, i] = presses, refused, given
        acc[_X_SU, i], acc[_X_SP, i], acc[_X_GUT, i], acc[_X_SED, i] = x_su, x_sp, x_gut, x_sed
        previous[i] = prev

