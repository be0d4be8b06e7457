"""The fast pieces of `idds.physiology.model.step` (docs/design.md principle 8).

`model.step` computes the same model as `model.reference_step`, the readable form built from
`pk.advance`, `exposure.site_exposure`, `pd.occupancy`, `pd.effects` and
`pain.onset_rate_per_min`; `tests/physiology/test_physiology_kernel.py` keeps the two equal
(principle 2). What makes this form fast, for 10,000 patients stepped on one core:
- per-patient constants (C50 x tolerance factor products, reciprocals, incident-pain weights
  per step) are computed once per cohort and step length (`StepConstants`, cached);
- the PK map multiplies only the structurally non-zero entries of [Phi | Gamma] and skips
  inputs that are absent this step (`pk.advance_terms`);
- effects share their common factors (one dynamic-tolerance factor per site, one power per
  site), work in place, and skip ziconotide terms when the cohort has no ziconotide;
- the hill exponent 2.4 = 12/5 is computed as r^2 (r^2)^(1/5) with a float32 estimate of
  the fifth root refined by one Newton step in float64 (`power`), instead of exp(2.4 log r)
  in float64, the slowest operations of a step;
- the activity-time kernel is computed only for patients within one half-width of their
  activity time (patients sorted per activity time at cohort build).
Results agree with the reference to round-off: about 1e-13 of each output's scale (relative
3e-9 at worst where an output is a small difference, e.g. withdrawal; the 2.4 power to 1e-11
over r in 1e-30..1e30); discrete events identical in the tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from idds.physiology.cohort import Cohort
from idds.physiology.parameters import PAIN, PD, DrugPK, PDParams
from idds.physiology.pd import Effects, SiteExposure
from idds.physiology.pk import Compartment, Propagator

Array = NDArray[np.float64]
_MIN_PER_DAY = 1440.0


@dataclass(frozen=True)
class StepConstants:
    """Per-patient constants of a cohort for steps of `dt_min` minutes (arrays (n,))."""

    dt_min: float
    propagators: tuple[Propagator, ...]
    #: ng/mL per mg of drug in plasma (1e3 / V_plasma_L) and in lumbar CSF (1e6 / V_mL).
    plasma_ng_per_ml_per_mg: tuple[Array, ...]
    csf_ng_per_ml_per_mg: tuple[Array, ...]
    #: C50 x chronic tolerance factor, ng/mL: supraspinal and spinal stacked (2, n)
    #: (occupancy, analgesia), breathing (x TF^2.5), sedation (multiple x supraspinal C50 x
    #: TF^sedation exponent); the naive floor of the apnoea C50 (multiple x breathing C50).
    c50_sites: Array
    c50_breathing: Array
    c50_sedation: Array
    apnoea_floor: Array
    #: Fraction of the tolerance gap left after one step.
    tolerance_decay: float
    #: 1 - the reachable share of the pain drive (spinal opioid acts on the share only);
    #: None when every patient's share is 1 (the spinal term is then the plain Hill).
    unreachable: Array | None
    #: Expected breakthrough onsets per step, spontaneous part (n,).
    spontaneous_per_step: Array
    #: Per activity time (rows, 3), patients sorted by that time: the order (patient
    #: positions), the sorted times (min) and the incident part of the expected onsets per
    #: step at the kernel's peak, in that order. Shapes (3, n).
    activity_order: NDArray[np.intp]
    activity_sorted_min: Array
    incident_sorted_per_step: Array
    #: (earliest, latest) activity time per row, min.
    activity_range_min: tuple[tuple[float, float], ...]
    #: The cohort parts these constants were computed from (checked by identity).
    source: tuple[object, ...]

    @staticmethod
    def build(cohort: Cohort, dt_min: float, p: PDParams = PD) -> StepConstants:
        """Compute the constants (once per cohort and step length; see `constants`)."""
        s = cohort.sensitivity
        traits = cohort.pain
        h = PAIN.activity_half_width_min
        daily_dt = traits.breakthrough_per_day * dt_min
        times = traits.activity_times_min
        order = np.argsort(times, axis=1, kind="stable")
        incident = daily_dt * traits.incident_fraction * traits.activity_weights
        incident *= 15.0 / (16.0 * h)
        return StepConstants(
            dt_min=dt_min,
            propagators=cohort.propagators(dt_min),
            plasma_ng_per_ml_per_mg=tuple(1e3 / pk.v_plasma_l for pk in cohort.pk),
            csf_ng_per_ml_per_mg=tuple(1e6 / pk.v_csf_lumbar_ml for pk in cohort.pk),
            c50_sites=np.stack(
                (
                    s.c50_supraspinal_ng_per_ml * s.tolerance_factor,
                    s.c50_spinal_ng_per_ml * s.tolerance_factor,
                )
            ),
            c50_breathing=s.c50_breathing_ng_per_ml * s.tolerance_factor_breathing,
            c50_sedation=p.sedation_c50_multiple
            * s.c50_supraspinal_ng_per_ml
            * s.tolerance_factor_sedation,
            apnoea_floor=p.apnoea_naive_multiple * s.c50_breathing_ng_per_ml,
            tolerance_decay=float(np.exp(-np.log(2.0) * dt_min / p.tolerance_half_life_min)),
            unreachable=None if bool(np.all(s.reachable_share == 1.0))
            else 1.0 - s.reachable_share,
            spontaneous_per_step=daily_dt * (1.0 - traits.incident_fraction) / _MIN_PER_DAY,
            activity_order=order,
            activity_sorted_min=np.take_along_axis(times, order, axis=1),
            incident_sorted_per_step=np.take_along_axis(incident, order, axis=1),
            activity_range_min=tuple(
                (float(row.min(initial=np.inf)), float(row.max(initial=-np.inf))) for row in times
            ),
            source=_source(cohort, dt_min),
        )


def _source(cohort: Cohort, dt_min: float) -> tuple[object, ...]:
    """The parts of a cohort that its `StepConstants` for dt_min are computed from."""
    return (cohort.sensitivity, cohort.pain, cohort.pk, cohort.propagators(dt_min))


def constants(cohort: Cohort, dt_min: float) -> StepConstants:
    """The cohort's `StepConstants` for steps of dt_min (cached on the cohort; rebuilt if the
    cohort's parameters are not the objects they were computed from)."""

    def valid(k: StepConstants) -> bool:
        return all(a is b for a, b in zip(k.source, _source(cohort, dt_min), strict=True))

    return cohort.cached(
        "step_constants", dt_min, lambda: StepConstants.build(cohort, dt_min), valid
    )


