"""The vectorised virtual-patient step: `step(state, cohort, deliveries, dt_min)`.

Time is the caller's: `CohortState.t_min` (minutes since midnight of day 0) advances by dt_min
per step and `step_index` counts steps (it is the counter of the random streams, so the same
seed and schedule give the same result). No wall clock anywhere.

Order within a step (t -> t + dt):
1. PK advances exactly; inputs (and any oral rescue decided in the previous step) are
   constant-rate infusions over the step.
2. Site exposures at t + dt; tolerance states move toward occupancy (t1/2 26 h).
3. Effects at t + dt; background pain and breakthrough episodes (onsets in (t, t + dt]).
4. Perceived pain; behaviour (remote press, oral rescue for the next step, diary entry).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from idds.physiology import backend, behaviour, kernel, pain
from idds.physiology.cohort import Cohort, steady_state_states
from idds.physiology.errors import PhysiologyError
from idds.physiology.exposure import site_exposure
from idds.physiology.parameters import PAIN, PD
from idds.physiology.pd import Effects, SiteExposure, effects, occupancy, tolerance_update
from idds.physiology.pk import (
    N_COMPARTMENTS,
    N_INPUTS,
    Propagator,
    advance,
    advance_terms,
    csf_ng_per_ml,
    plasma_ng_per_ml,
)
from idds.physiology.streams import Stream, uniform

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Delivery:
    """Drug delivered to each patient during one step, mg (scalars or arrays of shape (n,)).

    gut_mg: oral; plasma_mg: intravenous; csf_mg: intrathecal (lumbar CSF).
    """

    drug: str
    gut_mg: ArrayLike = 0.0
    plasma_mg: ArrayLike = 0.0
    csf_mg: ArrayLike = 0.0


@dataclass(frozen=True)
class CohortState:
    """The state of a cohort at time t_min. Arrays have patients on the last axis."""

    t_min: float
    step_index: int
    #: PK states, shape (n_drugs, 7, n): mg in gut, plasma, lumbar and rostral CSF; ng/mL at
    #: the brain, spinal and brainstem effect sites (see `idds.physiology.pk`).
    pk: Array
    #: Dynamic tolerance states (0-1), supraspinal and spinal, shape (n,).
    tol_supra: Array
    tol_spinal: Array
    episodes: pain.Episodes
    #: Time of the last remote press / oral rescue, min (-inf if none).
    last_press_min: Array
    last_rescue_min: Array
    #: Oral morphine rescue decided at the end of the last step, to be swallowed now, mg.
    pending_rescue_mg: Array
    #: Time radiotherapy relief begins for responders, min (+inf: none).
    relief_start_min: Array
    #: Multiplier of the background pain drive from co-analgesics, (n,); None: nobody on one.
    coanalgesic_factor: Array | None = None


@dataclass(frozen=True)
class StepOutputs:
    """What a step produces, at the end of the step (t_min). Arrays (n,) unless noted."""

    t_min: float
    #: Per-drug concentrations, shape (n_drugs, n), ng/mL, in `Cohort.drugs` order.
    plasma_ng_per_ml: Array
    csf_ng_per_ml: Array
    exposure: SiteExposure
    effects: Effects
    background_nrs_drive: Array
    breakthrough_nrs_drive: Array
    breakthrough_onset: NDArray[np.bool_]
    #: Perceived pain, NRS 0-10.
    pain_nrs: Array
    #: Patient wants a bolus now (the pump decides whether one is given).
    wants_bolus: NDArray[np.bool_]
    #: Oral morphine rescue the patient decided to take (swallowed during the next step), mg.
    oral_rescue_mg: Array
    #: Diary entry (whole NRS 0-10) or NaN when no diary is due in this step.
    diary_nrs: Array
    #: Respiratory depression event now (rate below the event threshold), bool.
    respiratory_event: NDArray[np.bool_]


def initial_state(
    cohort: Cohort, t0_min: float = 0.0, on_prior_regimen: bool = True
) -> CohortState:
    """The state at t0_min (minutes after midnight of day 0).

    on_prior_regimen: PK and tolerance at steady state of the patient's prior continuous oral
    morphine (`Cohort.prior_oral_morphine_mg_per_day`); stopping it abruptly causes
    withdrawal. Otherwise drug-free with the dynamic tolerance at zero (chronic tolerance stays
    in `Sensitivity.tolerance_factor`).
    """
    n = cohort.n
    if on_prior_regimen:
        pk_state = steady_state_states(
            cohort.drugs,
            cohort.pk,
            cohort.sensitivity,
            {"morphine": (cohort.prior_oral_morphine_mg_per_day, 0.0, 0.0)},
        )
        exp = site_exposure(pk_state, cohort.drug_params, cohort.pk)
        tol_supra, tol_spinal = occupancy(exp, cohort.sensitivity)
    else:
        pk_state = np.zeros((len(cohort.drugs), N_COMPARTMENTS, n))
        tol_supra, tol_spinal = np.zeros(n), np.zeros(n)
    return CohortState(
        t_min=float(t0_min),
        step_index=0,
        pk=pk_state,
        tol_supra=tol_supra,
        tol_spinal=tol_spinal,
        episodes=pain.Episodes.none(n),
        last_press_min=np.full(n, -np.inf),
        last_rescue_min=np.full(n, -np.inf),
        pending_rescue_mg=np.zeros(n),
        relief_start_min=np.full(n, np.inf),
    )


def on_backend(cohort: Cohort, state: CohortState, dt_min: float, xp: Any
               ) -> tuple[Cohort, CohortState]:
    """The cohort and state copied onto the array backend `xp`
    (`idds.physiology.backend.namespace`), with the cohort's propagators for steps of
    `dt_min` computed here first (scipy's expm) and moved with it: `reference_step` on them
    runs on that backend."""
    moved = backend.to_backend(cohort, xp)
    moved.use_propagators(dt_min, backend.to_backend(cohort.propagators(dt_min), xp))
    return moved, backend.to_backend(state, xp)


def _amounts(cohort: Cohort, deliveries: Sequence[Delivery]) -> Iterator[tuple[int, int, Array]]:
    """Each delivered amount as (drug index, route: gut, plasma, lumbar CSF, mg: a scalar array
    or shape (n,)); refuses another shape, and negative, infinite or NaN amounts."""
    n = cohort.n
    xp = backend.of(cohort.keys)
    for dl in deliveries:
        d = cohort.drug_index(dl.drug)
        for r, amount in enumerate((dl.gut_mg, dl.plasma_mg, dl.csf_mg)):
            a = xp.asarray(amount, dtype=xp.float64)
            if a.ndim > 1 or (a.ndim == 1 and a.shape[0] != n):
                raise PhysiologyError(f"delivery of {dl.drug} must be a scalar or shape ({n},)")
            if a.size:
                lo, hi = ((float(a), float(a)) if a.ndim == 0
                          else (float(xp.min(a)), float(xp.max(a))))
                if not (lo >= 0.0 and hi < np.inf):  # also refuses NaN
                    raise PhysiologyError(f"delivery of {dl.drug} must be finite and >= 0 mg")
            yield d, r, a


def _inputs(cohort: Cohort, deliveries: Sequence[Delivery], rescue_mg: Array) -> Array:
    """Delivered mg per drug and route, shape (n_drugs, 3, n); refuses negative amounts."""
    xp = backend.of(rescue_mg)
    zero = xp.zeros(cohort.n, dtype=xp.float64)
    rows = [[zero] * N_INPUTS for _ in cohort.drugs]
    for d, r, a in _amounts(cohort, deliveries):
        rows[d][r] = rows[d][r] + a
    rows[0][0] = rows[0][0] + rescue_mg  # morphine is always drug 0; rescue is oral
    out: Array = xp.stack([xp.stack(routes) for routes in rows])
    return out


def reference_step(
    state: CohortState, cohort: Cohort, deliveries: Sequence[Delivery], dt_min: float
) -> tuple[CohortState, StepOutputs]:
    """The readable form of `step` (same model, same results to round-off), composed of the
    per-topic modules; `tests/physiology/test_physiology_kernel.py` keeps the two equal.
    It runs on the array backend of its arrays (`on_backend`, `idds.physiology.backend`)."""
    xp = backend.of(state.pk)
    props = cohort.propagators(dt_min)
    delivered = _inputs(cohort, deliveries, state.pending_rescue_mg)
    pk_new = xp.stack([advance(state.pk[d, ...], prop, delivered[d, ...])
                       for d, prop in enumerate(props)])
    counter = state.step_index

    drugs = cohort.drug_params
    exp = site_exposure(pk_new, drugs, cohort.pk)
    occ_supra, occ_spinal = occupancy(exp, cohort.sensitivity)
    tol_supra = tolerance_update(state.tol_supra, occ_supra, dt_min)
    tol_spinal = tolerance_update(state.tol_spinal, occ_spinal, dt_min)
    eff = effects(exp, cohort.sensitivity, tol_supra, tol_spinal, occ_supra)

    episodes, onset = pain.advance_episodes(state.episodes, cohort, state.t_min, dt_min, counter)
    plasma = xp.stack([plasma_ng_per_ml(pk_new[d, ...], pk) for d, pk in enumerate(cohort.pk)])
    csf = xp.stack([csf_ng_per_ml(pk_new[d, ...], pk) for d, pk in enumerate(cohort.pk)])
    return _finish(state, cohort, dt_min, pk_new, (tol_supra, tol_spinal), episodes, onset,
                   (plasma, csf, exp, eff))


def _input_rates(
    cohort: Cohort, deliveries: Sequence[Delivery], rescue_mg: Array, dt_min: float
) -> list[list[Array | float | None]]:
    """Input rates in mg/min per drug and route (gut, plasma, lumbar CSF), as `_inputs` / dt;
    None where nothing is delivered (exact zeros are left out). Refuses negative amounts."""
    total: list[list[Array | float | None]] = [[None] * N_INPUTS for _ in cohort.drugs]
    for d, r, a in _amounts(cohort, deliveries):
        added: Array | float = float(a) if a.ndim == 0 else a
        if a.ndim == 0 and added == 0.0:
            continue
        old = total[d][r]
        total[d][r] = added if old is None else old + added
    if rescue_mg.any():  # morphine is always drug 0; rescue is oral
        old = total[0][0]
        total[0][0] = rescue_mg if old is None else old + rescue_mg
    per_min = 1.0 / dt_min
    return [[None if v is None else v * per_min for v in routes] for routes in total]


def _advance_pk(
    state: CohortState, k: kernel.StepConstants, rates: list[list[Array | float | None]]
) -> Array:
    """PK states after the step, (n_drugs, 7, n); a drug-free drug without input stays 0."""
    pk_new = np.empty_like(state.pk)
    for d, prop in enumerate(k.propagators):
        if all(r is None for r in rates[d]) and not state.pk[d].any():
            pk_new[d] = 0.0
        else:
            advance_terms(state.pk[d], prop, rates[d], out=pk_new[d])
    return pk_new


def _onsets(
    state: CohortState, cohort: Cohort, k: kernel.StepConstants, dt_min: float
) -> tuple[pain.Episodes, NDArray[np.bool_]]:
    """`pain.advance_episodes` with the onset rate from `kernel.onsets_per_step`."""
    t = state.t_min
    ep = state.episodes
    p = kernel.onsets_per_step(k, (t + 0.5 * dt_min) % 1440.0)
    # P(at least one onset) = 1 - exp(-rate dt), to second order, as in pain.advance_episodes
    q = p * -0.5
    q += 1.0
    p *= q
    onset = uniform(cohort.keys, Stream.ONSET, state.step_index) < p
    onset &= t - ep.onset_min >= ep.duration_min  # no onset during an episode
    return pain.start_episodes(ep, cohort, t, onset, state.step_index), onset


def step(
    state: CohortState, cohort: Cohort, deliveries: Sequence[Delivery], dt_min: float
) -> tuple[CohortState, StepOutputs]:
    """Advance the cohort by dt_min minutes with the given deliveries (mg during the step).

    The fast form (`idds.physiology.kernel`) of `reference_step`; same order of operations.
    """
    if not all(isinstance(p, Propagator) for p in cohort.propagators(dt_min)):
        # a stand-in propagator (e.g. an ODE-solver oracle in a benchmark) takes the
        # readable path, whose `advance` is the seam
        return reference_step(state, cohort, deliveries, dt_min)
    k = kernel.constants(cohort, dt_min)
    rates = _input_rates(cohort, deliveries, state.pending_rescue_mg, dt_min)
    pk_new = _advance_pk(state, k, rates)
    drugs = cohort.drug_params

    plasma, csf = kernel.concentrations(pk_new, k)
    sites, exp = kernel.site_exposure(pk_new, plasma, drugs)
    occ, tol = kernel.occupancy_and_tolerance(sites, state.tol_supra, state.tol_spinal, k)
    with_zic = any(not d.opioid for d in drugs)
    eff = kernel.effects(sites, exp, cohort, k, tol, occ[0], with_zic)

    episodes, onset = _onsets(state, cohort, k, dt_min)
    return _finish(state, cohort, dt_min, pk_new, (tol[0], tol[1]), episodes, onset,
                   (plasma, csf, exp, eff))


def _finish(
    state: CohortState,
    cohort: Cohort,
    dt_min: float,
    pk_new: Array,
    tol: tuple[Array, Array],
    episodes: pain.Episodes,
    onset: NDArray[np.bool_],
    exposure: tuple[Array, Array, SiteExposure, Effects],
) -> tuple[CohortState, StepOutputs]:
    """The part of a step both forms share: perceived pain, behaviour (remote press, oral
    rescue, diary) and the new state and outputs at t + dt."""
    plasma, csf, exp, eff = exposure
    xp = backend.of(pk_new)
    t_new = state.t_min + dt_min
    bg = pain.background_drive(cohort.pain, t_new, state.relief_start_min,
                               state.coanalgesic_factor)
    bt = pain.episode_increment(episodes, t_new)
    perceived = pain.perceived_nrs(bg + bt, eff.relief)

    press = behaviour.wants_bolus(
        perceived, cohort.press_threshold_nrs, state.last_press_min, t_new
    )
    if bool(xp.any(cohort.oral_rescue_mg)):
        rescue = behaviour.takes_rescue(
            perceived,
            cohort.press_threshold_nrs,
            bt > 0,
            cohort.oral_rescue_mg,
            state.last_rescue_min,
            t_new,
        )
        rescue_mg = xp.where(rescue, cohort.oral_rescue_mg, 0.0)
        last_rescue = xp.where(rescue, t_new, state.last_rescue_min)
    else:  # nobody has oral rescue: nothing to decide
        rescue_mg = xp.zeros(cohort.n, dtype=xp.float64)
        last_rescue = state.last_rescue_min
    if behaviour.diary_due(state.t_min, dt_min):
        diary = behaviour.diary_entry(perceived, cohort.keys, state.step_index)
    else:
        diary = xp.full(cohort.n, math.nan, dtype=xp.float64)

    new_state = CohortState(
        t_min=t_new,
        step_index=state.step_index + 1,
        pk=pk_new,
        tol_supra=tol[0],
        tol_spinal=tol[1],
        episodes=episodes,
        last_press_min=xp.where(press, t_new, state.last_press_min),
        last_rescue_min=last_rescue,
        pending_rescue_mg=rescue_mg,
        relief_start_min=state.relief_start_min,
        coanalgesic_factor=state.coanalgesic_factor,
    )
    out = StepOutputs(
        t_min=t_new,
        plasma_ng_per_ml=plasma,
        csf_ng_per_ml=csf,
        exposure=exp,
        effects=eff,
        background_nrs_drive=bg,
        breakthrough_nrs_drive=bt,
        breakthrough_onset=onset,
        pain_nrs=perceived,
        wants_bolus=press,
        oral_rescue_mg=rescue_mg,
        diary_nrs=diary,
        respiratory_event=eff.respiratory_rate_per_min < PD.respiratory_event_threshold_per_min,
    )
    return new_state, out


def start_radiotherapy(state: CohortState, cohort: Cohort, mask: ArrayLike = True) -> CohortState:
    """Palliative radiotherapy now for patients in mask: ~60% respond after a median 4 weeks
    (van der Velden 2018, ref); a responder's background drive falls by half over a week."""
    m = np.broadcast_to(np.asarray(mask, dtype=bool), (cohort.n,))
    start = pain.radiotherapy_relief_start(cohort, state.t_min, m)
    relief = np.minimum(start, state.relief_start_min)
    return replace(state, relief_start_min=relief)


def start_coanalgesics(state: CohortState, mask: ArrayLike) -> CohortState:
    """An optimised co-analgesic from now for the patients in mask (once per patient): the
    background drive falls by `PainParams.coanalgesic_relief_fraction` (assumption)."""
    m = np.asarray(mask, dtype=bool)
    if not m.any():
        return state
    old = np.ones(m.shape) if state.coanalgesic_factor is None else state.coanalgesic_factor
    on = old < 1.0
    factor = np.where(m & ~on, old * (1.0 - PAIN.coanalgesic_relief_fraction), old)
    return replace(state, coanalgesic_factor=factor)
