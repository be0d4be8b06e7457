"""Reachable pain: the share of a patient's pain drive that intrathecal opioid can act on.

Spinal (intrathecal) opioid analgesia acts at the dorsal horn of the segments the drug
reaches. Two things limit that per patient (parameters and their sources or assumptions in
`idds.physiology.parameters.ReachParams`; docs/screening.md):

- the pain type: a nociceptive drive responds fully, a neuropathic one largely not
  (`ReachParams.responsive_share`);
- where the catheter tip lies against the painful dermatomes: drug infused slowly stays
  within a few cm of the tip (Bernards 2006, pig, ref), so segments beyond
  `full_reach_cm` are covered less, halving every `coverage_half_distance_cm`; a widespread
  pain lies partly outside any tip's reach (`widespread_coverage`).

share = responsive_share[type] x coverage(distance) x (widespread_coverage if widespread
else 1), in [0, 1]. The unreachable part of the drive is relieved by the systemic opioid
action, ziconotide and co-analgesics only: `pd.effects` weights the spinal opioid effect by
the share, so analgesia = 1 - (1 - E_supra)(1 - share x E_spinal)(1 - E_ziconotide). Systemic
(oral) opioid therapy is therefore unchanged by it, and so is the prior-regimen calibration.
Not modelled: a bolus spreads further than a slow infusion (Bernards 2006), so one share
serves both.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

from idds.physiology.archetypes import Archetype
from idds.physiology.errors import PhysiologyError
from idds.physiology.parameters import REACH, ReachParams
from idds.physiology.streams import Stream, normal, uniform

Array = NDArray[np.float64]
Codes = NDArray[np.int64]


class PainMechanism(IntEnum):
    """Mechanism of the pain (the code stored per patient in `PainTraits.pain_type`)."""

    NOCICEPTIVE = 0
    MIXED = 1
    NEUROPATHIC = 2

    @property
    def label(self) -> str:
        return self.name.lower()


class PainExtent(IntEnum):
    """Extent of the pain (the code stored per patient in `PainTraits.pain_distribution`)."""

    LOCALIZED = 0
    WIDESPREAD = 1

    @property
    def label(self) -> str:
        return self.name.lower()


def pain_type(name: str) -> PainMechanism:
    """A pain type by name (any case); PhysiologyError names the known ones."""
    try:
        return PainMechanism[name.strip().upper()]
    except KeyError:
        known = ", ".join(t.label for t in PainMechanism)
        raise PhysiologyError(f"unknown pain type {name!r}; known: {known}") from None


def pain_distribution(name: str) -> PainExtent:
    """A pain distribution by name (any case; "localised" accepted); PhysiologyError names
    the known ones."""
    try:
        return PainExtent[name.strip().upper().replace("LOCALISED", "LOCALIZED")]
    except KeyError:
        known = ", ".join(d.label for d in PainExtent)
        raise PhysiologyError(f"unknown pain distribution {name!r}; known: {known}") from None


def tip_coverage(distance_cm: ArrayLike, p: ReachParams = REACH) -> Array:
    """Share (0-1) of the painful segments reached by drug from a catheter tip at this
    distance (cm, >= 0): 1 within `full_reach_cm`, then halving every
    `coverage_half_distance_cm`. Non-increasing in the distance."""
    d = np.asarray(distance_cm, dtype=np.float64)
    if np.any(~(d >= 0.0)):
        raise PhysiologyError("the tip-to-dermatome distance must be >= 0 cm")
    beyond = np.maximum(d - p.full_reach_cm, 0.0)
    out: Array = np.exp2(-beyond / p.coverage_half_distance_cm)
    return out


def reachable_share(types: ArrayLike, distributions: ArrayLike, distance_cm: ArrayLike,
                    p: ReachParams = REACH) -> Array:
    """Share (0-1) of the pain drive intrathecal opioid can act on, per patient, from pain
    type codes (`PainMechanism`), distribution codes (`PainExtent`) and the tip-to-dermatome
    distance in cm."""
    t = np.asarray(types, dtype=np.int64)
    w = np.asarray(distributions, dtype=np.int64)
    if np.any((t < 0) | (t >= len(PainMechanism))) or np.any((w < 0) | (w >= len(PainExtent))):
        raise PhysiologyError("unknown pain type or distribution code")
    responsive = np.asarray(p.responsive_share, dtype=np.float64)[t]
    spread = np.where(w == PainExtent.WIDESPREAD, p.widespread_coverage, 1.0)
    out: Array = np.clip(responsive * spread * tip_coverage(distance_cm, p), 0.0, 1.0)
    return out


@dataclass(frozen=True)
class ReachTraits:
    """Per-patient reach, arrays (n,): pain type and distribution codes, the distance from
    the catheter tip to the painful segments (cm) and the reachable share (0-1)."""

    pain_type: Codes
    pain_distribution: Codes
    tip_distance_cm: Array
    share: Array


def sample_reach(keys: NDArray[np.uint64], arch: Archetype, variability: float = 1.0,
                 p: ReachParams = REACH) -> ReachTraits:
    """Reach of each patient: type and distribution forced by the archetype or drawn from the
    `ReachParams` shares (the typical patient, variability 0: nociceptive, localized), the
    distance log-normal around the archetype's `tip_distance_cm`."""
    n = keys.shape[0]
    if arch.pain_type is not None:
        types = np.full(n, int(pain_type(arch.pain_type)), dtype=np.int64)
    elif variability == 0:
        types = np.full(n, int(PainMechanism.NOCICEPTIVE), dtype=np.int64)
    else:
        cut = np.cumsum(p.p_pain_type)[:-1]
        types = np.searchsorted(cut, uniform(keys, Stream.PAIN_TYPE, 0)).astype(np.int64)
    if arch.pain_distribution is not None:
        spread = np.full(n, int(pain_distribution(arch.pain_distribution)), dtype=np.int64)
    elif variability == 0:
        spread = np.full(n, int(PainExtent.LOCALIZED), dtype=np.int64)
    else:
        wide = uniform(keys, Stream.PAIN_DISTRIBUTION, 0) < p.p_widespread
        spread = wide.astype(np.int64)
    eta = variability * normal(keys, Stream.TIP_DISTANCE, 0)
    distance = arch.tip_distance_cm * np.exp(p.tip_distance_omega * eta)
    return ReachTraits(types, spread, distance, reachable_share(types, spread, distance, p))
