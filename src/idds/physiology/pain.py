"""The pain process: background cancer pain with progression, breakthrough episodes,
radiotherapy relief. Pure functions over patient arrays (the step's on any array backend,
`idds.physiology.backend`); randomness from counter streams.

Pain "drive" is the nociceptive input on the NRS scale before analgesia (it may exceed 10 in
patients whose current therapy holds them at NRS 7-8). Perceived NRS = clip(drive x (1 -
relief), 0, 10), see `perceived_nrs`.

Breakthrough episodes (Davies 2013; Portenoy 1999, ref): onsets form a Poisson process whose
rate has a spontaneous part (uniform over the day) and an incident part concentrated around
the patient's preferred activity times (a biweight kernel of half-width 60 min, SD 23 min,
around each; a polynomial, cheaper than a Gaussian), so a
controller can learn when in the day pain comes. An episode rises linearly to its peak in
`time_to_peak` (3-10 min) and falls linearly to zero at `duration` (untreated 45-60 min). One
episode at a time per patient: onsets during an episode are not started, so the realised
frequency is slightly below the onset rate (about 12% at 4.2/day).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from idds.physiology import backend
from idds.physiology.cohort import Cohort, PainTraits
from idds.physiology.parameters import PAIN
from idds.physiology.streams import Stream, normal, normals, uniform

Array = NDArray[np.float64]
_MIN_PER_DAY = 1440.0
#: Onset time meaning "no episode yet", min.
NO_EPISODE = -1e18


@dataclass(frozen=True)
class Episodes:
    """The current (or last) breakthrough episode per patient, times in min.

    onset_min is `NO_EPISODE` (far in the past) if there has been none.
    """

    onset_min: Array
    time_to_peak_min: Array
    duration_min: Array
    amplitude_nrs: Array

    @staticmethod
    def none(n: int) -> Episodes:
        return Episodes(np.full(n, NO_EPISODE), np.ones(n), np.full(n, 2.0), np.zeros(n))


def background_drive(traits: PainTraits, t_min: float, relief_start_min: Array,
                     factor: Array | None = None) -> Array:
    """Background pain drive (NRS points) at time t_min.

    Linear progression from drive0 (patient-specific pace), times `factor` (co-analgesics;
    None: 1); radiotherapy responders lose `radiotherapy_relief_fraction` of it over one week
    from their response time (relief_start_min, +inf for none).
    """
    xp = backend.of(relief_start_min)
    drive = traits.progression_nrs_per_day * (t_min / _MIN_PER_DAY)
    drive += traits.drive0_nrs
    if factor is not None:
        drive *= factor
    if relief_start_min.size == 0 or float(xp.min(relief_start_min)) >= t_min:
        return drive  # no relief yet for anyone: the factor below is exactly 1
    since = t_min - relief_start_min
    ramp = xp.clip(since / (7.0 * _MIN_PER_DAY), 0.0, 1.0)
    out: Array = drive * (1.0 - PAIN.radiotherapy_relief_fraction * ramp)
    return out


def onset_rate_per_min(traits: PainTraits, time_of_day_min: float) -> Array:
    """Breakthrough onset rate per minute at a time of day (min after midnight)."""
    daily = traits.breakthrough_per_day
    xp = backend.of(daily)
    h = PAIN.activity_half_width_min
    incident = xp.zeros(daily.shape, dtype=xp.float64)
    for k in range(traits.activity_times_min.shape[0]):
        d = xp.abs(traits.activity_times_min[k, ...] - time_of_day_min)
        d = xp.minimum(d, _MIN_PER_DAY - d) * (1.0 / h)
        u = 1.0 - xp.minimum(d * d, 1.0)
        incident += traits.activity_weights[k, ...] * (u * u)
    incident *= 15.0 / (16.0 * h)
    out: Array = daily * (
        traits.incident_fraction * incident + (1.0 - traits.incident_fraction) / _MIN_PER_DAY
    )
    return out


def episode_increment(ep: Episodes, t_min: float) -> Array:
    """Added pain drive (NRS points) of the current episode at t_min; 0 outside an episode."""
    xp = backend.of(ep.onset_min)
    s = t_min - ep.onset_min
    fall = (ep.duration_min - s) / (ep.duration_min - ep.time_to_peak_min)
    rise = s / ep.time_to_peak_min
    out: Array = xp.clip(xp.minimum(rise, fall), 0.0, 1.0) * ep.amplitude_nrs
    return out


def advance_episodes(
    ep: Episodes, cohort: Cohort, t_min: float, dt_min: float, counter: int
) -> tuple[Episodes, NDArray[np.bool_]]:
    """Start new episodes over (t_min, t_min + dt_min]; returns (episodes, onset mask)."""
    traits = cohort.pain
    tod = (t_min + 0.5 * dt_min) % _MIN_PER_DAY
    rate_dt = onset_rate_per_min(traits, tod) * dt_min
    # P(at least one onset) = 1 - exp(-rate dt), to second order (rate dt < 0.1 here).
    p = rate_dt * (1.0 - 0.5 * rate_dt)
    active = t_min - ep.onset_min < ep.duration_min
    onset = (uniform(cohort.keys, Stream.ONSET, counter) < p) & ~active
    return start_episodes(ep, cohort, t_min, onset, counter), onset


def start_episodes(
    ep: Episodes, cohort: Cohort, t_min: float, onset: NDArray[np.bool_], counter: int
) -> Episodes:
    """Episodes with new ones starting at t_min for the patients in onset (ep if none).
    On numpy only the patients with an onset are drawn (about 1 in 70 a step); on another
    array backend every patient is, and the onsets are selected (the same numbers: each
    patient's draws depend on its key and the counter only)."""
    xp = backend.of(onset)
    if not bool(xp.any(onset)):
        return ep
    traits = cohort.pain
    if xp is not np:
        drawn = _episode_draws(traits.time_to_peak_min, traits.duration_min,
                               traits.amplitude_nrs, cohort.keys, counter)
        old = (ep.time_to_peak_min, ep.duration_min, ep.amplitude_nrs)
        return Episodes(xp.where(onset, t_min, ep.onset_min),
                        *(xp.where(onset, d, o) for d, o in zip(drawn, old, strict=True)))
    idx = np.flatnonzero(onset)
    new = np.stack((ep.onset_min, ep.time_to_peak_min, ep.duration_min, ep.amplitude_nrs))
    new[0, idx] = t_min
    new[1:, idx] = _episode_draws(traits.time_to_peak_min[idx], traits.duration_min[idx],
                                  traits.amplitude_nrs[idx], cohort.keys[idx], counter)
    return Episodes(*new)


def _episode_draws(time_to_peak_min: Array, duration_min: Array, amplitude_nrs: Array,
                   keys: NDArray[np.uint64], counter: int) -> tuple[Array, Array, Array]:
    """A new episode's time to peak, duration (min) and amplitude (NRS) around the patient's
    typical ones, from the patient's streams at this counter."""
    xp = backend.of(keys)
    z = normals(keys, (Stream.TIME_TO_PEAK, Stream.DURATION, Stream.AMPLITUDE), counter)
    ttp = time_to_peak_min * xp.exp(0.5 * z[0, ...] * 0.7)
    ttp = xp.minimum(xp.maximum(ttp, 2.0), 15.0)  # a clip, without its overhead
    dur = duration_min * xp.exp(0.2 * z[1, ...])
    dur = xp.minimum(xp.maximum(dur, xp.maximum(ttp + 5.0, 20.0)), 120.0)
    return ttp, dur, amplitude_nrs * xp.exp(0.25 * z[2, ...])


def perceived_nrs(drive: Array, relief: Array) -> Array:
    """Perceived pain on the 0-10 NRS after analgesia."""
    out: Array = backend.of(drive).clip(drive * (1.0 - relief), 0.0, 10.0)
    return out


def radiotherapy_relief_start(cohort: Cohort, t_min: float, mask: NDArray[np.bool_]) -> Array:
    """Response time (min) of radiotherapy started at t_min for patients in mask; +inf for
    non-responders and patients not treated (van der Velden 2018, ref: ~60% respond after a
    median 4 weeks)."""
    responder = uniform(cohort.keys, Stream.RADIOTHERAPY_RESPONDER, 0) < (
        PAIN.radiotherapy_response_fraction
    )
    delay_days = PAIN.radiotherapy_response_median_days * np.exp(
        0.4 * normal(cohort.keys, Stream.RADIOTHERAPY_DELAY, 0)
    )
    out: Array = np.where(mask & responder, t_min + delay_days * _MIN_PER_DAY, np.inf)
    return out