def concentrations(x: Array, k: StepConstants) -> tuple[Array, Array]:
    """Plasma and lumbar CSF concentrations (n_drugs, n), ng/mL, from PK states."""
    plasma = np.empty((x.shape[0], x.shape[2]))
    csf = np.empty_like(plasma)
    for d in range(x.shape[0]):
        np.multiply(x[d, Compartment.PLASMA], k.plasma_ng_per_ml_per_mg[d], out=plasma[d])
        np.multiply(x[d, Compartment.LUMBAR], k.csf_ng_per_ml_per_mg[d], out=csf[d])
    return plasma, csf


def _accumulate(acc: Array, values: Array, weight: float, first: bool) -> None:
    """acc = weight x values if first, else acc += weight x values (in place)."""
    if first:
        if weight == 1.0:
            acc[...] = values
        else:
            np.multiply(values, weight, out=acc)
    elif weight == 1.0:
        acc += values
    else:
        acc += values * weight


def site_exposure(
    x: Array, plasma_ng_per_ml: Array, drugs: Sequence[DrugPK], p: PDParams = PD
) -> tuple[Array, SiteExposure]:
    """`exposure.site_exposure` from PK states (n_drugs, 7, n) and plasma concentrations.

    Returns the opioid exposures stacked as (2, n) (supraspinal, spinal; the SiteExposure
    fields are views of its rows) and the SiteExposure.
    """
    n = x.shape[2]
    sites = np.empty((2, n))
    plasma = np.empty(n)
    gut = np.empty(n)
    zic = np.empty((2, n))  # ziconotide: spinal, brainstem
    opioids = [(d, drug) for d, drug in enumerate(drugs) if drug.opioid]
    others = [d for d, drug in enumerate(drugs) if not drug.opioid]
    if not opioids:
        sites.fill(0.0)
        plasma.fill(0.0)
        gut.fill(0.0)
    for k, (d, drug) in enumerate(opioids):
        xd = x[d]
        sys_ = drug.systemic_potency_vs_morphine
        sp = drug.spinal_potency_vs_morphine
        _accumulate(sites[0], xd[Compartment.BRAIN], sys_, k == 0)
        _accumulate(sites[0], xd[Compartment.BRAINSTEM], sp * p.brainstem_potency, False)
        _accumulate(sites[1], xd[Compartment.SPINAL], sp, k == 0)
        _accumulate(plasma, plasma_ng_per_ml[d], sys_, k == 0)
        _accumulate(gut, xd[Compartment.GUT], sys_, k == 0)
    if not others:
        zic.fill(0.0)
    for k, d in enumerate(others):
        _accumulate(zic[0], x[d, Compartment.SPINAL], 1.0, k == 0)
        _accumulate(zic[1], x[d, Compartment.BRAINSTEM], 1.0, k == 0)
    return sites, SiteExposure(
        supraspinal=sites[0],
        spinal=sites[1],
        plasma=plasma,
        gut_mg=gut,
        ziconotide_spinal=zic[0],
        ziconotide_brainstem=zic[1],
    )


