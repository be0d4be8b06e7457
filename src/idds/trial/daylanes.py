"""The lanes of `daykernel.day_steps`: a block of patients stepped side by side.

`day_steps` steps `LANES` patients at once. Their constants, state and day's sums live in one
flat workspace, row by row (a row: one quantity for the block's `LANES` patients, at the
offset its name gives), and each part of a step without a branch of its own is one loop over
the lanes here, which the compiler turns into vector instructions (four patients an
instruction with AVX2): the step's arithmetic costs a quarter of what it costs a patient at a
time. The rare parts that branch (an episode's start, a press the pump answers, a diary
entry) stay in `day_steps`, lane by lane. Each lane's arithmetic is the scalar step's in its
order of operations (no fast-math: nothing reassociated), so the numbers are those of one
patient stepped alone, bit for bit. The offsets are compile-time constants on one buffer, so
the compiler can tell the rows apart without checking at run time.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

from idds.physiology.streams import MIX_M1, MIX_M2, MIX_S11, MIX_S27, MIX_S30, MIX_S31
from idds.trial.fastpow import power_2_4

Array = NDArray[np.float64]

#: Patients a block: four AVX2 vectors; 16 and 32 ran at the same speed, 8 was 1.2x slower
#: (2026-12-07, README's bound row); 16 keeps the workspace in the L1 cache.
LANES = 16
#: The workspace's rows, in order: the propagator's 27 terms (`daykernel.PK_TERMS`); the
#: patient's constants; its pump; its state (7 PK compartments, ...); the day's sums
#: (`daykernel.ACC_FIELDS`' 21); the step's intermediate values.
_ROWS = (
    ("COEF", 27), ("PLASMA_K", 1), ("C50_SU", 1), ("C50_SP", 1), ("C50_BR", 1),
    ("C50_SED", 1), ("FLOOR", 1), ("UNREACHABLE", 1), ("SPONTANEOUS", 1), ("MAX_RELIEF", 1),
    ("RR_BASELINE", 1), ("DRIVE0", 1), ("PROGRESSION", 1), ("THRESHOLD", 1), ("RESCUE", 1),
    ("ORAL_DOSE", 1), ("FACTOR", 1), ("RELIEF_START", 1),
    ("IMPLANTED", 1), ("CONCENTRATION", 1), ("RESERVOIR", 1), ("ESTIMATE", 1), ("FLOW", 1),
    ("BOLUS_LEFT", 1), ("BOLUS_RATE", 1), ("BASAL", 1), ("FLEX", 1),
    ("PK", 7), ("TOL_SU", 1), ("TOL_SP", 1), ("EP_ON", 1), ("EP_TTP", 1), ("EP_DUR", 1),
    ("EP_AMP", 1), ("LAST_PRESS", 1), ("LAST_RESCUE", 1), ("PENDING", 1), ("PREVIOUS", 1),
    ("ACC", 21),
    ("CSF", 1), ("SU", 1), ("R_SU", 1), ("R_SP", 1), ("X_SU", 1), ("X_SP", 1), ("AP_ARG", 1),
    ("AP", 1), ("SD_ARG", 1), ("SD", 1), ("G_BR", 1), ("U", 1), ("RATE", 1), ("ONSET", 1),
    ("RELIEF", 1), ("PRESS", 1), ("PAIN", 1), ("HOUR_PAIN", 1),
)
_offsets = np.cumsum([0] + [size for _, size in _ROWS]) * LANES
(COEF, PLASMA_K, C50_SU, C50_SP, C50_BR, C50_SED, FLOOR, UNREACHABLE, SPONTANEOUS, MAX_RELIEF,
 RR_BASELINE, DRIVE0, PROGRESSION, THRESHOLD, RESCUE, ORAL_DOSE, FACTOR, RELIEF_START,
 IMPLANTED, CONCENTRATION, RESERVOIR, ESTIMATE, FLOW, BOLUS_LEFT, BOLUS_RATE, BASAL, FLEX,
 PK, TOL_SU, TOL_SP, EP_ON, EP_TTP, EP_DUR, EP_AMP, LAST_PRESS, LAST_RESCUE, PENDING, PREVIOUS,
 ACC, CSF, SU, R_SU, R_SP, X_SU, X_SP, AP_ARG, AP, SD_ARG, SD, G_BR, U, RATE, ONSET, RELIEF,
 PRESS, PAIN, HOUR_PAIN) = (int(x) for x in _offsets[:-1])
WORKSPACE = int(_offsets[-1])
#: The sums' rows together (`daykernel.ACC_FIELDS`' 21 of LANES).
A_ROWS = dict(_ROWS)["ACC"] * LANES
#: Offsets of the day's sums, in `daykernel.ACC_FIELDS`' order.
(A_IT, A_ORAL, A_PAIN, A_CONTROLLED, A_WAKING, A_SEVERE, A_PLASMA, A_WOKEN, A_RESP, A_DIARY_SUM,
 A_DIARY_N, A_SED_MAX, A_RR_MIN, A_WD_MAX, A_PRESSES, A_REFUSED, A_GIVEN, A_X_SU, A_X_SP,
 A_X_GUT, A_X_SED) = range(ACC, ACC + A_ROWS, LANES)


@njit(cache=True, inline="always")
def uniform(key: np.uint64, salt_: np.uint64) -> float:
    """`streams.uniform` of one key with a precomputed salt (`streams.salt`)."""
    z = key ^ salt_
    z = (z ^ (z >> MIX_S30)) * MIX_M1
    z = (z ^ (z >> MIX_S27)) * MIX_M2
    z = z ^ (z >> MIX_S31)
    return (float(z >> MIX_S11) + 0.5) * (1.0 / 2.0**53)


@njit(cache=True, inline="always")
def power_rows(w: Array, to: int, of: int, gamma: float) -> None:
    """Row `to` = row `of` ** gamma (>= 0): `kernel.power`'s products for 1, 1.5, 2 and 4,
    `fastpow` for 2.4, pow otherwise; the choice made once for the block's lanes."""
    if gamma == 1.0:
        for lane in range(LANES):
            w[to + lane] = w[of + lane]
    elif gamma == 2.0:
        for lane in range(LANES):
            w[to + lane] = w[of + lane] * w[of + lane]
    elif gamma == 1.5:
        for lane in range(LANES):
            w[to + lane] = np.sqrt(w[of + lane]) * w[of + lane]
    elif gamma == 4.0:
        for lane in range(LANES):
            r2 = w[of + lane] * w[of + lane]
            w[to + lane] = r2 * r2
    elif gamma == 2.4:
        for lane in range(LANES):
            w[to + lane] = power_2_4(w[of + lane])
    else:
        for lane in range(LANES):
            w[to + lane] = max(w[of + lane], 1e-300) ** gamma


