"""The pain process: background cancer pain with progression, breakthrough episodes,
radiotherapy relief. Pure functions over patient arrays; randomness from counter streams.

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

from idds.physiology.cohort import Cohort, PainTraits
from idds.physiology.parameters import PAIN
from idds.physiology.streams import Stream, normal, uniform

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


def background_drive(traits: PainTraits, t_min: float, relief_start_min: Array) -> Array:
    """Background pain drive (NRS points) at time t_min.

    Linear progression from drive0 (patient-specific pace); radiotherapy responders lose
    `radiotherapy_relief_fraction` of it over one week from their response time
    (relief_start_min, +inf for none).
    """
    drive = traits.drive0_nrs + traits.progression_nrs_per_day * (t_min / _MIN_PER_DAY)
    since = t_min - relief_start_min
    ramp = np.clip(since / (7.0 * _MIN_PER_DAY), 0.0, 1.0)
    out: Array = drive * (1.0 - PAIN.radiotherapy_relief_fraction * ramp)
    return out


def onset_rate_per_min(traits: PainTraits, time_of_day_min: float) -> Array:
    """Breakthrough onset rate per minute at a time of day (min after midnight)."""
    daily = traits.breakthrough_per_day
    h = PAIN.activity_half_width_min
    incident = np.zeros(daily.shape)
    for k in range(traits.activity_times_min.shape[0]):
        d = np.abs(traits.activity_times_min[k] - time_of_day_min)
        d = np.minimum(d, _MIN_PER_DAY - d) * (1.0 / h)
        u = 1.0 - np.minimum(d * d, 1.0)
        incident += traits.activity_weights[k] * (u * u)
    incident *= 15.0 / (16.0 * h)
    out: Array = daily * (
        traits.incident_fraction * incident + (1.0 - traits.incident_fraction) / _MIN_PER_DAY
    )
    return out


def episode_increment(ep: Episodes, t_min: float) -> Array:
    """Added pain drive (NRS points) of the current episode at t_min; 0 outside an episode."""
    s = t_min - ep.onset_min
    rise = s / ep.time_to_peak_min
    fall = (ep.duration_min - s) / (ep.duration_min - ep.time_to_peak_min)
    shape = np.minimum(rise, fall)
    out: Array = ep.amplitude_nrs * np.clip(shape, 0.0, 1.0)
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
    if not onset.any():
        return ep, onset
    keys = cohort.keys[onset]
    ttp = traits.time_to_peak_min[onset] * np.exp(
        0.5 * normal(keys, Stream.TIME_TO_PEAK, counter) * 0.7
    )
    ttp = np.clip(ttp, 2.0, 15.0)
    dur = traits.duration_min[onset] * np.exp(0.2 * normal(keys, Stream.DURATION, counter))
    dur = np.clip(dur, np.maximum(ttp + 5.0, 20.0), 120.0)
    amp = traits.amplitude_nrs[onset] * np.exp(0.25 * normal(keys, Stream.AMPLITUDE, counter))
    new = Episodes(
        onset_min=ep.onset_min.copy(),
        time_to_peak_min=ep.time_to_peak_min.copy(),
        duration_min=ep.duration_min.copy(),
        amplitude_nrs=ep.amplitude_nrs.copy(),
    )
    new.onset_min[onset] = t_min
    new.time_to_peak_min[onset] = ttp
    new.duration_min[onset] = dur
    new.amplitude_nrs[onset] = amp
    return new, onset


def perceived_nrs(drive: Array, relief: Array) -> Array:
    """Perceived pain on the 0-10 NRS after analgesia."""
    out: Array = np.clip(drive * (1.0 - relief), 0.0, 10.0)
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