def occupancy_and_tolerance(
    sites: Array, tol_supra: Array, tol_spinal: Array, k: StepConstants
) -> tuple[Array, Array]:
    """`pd.occupancy` and `pd.tolerance_update` for both sites at once, arrays (2, n):
    occupancy C / (C + C50 x TF) and the tolerance states after the step."""
    occ = sites + k.c50_sites
    np.divide(sites, occ, out=occ)
    tol = np.stack((tol_supra, tol_spinal))
    tol -= occ
    tol *= k.tolerance_decay
    tol += occ
    return occ, tol


def power(r: Array, gamma: float) -> Array:
    """r ** gamma for r >= 0 (a new array).

    Exponents 1, 1.5, 2 and 4 use products and a square root; 2.4 = 12/5 (the analgesia Hill
    coefficient) is r^2 y with y = (r^2)^(1/5): a float32 estimate exp(0.4 log r), refined by
    one Newton step y <- (4 y + r^2 / y^4) / 5 in float64 (relative error below 1e-11 for r in
    1e-30..1e30; r below 1e-30 is treated as 1e-30 for the estimate only, giving
    r^2.4 < 1e-70). Other exponents: exp(gamma log r).
    """
    if gamma == 1.0:
        return r.copy()
    if gamma == 2.0:
        out: Array = r * r
        return out
    if gamma == 1.5:
        out = np.sqrt(r)
        out *= r
        return out
    if gamma == 4.0:
        out = r * r
        out *= out
        return out
    if gamma == 2.4:
        est = np.maximum(r, 1e-30).astype(np.float32)
        np.log(est, out=est)
        est *= np.float32(0.4)
        np.exp(est, out=est)
        y = est.astype(np.float64)
        r2 = r * r
        y4 = y * y
        y4 *= y4
        np.divide(r2, y4, out=y4)
        y *= 4.0
        y += y4
        y *= 0.2
        y *= r2
        return y
    out = np.exp(gamma * np.log(np.maximum(r, 1e-300)))
    return out


def _saturate(x: Array) -> Array:
    """x / (1 + x) in place: the Emax fraction from (C / C50)^gamma."""
    den = x + 1.0
    np.divide(x, den, out=x)
    return x


def _pasero(sedation: Array) -> NDArray[np.int64]:
    """POSS 1-4: 1 + the number of the thresholds 0.25, 0.5, 0.75 reached (as `pd.poss`)."""
    count = (sedation >= 0.25).view(np.int8)
    count += (sedation >= 0.5).view(np.int8)
    count += (sedation >= 0.75).view(np.int8)
    out = count.astype(np.int64)
    out += 1
    return out