@njit(cache=True, inline="always")
def deliver(w: Array, dt: float) -> None:
    """`twin.deliver` for the block's pumps: row CSF the drug reaching the CSF in the step, mg;
    the reservoirs drained, the intrathecal sum added to."""
    for lane in range(LANES):
        basal = w[BASAL + lane] * w[FLEX + lane] * (dt / 1440.0)
        bolus = min(w[BOLUS_LEFT + lane], w[BOLUS_RATE + lane] * dt)
        w[BOLUS_LEFT + lane] -= bolus
        programmed_mg = basal + bolus if w[IMPLANTED + lane] != 0.0 else 0.0
        programmed_ml = programmed_mg / w[CONCENTRATION + lane]
        actual_ml = min(programmed_ml * w[FLOW + lane], w[RESERVOIR + lane])
        w[RESERVOIR + lane] -= actual_ml
        w[ESTIMATE + lane] = max(w[ESTIMATE + lane] - programmed_ml, 0.0)
        csf = actual_ml * w[CONCENTRATION + lane]
        w[CSF + lane] = csf
        w[A_IT + lane] += csf


@njit(cache=True, inline="always")
def pk_and_exposures(w: Array, oral: bool, per_min: float, systemic: float, brainstem: float,
                     spinal: float, shift: float, kept: float, gained: float,
                     multiple: float, full: float) -> None:
    """The oral dose of the step (if `oral`), PK by `PK_TERMS` (`pk.advance_terms`), the
    sites' exposures (`kernel.site_exposure`), the analgesia ratios, occupancy and tolerance,
    and the arguments of the breathing and sedation powers (`kernel.effects`, its quotients
    merged as `daykernel` says); the exposures' and withdrawal's sums."""
    for lane in range(LANES):
        gut = w[ORAL_DOSE + lane] if oral else 0.0
        w[A_ORAL + lane] += gut
        into_gut = (gut + w[PENDING + lane]) * per_min
        into_csf = w[CSF + lane] * per_min
        x0, x1, x2, x3 = w[PK + lane], w[PK + LANES + lane], w[PK + 2 * LANES + lane], \
            w[PK + 3 * LANES + lane]
        x4, x5, x6 = w[PK + 4 * LANES + lane], w[PK + 5 * LANES + lane], \
            w[PK + 6 * LANES + lane]
        c = COEF + lane
        p0 = w[c] * x0 + w[c + LANES] * into_gut
        p1 = (w[c + 2 * LANES] * x1 + w[c + 3 * LANES] * x0 + w[c + 4 * LANES] * x3
              + w[c + 5 * LANES] * x5 + w[c + 6 * LANES] * into_gut
              + w[c + 7 * LANES] * into_csf)
        p2 = (w[c + 8 * LANES] * x2 + w[c + 9 * LANES] * x0 + w[c + 10 * LANES] * x1
              + w[c + 11 * LANES] * x3 + w[c + 12 * LANES] * x5
              + w[c + 13 * LANES] * into_gut + w[c + 14 * LANES] * into_csf)
        p3 = w[c + 15 * LANES] * x3 + w[c + 16 * LANES] * into_csf
        p4 = w[c + 17 * LANES] * x4 + w[c + 18 * LANES] * x3 + w[c + 19 * LANES] * into_csf
        p5 = w[c + 20 * LANES] * x5 + w[c + 21 * LANES] * x3 + w[c + 22 * LANES] * into_csf
        p6 = (w[c + 23 * LANES] * x6 + w[c + 24 * LANES] * x3 + w[c + 25 * LANES] * x5
              + w[c + 26 * LANES] * into_csf)
        w[PK + lane], w[PK + LANES + lane], w[PK + 2 * LANES + lane] = p0, p1, p2
        w[PK + 3 * LANES + lane], w[PK + 4 * LANES + lane] = p3, p4
        w[PK + 5 * LANES + lane], w[PK + 6 * LANES + lane] = p5, p6
        su = p2 * systemic
        su += p6 * brainstem
        sp = p4 * spinal
        w[A_PLASMA + lane] += p1 * w[PLASMA_K + lane] * systemic
        w[A_X_SU + lane] += su
        w[A_X_SP + lane] += sp
        w[A_X_GUT + lane] += p0 * systemic
        c50_su, c50_sp = w[C50_SU + lane], w[C50_SP + lane]
        tol_su, tol_sp = w[TOL_SU + lane], w[TOL_SP + lane]
        s_su, s_sp = su + c50_su, sp + c50_sp
        w[R_SU + lane] = su * s_su / (((tol_su * kept * s_su + gained * su) * shift + s_su)
                                      * c50_su)
        w[R_SP + lane] = sp * s_sp / (((tol_sp * kept * s_sp + gained * sp) * shift + s_sp)
                                      * c50_sp)
        occ_su, occ_sp = su / s_su, sp / s_sp
        tol_su = (tol_su - occ_su) * kept + occ_su
        w[TOL_SU + lane] = tol_su
        w[TOL_SP + lane] = (tol_sp - occ_sp) * kept + occ_sp
        g_su = tol_su * shift + 1.0
        d = max(1.0 - tol_su, 1e-12)
        w[AP_ARG + lane] = su * d / max(tol_su * c50_su * multiple, w[FLOOR + lane] * d)
        w[G_BR + lane] = g_su * w[C50_BR + lane]
        w[SD_ARG + lane] = su / (g_su * w[C50_SED + lane])
        w[SU + lane] = su
        withdrawal = min(max(tol_su - occ_su, 0.0), full) * (10.0 / full)
        w[A_WD_MAX + lane] = max(w[A_WD_MAX + lane], withdrawal)


