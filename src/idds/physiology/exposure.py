"""From PK states of several drugs to exposure at each effect site (morphine equivalents)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from idds.physiology import backend
from idds.physiology.parameters import PD, DrugPK, PDParams
from idds.physiology.pd import SiteExposure
from idds.physiology.pk import Compartment, PatientPK, plasma_ng_per_ml

Array = NDArray[np.float64]


def site_exposure(
    x: Array,
    drugs: Sequence[DrugPK],
    pks: Sequence[PatientPK],
    p: PDParams = PD,
) -> SiteExposure:
    """Site exposures from PK states x of shape (n_drugs, 7, n).

    Opioids add up in morphine equivalents: systemic potency for plasma and brain, spinal
    potency for CSF-delivered drug at the spinal site and at the brainstem. Any array
    backend (`idds.physiology.backend`).
    """
    xp = backend.of(x)
    supra, spinal, plasma, gut, zic_spinal, zic_bs = (
        xp.zeros(x.shape[2], dtype=xp.float64) for _ in range(6))
    for d, (drug, pk) in enumerate(zip(drugs, pks, strict=True)):
        xd = x[d, ...]
        if drug.opioid:
            supra += drug.systemic_potency_vs_morphine * xd[Compartment.BRAIN, ...]
            supra += (drug.spinal_potency_vs_morphine * p.brainstem_potency
                      * xd[Compartment.BRAINSTEM, ...])
            spinal += drug.spinal_potency_vs_morphine * xd[Compartment.SPINAL, ...]
            plasma += drug.systemic_potency_vs_morphine * plasma_ng_per_ml(xd, pk)
            gut += drug.systemic_potency_vs_morphine * xd[Compartment.GUT, ...]
        else:
            zic_spinal += xd[Compartment.SPINAL, ...]
            zic_bs += xd[Compartment.BRAINSTEM, ...]
    return SiteExposure(
        supraspinal=supra,
        spinal=spinal,
        plasma=plasma,
        gut_mg=gut,
        ziconotide_spinal=zic_spinal,
        ziconotide_brainstem=zic_bs,
    )