def effects(
    sites: Array,
    exposure: SiteExposure,
    cohort: Cohort,
    k: StepConstants,
    tol: Array,
    occ_supra: Array,
    with_ziconotide: bool,
    p: PDParams = PD,
) -> Effects:
    """`pd.effects` from the stacked exposures and tolerance states (2, n) (supraspinal,
    spinal), sharing common factors.

    The dynamic tolerance scales every supraspinal C50 by g = 1 + shift x tol_supra (and the
    spinal one by 1 + shift x tol_spinal), so C / C50 = (C / g) / (precomputed constant).
    1 - E = 1 / (1 + x) for an Emax fraction E = x / (1 + x).
    """
    s = cohort.sensitivity
    g = tol * p.tolerance_max_shift
    g += 1.0
    shifted = np.divide(sites, g, out=g)  # C / (1 + shift x tol): every C50 is k x TF here
    c_su = shifted[0]
    r = shifted / k.c50_sites  # C / C50 now, supraspinal and spinal

    x = power(r, p.hill_analgesia)
    x += 1.0
    if k.unreachable is not None:
        # 1 - share x E_spinal = (1 - share) + share / x_spinal = 1 / x' with x' below
        share = 1.0 - k.unreachable
        x[1] = 1.0 / (k.unreachable + share / x[1])
    den = np.multiply(x[0], x[1], out=x[0])
    if with_ziconotide:
        r_z = exposure.ziconotide_spinal * (1.0 / p.ziconotide_c50_ng_per_ml)
        x_z = power(r_z, p.hill_ziconotide)
        x_z += 1.0
        den *= x_z
    analgesia = np.divide(1.0, den)
    np.subtract(1.0, analgesia, out=analgesia)

    depression = c_su + k.c50_breathing
    np.divide(c_su, depression, out=depression)  # Hill 1
    rr = 1.0 - depression
    rr *= s.respiratory_rate_baseline_per_min
    # apnoea C50: max(naive floor, multiple x adapted exposure C50 TF tau / (1 - tau)); its
    # ratio uses the unshifted exposure (sites[0] = c_su g)
    adapted = np.subtract(1.0, tol[0], out=depression)
    np.maximum(adapted, 1e-12, out=adapted)
    np.divide(tol[0], adapted, out=adapted)
    adapted *= k.c50_sites[0]
    adapted *= p.apnoea_adapted_multiple
    np.maximum(adapted, k.apnoea_floor, out=adapted)
    np.divide(sites[0], adapted, out=adapted)
    apnoea = _saturate(power(adapted, p.hill_apnoea))
    np.subtract(1.0, apnoea, out=apnoea)
    rr *= apnoea
    r_sed = np.divide(c_su, k.c50_sedation, out=x[1])
    sedation = _saturate(power(r_sed, p.hill_sedation))
    if with_ziconotide:
        r_zb = exposure.ziconotide_brainstem * (1.0 / p.ziconotide_cns_c50_ng_per_ml)
        sed_zic = _saturate(power(r_zb, 1.5))
        sedation = 1.0 - (1.0 - sedation) * (1.0 - sed_zic)

    withdrawal = tol[0] - occ_supra
    np.maximum(withdrawal, 0.0, out=withdrawal)
    np.minimum(withdrawal, p.withdrawal_full_scale_occupancy, out=withdrawal)
    withdrawal *= 10.0 / p.withdrawal_full_scale_occupancy
    return Effects(
        analgesia=analgesia,
        relief=s.max_relief * analgesia,
        respiratory_rate_per_min=rr,
        sedation=sedation,
        sedation_poss=_pasero(sedation),
        withdrawal=withdrawal,
    )


def onsets_per_step(k: StepConstants, time_of_day_min: float) -> Array:
    """Expected breakthrough onsets in a step centred at a time of day (min after midnight):
    `pain.onset_rate_per_min` x dt, with the per-patient weights precomputed.

    The biweight kernel (1 - min(d^2, 1))^2, d the distance to an activity time in
    half-widths h, is zero beyond one half-width, so it is computed only for the patients
    whose activity time lies within h of the time of day (or of it +- 1 day, the wrap around
    midnight): a contiguous range of the patients sorted by that activity time.
    """
    h = PAIN.activity_half_width_min
    rate = k.spontaneous_per_step.copy()
    for j in range(k.activity_order.shape[0]):
        times = k.activity_sorted_min[j]
        for centre in (
            time_of_day_min - _MIN_PER_DAY,
            time_of_day_min,
            time_of_day_min + _MIN_PER_DAY,
        ):
            lo, hi = np.searchsorted(times, (centre - h, centre + h))
            if lo == hi:
                continue
            d = times[lo:hi] - centre
            d *= 1.0 / h
            d *= d
            np.subtract(1.0, d, out=d)
            np.maximum(d, 0.0, out=d)
            d *= d
            d *= k.incident_sorted_per_step[j, lo:hi]
            rate[k.activity_order[j, lo:hi]] += d
    return rate