@njit(cache=True, inline="always")
def effects(w: Array, has_unreachable: bool, event_threshold: float) -> None:
    """Relief, breathing, respiratory events and sedation (`kernel.effects`) from the
    powers; their sums."""
    for lane in range(LANES):
        x0 = w[X_SU + lane] + 1.0
        x1 = w[X_SP + lane] + 1.0
        # 1 / x1' = u + (1 - u) / x1, so 1 / (x0 x1') = (u x1 + 1 - u) / (x0 x1)
        u = w[UNREACHABLE + lane]
        spared = u * x1 + (1.0 - u) if has_unreachable else 1.0
        w[RELIEF + lane] = w[MAX_RELIEF + lane] * (1.0 - spared / (x0 * x1))
        g_br = w[G_BR + lane]
        rr = g_br * w[RR_BASELINE + lane] / ((w[SU + lane] + g_br) * (w[AP + lane] + 1.0))
        sd = w[SD + lane]
        sedation = sd / (sd + 1.0)
        possible = 1.0 + (sedation >= 0.25) + (sedation >= 0.5) + (sedation >= 0.75)
        event = 1.0 if rr < event_threshold else 0.0
        w[A_RESP + lane] += 1.0 if event > w[PREVIOUS + lane] else 0.0
        w[PREVIOUS + lane] = event
        w[A_SED_MAX + lane] = max(w[A_SED_MAX + lane], possible)
        w[A_RR_MIN + lane] = min(w[A_RR_MIN + lane], rr)
        w[A_X_SED + lane] += sedation


