"""Cohorts: per-patient parameter arrays sampled from an archetype with log-normal variability.

Every patient's parameters are a pure function of (seed, archetype, patient index): sampling
patients 0-9 at once or as 0-4 and 5-9 gives the same patients (`idds.physiology.streams`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar, cast

import numpy as np
from numpy.typing import NDArray

from idds.physiology.archetypes import DEFAULT_ARCHETYPE, Archetype, archetype
from idds.physiology.errors import PhysiologyError
from idds.physiology.exposure import site_exposure
from idds.physiology.parameters import BEHAVIOUR, PAIN, PD, VARIABILITY, DrugPK, drug_pk
from idds.physiology.pd import Sensitivity, effects, occupancy
from idds.physiology.pk import N_INPUTS, PatientPK, Propagator, propagator, steady_state
from idds.physiology.reach import sample_reach
from idds.physiology.streams import Stream, normal, patient_keys, uniform
from idds.physiology.survival import death_days, prognosis_days
from idds.physiology.symptoms import TRAIT_STREAMS, SymptomTraits, sample_traits

Array = NDArray[np.float64]
T = TypeVar("T")

#: Random-effect names; the position is the parameter stream number (do not reorder).
_ETA_NAMES = (
    "oral_bioavailability",
    "ka",
    "v_plasma",
    "cl_plasma",
    "ke0_brain",
    "v_csf_lumbar",
    "k_csf_out",
    "rostral_fraction",
    "k_rostral_out",
    "ke0_spinal",
    "ke0_brainstem",
    "c50_analgesia",
    "c50_breathing",
    "tolerance_factor",
    "respiratory_rate",
    "max_relief",
    "baseline_nrs",
    "progression",
    "breakthrough_rate",
    "time_to_peak",
    "duration",
    "amplitude",
    "prior_oral",
    "press_threshold",
    "activity_shift_0",
    "activity_shift_1",
    "activity_shift_2",
)
_UNIFORM_NAMES = ("breakthrough_type", "activity_drop")


@dataclass(frozen=True)
class PainTraits:
    """Per-patient pain process parameters, arrays (n,) unless noted (NRS points, min)."""

    baseline_nrs: Array
    #: Background pain drive at time 0 before analgesia (NRS points, may exceed 10).
    drive0_nrs: Array
    progression_nrs_per_day: Array
    breakthrough_per_day: Array
    #: Share of episodes that are incident (tied to activity times), 0-1.
    incident_fraction: Array
    #: Preferred activity times, min after midnight, shape (3, n), and weights (3, n) summing
    #: to 1 over the 3 (a weight 0 drops that time for the patient).
    activity_times_min: Array
    activity_weights: Array
    time_to_peak_min: Array
    duration_min: Array
    amplitude_nrs: Array
    #: Pain type, distribution (`reach` codes) and tip-to-painful-segment distance, cm.
    pain_type: NDArray[np.int64]
    pain_distribution: NDArray[np.int64]
    tip_distance_cm: Array


@dataclass(frozen=True)
class Cohort:
    """A cohort of virtual patients: parameter arrays of shape (n,), immutable.

    drugs: drug names whose PK is simulated (morphine always first: prior regimen, rescue).
    pk: per-drug `PatientPK`, same order. Propagators and other per-step-length constants
    are cached (`cached`).
    """

    seed: int
    archetype: str
    indices: NDArray[np.int64]
    keys: NDArray[np.uint64]
    drugs: tuple[str, ...]
    pk: tuple[PatientPK, ...]
    weight_kg: Array
    sensitivity: Sensitivity
    pain: PainTraits
    press_threshold_nrs: Array
    prior_oral_morphine_mg_per_day: Array
    #: Oral morphine rescue dose a patient takes when in pain (0 = no oral rescue), mg.
    oral_rescue_mg: Array
    #: Symptom susceptibilities and the cancer's own symptom burden.
    symptoms: SymptomTraits
    #: Day of death from the disease, days from day 0 (+inf: none).
    death_day: Array
    #: Life expectancy a care team would estimate, days (`survival.prognosis_days`).
    prognosis_days: Array
    _cache: dict[float | tuple[str, float], object] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def n(self) -> int:
        return int(self.indices.shape[0])

    @property
    def drug_params(self) -> tuple[DrugPK, ...]:
        return tuple(drug_pk(d) for d in self.drugs)

    def drug_index(self, drug: str) -> int:
        """Position of a drug in `drugs`; PhysiologyError if the cohort does not simulate it."""
        name = drug_pk(drug).name
        if name not in self.drugs:
            raise PhysiologyError(f"cohort does not simulate {name}; it has {self.drugs}")
        return self.drugs.index(name)

    def propagators(self, dt_min: float) -> tuple[Propagator, ...]:
        """Exact one-step maps for each drug for steps of dt_min minutes (cached)."""
        if not dt_min > 0:
            raise PhysiologyError(f"step length must be positive, got {dt_min} min")
        key = float(dt_min)
        if key not in self._cache:
            self._cache[key] = tuple(propagator(pk, key) for pk in self.pk)
        return cast(tuple[Propagator, ...], self._cache[key])

    def use_propagators(self, dt_min: float, propagators: tuple[Propagator, ...]) -> None:
        """Use these maps for steps of dt_min (its own, on another backend: `on_backend`)."""
        self._cache[float(dt_min)] = propagators

    def cached(
        self, name: str, dt_min: float, build: Callable[[], T], valid: Callable[[T], bool]
    ) -> T:
        """The value `build()` computed once per (name, step length) for this cohort; rebuilt
        if `valid` rejects the cached one (`dataclasses.replace` shares the cache)."""
        key = (name, float(dt_min))
        value = self._cache.get(key)
        if value is None or not valid(cast(T, value)):
            value = self._cache[key] = build()
        return cast(T, value)

    def take(self, index: NDArray[np.intp] | Sequence[int]) -> Cohort:
        """The sub-cohort of the given positions (patients keep their global index)."""
        idx = np.asarray(index, dtype=np.intp)
        s = self.sensitivity
        p = self.pain
        return Cohort(
            seed=self.seed,
            archetype=self.archetype,
            indices=self.indices[idx],
            keys=self.keys[idx],
            drugs=self.drugs,
            pk=tuple(pk.take(idx) for pk in self.pk),
            weight_kg=self.weight_kg[idx],
            sensitivity=Sensitivity(**{k: v[idx] for k, v in s.__dict__.items()}),
            pain=PainTraits(**{k: v[..., idx] for k, v in p.__dict__.items()}),
            press_threshold_nrs=self.press_threshold_nrs[idx],
            prior_oral_morphine_mg_per_day=self.prior_oral_morphine_mg_per_day[idx],
            oral_rescue_mg=self.oral_rescue_mg[idx],
            symptoms=self.symptoms.take(idx),
            death_day=self.death_day[idx],
            prognosis_days=self.prognosis_days[idx],
        )

    def with_oral_rescue(self, rescue_mg: Array | float) -> Cohort:
        """The same cohort with another oral rescue dose per patient (0 disables rescue)."""
        rescue = np.broadcast_to(np.asarray(rescue_mg, dtype=np.float64), (self.n,)).copy()
        if np.any(rescue < 0):
            raise PhysiologyError("oral rescue dose must not be negative")
        return replace(self, oral_rescue_mg=rescue, _cache={})


def _patient_pk(drug: DrugPK, eta: dict[str, Array], weight_kg: Array,
                arch: Archetype) -> PatientPK:
    v = VARIABILITY

    def ln(name: str, omega: float) -> Array:
        out: Array = np.exp(omega * eta[name])
        return out

    v_plasma = drug.v_plasma_l_per_kg * weight_kg * ln("v_plasma", v.v_plasma)
    cl = (
        drug.cl_plasma_l_per_min_per_kg
        * weight_kg
        * arch.plasma_clearance_multiplier
        * ln("cl_plasma", v.cl_plasma)
    )
    return PatientPK(
        oral_bioavailability=np.minimum(
            drug.oral_bioavailability * ln("oral_bioavailability", v.oral_bioavailability), 0.95
        ),
        ka_per_min=drug.ka_per_min * ln("ka", v.ka),
        v_plasma_l=v_plasma,
        k_el_per_min=cl / v_plasma,
        ke0_brain_per_min=drug.ke0_brain_per_min * ln("ke0_brain", v.ke0_brain),
        v_csf_lumbar_ml=drug.v_csf_lumbar_ml * ln("v_csf_lumbar", v.v_csf_lumbar),
        k_csf_out_per_min=drug.k_csf_out_per_min * ln("k_csf_out", v.k_csf_out),
        rostral_fraction=np.minimum(
            drug.rostral_fraction * ln("rostral_fraction", v.rostral_fraction), 0.6
        ),
        v_csf_rostral_ml=np.full_like(weight_kg, drug.v_csf_rostral_ml),
        k_rostral_out_per_min=drug.k_rostral_out_per_min * ln("k_rostral_out", v.k_rostral_out),
        ke0_spinal_per_min=drug.ke0_spinal_per_min * ln("ke0_spinal", v.ke0_spinal),
        ke0_brainstem_per_min=drug.ke0_brainstem_per_min * ln("ke0_brainstem", v.ke0_brainstem),
    )


def sample_cohort(
    n: int | None = None,
    seed: int = 0,
    archetype_name: str = DEFAULT_ARCHETYPE,
    *,
    indices: Sequence[int] | NDArray[np.int64] | None = None,
    drugs: Sequence[str] = ("morphine",),
    variability: float = 1.0,
) -> Cohort:
    """Sample patients of an archetype.

    n: number of patients (indices 0..n-1) unless `indices` (global patient indices) is given.
    seed: the cohort seed; a patient's parameters depend only on (seed, archetype, index).
    drugs: drugs to simulate (morphine is always included, first).
    variability: scale of all random effects (0 gives the typical patient of the archetype).
    """
    arch = archetype(archetype_name)
    if indices is None:
        if n is None or n < 0:
            raise PhysiologyError("give a non-negative n or explicit indices")
        idx = np.arange(n, dtype=np.int64)
    else:
        idx = np.asarray(indices, dtype=np.int64)
    names = ["morphine", *[drug_pk(d).name for d in drugs if drug_pk(d).name != "morphine"]]
    drug_names = tuple(dict.fromkeys(names))
    if seed < 0:
        raise PhysiologyError(f"the seed must be a whole number >= 0, not {seed}")
    keys = patient_keys(seed, idx)
    count = idx.shape[0]
    eta = {
        name: variability * normal(keys, Stream.PARAMETER + j, 0)
        for j, name in enumerate(_ETA_NAMES)
    }
    unif = {
        name: uniform(keys, Stream.PARAMETER + len(_ETA_NAMES) + j, 0)
        for j, name in enumerate(_UNIFORM_NAMES)
    }
    v = VARIABILITY
    weight = np.full(count, arch.weight_kg)
    reach = sample_reach(keys, arch, variability)
    pks = tuple(_patient_pk(drug_pk(d), eta, weight, arch) for d in drug_names)
    sens = Sensitivity.build(
        c50_supraspinal_ng_per_ml=PD.c50_supraspinal_ng_per_ml
        * arch.c50_multiplier
        * np.exp(v.c50_analgesia * eta["c50_analgesia"]),
        c50_spinal_ng_per_ml=PD.c50_spinal_ng_per_ml
        * arch.c50_multiplier
        * np.exp(v.c50_analgesia * eta["c50_analgesia"]),
        c50_breathing_ng_per_ml=PD.c50_supraspinal_ng_per_ml
        * arch.c50_multiplier
        * np.exp(v.c50_breathing * eta["c50_breathing"]),
        tolerance_factor=np.maximum(
            arch.tolerance_factor * np.exp(v.tolerance_factor * eta["tolerance_factor"]), 1.0
        )
        if arch.tolerance_factor > 1.0
        else np.ones(count),
        respiratory_rate_baseline_per_min=np.clip(
            arch.respiratory_rate_per_min + v.respiratory_rate_sd_per_min * eta["respiratory_rate"],
            10.0,
            22.0,
        ),
        max_relief=np.clip(PD.max_relief + v.max_relief_sd * eta["max_relief"], 0.6, 0.98),
        reachable_share=reach.share,
    )
    prior = np.maximum(
        arch.prior_oral_morphine_mg_per_day * np.exp(0.3 * eta["prior_oral"]),
        arch.min_prior_oral_morphine_mg_per_day,
    )
    baseline_nrs = np.clip(
        arch.baseline_nrs + PAIN.baseline_nrs_sd * eta["baseline_nrs"], arch.min_baseline_nrs, 9.8
    )
    relief = steady_relief(drug_names, pks, sens, prior)
    drive0 = baseline_nrs / (1.0 - relief)
    if arch.incident_fraction is not None:
        incident = np.full(count, arch.incident_fraction)
    elif variability == 0:
        incident = np.full(count, 0.5)
    else:
        u = unif["breakthrough_type"]
        incident = np.where(
            u < PAIN.p_incident, 1.0, np.where(u < PAIN.p_incident + PAIN.p_spontaneous, 0.0, 0.5)
        )
    shifts = np.stack(
        [v.activity_shift_sd_min * eta[f"activity_shift_{k}"] for k in range(3)], axis=1
    )
    times = (np.asarray(PAIN.activity_times_min)[None, :] + shifts) % 1440.0
    drop = np.where(unif["activity_drop"] < 0.5, (unif["activity_drop"] * 6).astype(int), -1)
    weights = np.ones((count, 3))
    for k in range(3):
        weights[drop == k, k] = 0.0
    weights /= weights.sum(axis=1, keepdims=True)
    ttp_typ = (
        incident * PAIN.time_to_peak_incident_min
        + (1 - incident) * PAIN.time_to_peak_spontaneous_min
    )
    pain = PainTraits(
        baseline_nrs=baseline_nrs,
        drive0_nrs=drive0,
        progression_nrs_per_day=PAIN.progression_nrs_per_30_days
        / 30.0
        * arch.progression_multiplier
        * np.exp(v.progression * eta["progression"]),
        breakthrough_per_day=PAIN.breakthrough_per_day
        * arch.breakthrough_rate_multiplier
        * np.exp(v.breakthrough_rate * eta["breakthrough_rate"]),
        incident_fraction=incident,
        activity_times_min=np.ascontiguousarray(times.T),
        activity_weights=np.ascontiguousarray(weights.T),
        time_to_peak_min=ttp_typ * np.exp(0.5 * v.time_to_peak * eta["time_to_peak"]),
        duration_min=PAIN.duration_min * np.exp(0.5 * v.duration * eta["duration"]),
        amplitude_nrs=PAIN.breakthrough_amplitude_nrs
        * np.exp(0.5 * v.amplitude * eta["amplitude"]),
        pain_type=reach.pain_type,
        pain_distribution=reach.pain_distribution,
        tip_distance_cm=reach.tip_distance_cm,
    )
    threshold = np.clip(
        BEHAVIOUR.press_threshold_nrs + BEHAVIOUR.press_threshold_sd_nrs * eta["press_threshold"],
        3.0,
        9.0,
    )
    rescue = prior * BEHAVIOUR.rescue_fraction_of_daily if arch.oral_rescue else np.zeros(count)
    first_trait = Stream.SYMPTOM_TRAIT
    traits = sample_traits({
        name: variability * normal(keys, first_trait + j, 0)
        for j, name in enumerate(TRAIT_STREAMS)
    })
    return Cohort(
        seed=seed,
        archetype=arch.name,
        indices=idx,
        keys=keys,
        drugs=drug_names,
        pk=pks,
        weight_kg=weight,
        sensitivity=sens,
        pain=pain,
        press_threshold_nrs=threshold,
        prior_oral_morphine_mg_per_day=prior,
        oral_rescue_mg=rescue,
        symptoms=traits,
        death_day=death_days(keys, arch.median_survival_days, variability),
        prognosis_days=prognosis_days(keys, arch.median_survival_days, variability),
    )


def typical_cohort(
    archetype_name: str = DEFAULT_ARCHETYPE, n: int = 1, drugs: Sequence[str] = ("morphine",)
) -> Cohort:
    """n copies of the typical patient of an archetype (all random effects zero)."""
    return sample_cohort(n, 0, archetype_name, drugs=drugs, variability=0.0)


def steady_relief(
    drugs: Sequence[str],
    pks: Sequence[PatientPK],
    sens: Sensitivity,
    oral_morphine_mg_per_day: Array,
) -> Array:
    """Relief (0-1) at steady state of a continuous oral morphine regimen (tolerance included)."""
    x = steady_state_states(drugs, pks, sens, {"morphine": (oral_morphine_mg_per_day, 0, 0)})
    params = [drug_pk(d) for d in drugs]
    exp = site_exposure(x, params, pks)
    tol_supra, tol_spinal = occupancy(exp, sens)
    out: Array = effects(exp, sens, tol_supra, tol_spinal, tol_supra).relief
    return out


def steady_state_states(
    drugs: Sequence[str],
    pks: Sequence[PatientPK],
    sens: Sensitivity,
    mg_per_day: dict[str, tuple[Array | float, Array | float, Array | float]],
) -> Array:
    """PK states (n_drugs, 7, n) at steady state of constant daily doses per drug.

    mg_per_day maps a drug name to (oral, iv, intrathecal) mg/day (scalars or arrays (n,)).
    """
    n = pks[0].n
    out = np.zeros((len(drugs), 7, n))
    for name, routes in mg_per_day.items():
        d = list(drugs).index(drug_pk(name).name)
        rate = np.zeros((N_INPUTS, n))
        for r in range(N_INPUTS):
            rate[r] = np.broadcast_to(np.asarray(routes[r], dtype=np.float64), (n,)) / 1440.0
        out[d] = steady_state(pks[d], rate)
    return out
