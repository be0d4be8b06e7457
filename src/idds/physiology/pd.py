"""Pharmacodynamics: analgesia, tolerance, side effects, withdrawal, toxicity score.

All functions are pure and vectorised over patients (arrays of shape (n,)), on any array
backend (`idds.physiology.backend`). Opioid exposure is in morphine-equivalent ng/mL at three
sites (see `SiteExposure`). Parameters and sources are in
`idds.physiology.parameters.PDParams`.

Analgesia (Dahan 2004 sigmoid Emax, ref): E_site = (C/C50)^g / (1 + (C/C50)^g) at the spinal
and supraspinal sites, combined as independent actions E = 1 - (1 - E_spinal)(1 - E_supra)
(1 - E_ziconotide). C50 = C50_naive x tolerance factor x (1 + shift x tolerance state). The
spinal opioid effect acts only on the patient's reachable share of the pain drive
(`idds.physiology.reach`): E = 1 - (1 - E_supra)(1 - share x E_spinal)(1 - E_ziconotide).

Breathing follows Dahan 2004 (Hill 1, shared C50): respiratory rate = RR0 x C50 / (C50 +
C_supraspinal), times 1 - Hill(C_supraspinal, apnoea C50, 4) for the hypercapnic failure of
large overdoses: a few times the exposure the patient is adapted to (`PDParams.apnoea_*`).
Sedation (the POSS a nurse scores) is a Hill of the supraspinal exposure with partial
tolerance. Symptoms that change over hours to weeks (constipation, nausea, pruritus, ...)
are in `idds.physiology.symptoms`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from idds.physiology import backend
from idds.physiology.parameters import PD, PDParams

Array = NDArray[np.float64]


def hill(c: Array, c50: Array | float, gamma: float) -> Array:
    """Sigmoid Emax (0-1) of a non-negative concentration; monotone non-decreasing in c.

    Exponents 1, 1.5, 2 and 4 avoid the (slow) general power; all-zero exposure short-cuts.
    """
    xp = backend.of(c)
    if not bool(xp.any(c)):
        return xp.zeros(c.shape, dtype=xp.float64)  # type: ignore[no-any-return]
    r = xp.maximum(c, 0.0) / c50
    if gamma == 1.0:
        x = r
    elif gamma == 2.0:
        x = r * r
    elif gamma == 1.5:
        x = r * xp.sqrt(r)
    elif gamma == 4.0:
        x = r * r
        x *= x
    else:
        x = xp.exp(gamma * xp.log(xp.maximum(r, 1e-300)))
    out: Array = x / (1.0 + x)
    return out


@dataclass(frozen=True)
class SiteExposure:
    """Exposure at each site, shape (n,), ng/mL.

    supraspinal: morphine-equivalent brain effect-site (plasma-based) concentration plus
    `brainstem_potency` x brainstem CSF effect-site concentration. spinal: morphine-equivalent
    spinal effect-site concentration (lumbar CSF based). plasma: morphine-equivalent plasma
    concentration. gut_mg: morphine-equivalent mg of swallowed drug in the gut depot.
    ziconotide_spinal / ziconotide_brainstem: ziconotide effect-site ng/mL.
    """

    supraspinal: Array
    spinal: Array
    plasma: Array
    gut_mg: Array
    ziconotide_spinal: Array
    ziconotide_brainstem: Array


@dataclass(frozen=True)
class Sensitivity:
    """Per-patient PD parameters, arrays (n,)."""

    c50_supraspinal_ng_per_ml: Array
    c50_spinal_ng_per_ml: Array
    c50_breathing_ng_per_ml: Array
    tolerance_factor: Array
    respiratory_rate_baseline_per_min: Array
    max_relief: Array
    #: tolerance_factor ** respiratory_tolerance_exponent (breathing).
    tolerance_factor_breathing: Array
    #: tolerance_factor ** sedation_tolerance_exponent (sedation: partial tolerance).
    tolerance_factor_sedation: Array
    #: Share (0-1) of the pain drive spinal (intrathecal) opioid can act on
    #: (`idds.physiology.reach`); 1 in patients built without one.
    reachable_share: Array

    @staticmethod
    def build(
        c50_supraspinal_ng_per_ml: Array,
        c50_spinal_ng_per_ml: Array,
        c50_breathing_ng_per_ml: Array,
        tolerance_factor: Array,
        respiratory_rate_baseline_per_min: Array,
        max_relief: Array,
        p: PDParams = PD,
        reachable_share: Array | None = None,
    ) -> Sensitivity:
        """A Sensitivity with its derived tolerance factors computed once (reachable_share
        None: 1 for every patient)."""
        return Sensitivity(
            c50_supraspinal_ng_per_ml=c50_supraspinal_ng_per_ml,
            c50_spinal_ng_per_ml=c50_spinal_ng_per_ml,
            c50_breathing_ng_per_ml=c50_breathing_ng_per_ml,
            tolerance_factor=tolerance_factor,
            respiratory_rate_baseline_per_min=respiratory_rate_baseline_per_min,
            max_relief=max_relief,
            tolerance_factor_breathing=tolerance_factor**p.respiratory_tolerance_exponent,
            tolerance_factor_sedation=tolerance_factor**p.sedation_tolerance_exponent,
            reachable_share=np.ones(max_relief.shape) if reachable_share is None
            else np.asarray(reachable_share, dtype=np.float64),
        )


def occupancy(exposure: SiteExposure, s: Sensitivity, p: PDParams = PD) -> tuple[Array, Array]:
    """Receptor occupancy (0-1) relative to the patient's baseline potency: (supra, spinal).

    It drives the 26 h tolerance compartment (Ekblom 1993, ref) and the withdrawal score.
    """
    supra = hill(exposure.supraspinal, s.c50_supraspinal_ng_per_ml * s.tolerance_factor, 1.0)
    spinal = hill(exposure.spinal, s.c50_spinal_ng_per_ml * s.tolerance_factor, 1.0)
    return supra, spinal


def tolerance_update(tol: Array, target: Array, dt_min: float, p: PDParams = PD) -> Array:
    """Tolerance state after dt: first-order approach to the occupancy, t1/2 26 h (ref)."""
    decay = float(np.exp(-np.log(2.0) * dt_min / p.tolerance_half_life_min))
    out: Array = target + (tol - target) * decay
    return out


@dataclass(frozen=True)
class Effects:
    """Effects at one instant, arrays (n,).

    analgesia 0-1 (combined fraction of maximal effect); relief 0-1 (fraction of pain removed);
    respiratory_rate_per_min; sedation 0-1 and sedation_poss (Pasero Opioid-induced Sedation
    Scale 1-4: 1 awake and alert, 2 slightly drowsy, 3 frequently drowsy, 4 somnolent);
    withdrawal 0-10.
    """

    analgesia: Array
    relief: Array
    respiratory_rate_per_min: Array
    sedation: Array
    sedation_poss: NDArray[np.int64]
    withdrawal: Array


def poss(sedation: Array) -> NDArray[np.int64]:
    """POSS 1-4 from sedation 0-1: 1 + the number of the thresholds 0.25, 0.5, 0.75 reached."""
    xp = backend.of(sedation)
    out: NDArray[np.int64] = 1 + sum(xp.astype(sedation >= level, xp.int64)
                                     for level in (0.25, 0.5, 0.75))
    return out


def effects(
    exposure: SiteExposure,
    s: Sensitivity,
    tol_supra: Array,
    tol_spinal: Array,
    occ_supra: Array,
    p: PDParams = PD,
) -> Effects:
    """All effects from site exposures, tolerance states (0-1) and supraspinal occupancy."""
    dynamic_supra = 1.0 + p.tolerance_max_shift * tol_supra
    shift_spinal = s.tolerance_factor * (1.0 + p.tolerance_max_shift * tol_spinal)
    c50_supra = s.c50_supraspinal_ng_per_ml * s.tolerance_factor * dynamic_supra
    e_supra = hill(exposure.supraspinal, c50_supra, p.hill_analgesia)
    e_spinal = hill(exposure.spinal, s.c50_spinal_ng_per_ml * shift_spinal, p.hill_analgesia)
    e_zic = hill(exposure.ziconotide_spinal, p.ziconotide_c50_ng_per_ml, p.hill_ziconotide)
    analgesia = 1.0 - (1.0 - e_supra) * (1.0 - s.reachable_share * e_spinal) * (1.0 - e_zic)

    c50_breath = s.c50_breathing_ng_per_ml * s.tolerance_factor_breathing * dynamic_supra
    depression = hill(exposure.supraspinal, c50_breath, p.hill_breathing)
    xp = backend.of(tol_supra)
    adapted = (s.c50_supraspinal_ng_per_ml * s.tolerance_factor * tol_supra
               / xp.maximum(1.0 - tol_supra, 1e-12))
    c50_apnoea = xp.maximum(p.apnoea_naive_multiple * s.c50_breathing_ng_per_ml,
                            p.apnoea_adapted_multiple * adapted)
    apnoea = hill(exposure.supraspinal, c50_apnoea, p.hill_apnoea)
    rr = s.respiratory_rate_baseline_per_min * (1.0 - depression) * (1.0 - apnoea)

    sed_opioid = hill(
        exposure.supraspinal,
        p.sedation_c50_multiple * s.c50_supraspinal_ng_per_ml * s.tolerance_factor_sedation
        * dynamic_supra,
        p.hill_sedation,
    )
    sed_zic = hill(exposure.ziconotide_brainstem, p.ziconotide_cns_c50_ng_per_ml, 1.5)
    sedation = 1.0 - (1.0 - sed_opioid) * (1.0 - sed_zic)

    withdrawal = 10.0 * xp.clip((tol_supra - occ_supra) / p.withdrawal_full_scale_occupancy,
                                0.0, 1.0)
    return Effects(
        analgesia=analgesia,
        relief=s.max_relief * analgesia,
        respiratory_rate_per_min=rr,
        sedation=sedation,
        sedation_poss=poss(sedation),
        withdrawal=withdrawal,
    )