@njit(cache=True, inline="always")
def draws(w: Array, keys: NDArray[np.uint64], salt_: np.uint64) -> None:
    """Row U: the step's onset draw of each lane (`streams.uniform`)."""
    for lane in range(LANES):
        w[U + lane] = uniform(keys[lane], salt_)


@njit(cache=True, inline="always")
def _bump(rate: float, at: float, centre: float, h: float, incident: float) -> float:
    """rate plus an activity's incident rate at time `at` weighted by its biweight bump of
    half-width h around `centre` (all min), where `at` is within h of it."""
    d = (at - centre) * (1.0 / h)
    d = max(1.0 - d * d, 0.0)
    return rate + d * d * incident if (centre - h <= at) & (at < centre + h) else rate


@njit(cache=True, inline="always")
def onsets(w: Array, activity: Array, t: float, tod: float, h: float) -> None:
    """Row ONSET: 1 where a breakthrough episode starts in the step (`kernel.onsets_per_step`,
    `model._onsets`: the draw below the step's chance, no episode running); `activity`
    holds each activity's time (min after midnight) and incident rate per step, rows of
    LANES, times first."""
    for lane in range(LANES):
        w[RATE + lane] = w[SPONTANEOUS + lane]
    activities = activity.size // (2 * LANES)
    for j in range(activities):
        for lane in range(LANES):
            at, incident = activity[j * LANES + lane], activity[(activities + j) * LANES + lane]
            rate = _bump(w[RATE + lane], at, tod - 1440.0, h, incident)
            rate = _bump(rate, at, tod, h, incident)
            w[RATE + lane] = _bump(rate, at, tod + 1440.0, h, incident)
    for lane in range(LANES):
        rate = w[RATE + lane]
        p = rate * (rate * -0.5 + 1.0)
        starts = (w[U + lane] < p) & (t - w[EP_ON + lane] >= w[EP_DUR + lane])
        w[ONSET + lane] = 1.0 if starts else 0.0


@njit(cache=True, inline="always")
def pain(w: Array, t_new: float, end_day: float, waking: bool, night_after: bool,
         radiotherapy: float, press_interval: float, has_rescue: bool,
         rescue_interval: float) -> None:
    """Perceived pain (`pain.background_drive`, `episode_increment`, `perceived_nrs`), the
    patient's behaviour (`behaviour.wants_bolus`, `takes_rescue`: row PRESS 1 where the
    patient presses) and the pain's sums."""
    for lane in range(LANES):
        bg = w[PROGRESSION + lane] * end_day + w[DRIVE0 + lane]
        bg *= w[FACTOR + lane]
        relief_start = w[RELIEF_START + lane]
        ramp = min(max((t_new - relief_start) / 10080.0, 0.0), 1.0)
        bg = bg * (1.0 - radiotherapy * ramp) if relief_start < t_new else bg
        on, ttp, dur = w[EP_ON + lane], w[EP_TTP + lane], w[EP_DUR + lane]
        since = t_new - on
        fall = (dur - since) / (dur - ttp)
        bt = min(max(min(since / ttp, fall), 0.0), 1.0) * w[EP_AMP + lane]
        nrs = min(max((bg + bt) * (1.0 - w[RELIEF + lane]), 0.0), 10.0)
        w[PAIN + lane] = nrs
        threshold = w[THRESHOLD + lane]
        last_press, last_rescue = w[LAST_PRESS + lane], w[LAST_RESCUE + lane]
        press = (nrs >= threshold) & (t_new - last_press >= press_interval)
        rescue = (has_rescue & (w[RESCUE + lane] > 0.0) & (bt > 0.0) & (nrs >= threshold)
                  & (t_new - last_rescue >= rescue_interval))
        pending = w[RESCUE + lane] if rescue else 0.0
        w[PENDING + lane] = pending
        w[LAST_RESCUE + lane] = t_new if rescue else last_rescue
        w[LAST_PRESS + lane] = t_new if press else last_press
        w[PRESS + lane] = 1.0 if press else 0.0
        w[A_ORAL + lane] += pending
        w[A_PAIN + lane] += nrs
        w[A_CONTROLLED + lane] += nrs <= 3.0
        w[A_WAKING + lane] += 1.0 if waking & (nrs <= 3.0) else 0.0
        w[A_SEVERE + lane] += nrs >= 7.0
        woken = w[A_WOKEN + lane]
        w[A_WOKEN + lane] = max(woken, 1.0) if night_after & (nrs >= threshold) else woken
        w[HOUR_PAIN + lane] += nrs
