"""Symptoms of long-term therapy, graded 0-4 as trials grade them (NCI CTCAE), and the
items of a weekly symptom inventory (MDASI). Pure functions over patient arrays.

The fast physiology step (`model.step`) computes what changes within minutes (analgesia,
breathing, sedation, withdrawal). Everything here changes over hours to weeks, so it is
evaluated over an interval (a day in trials, a step in `simulate_patient`) from the mean
exposures of that interval: `advance(state, exposure, ...)` returns the interval's symptom
intensities (0-10) and the adaptation state after it. Parameters and their sources are in
`idds.physiology.parameters.SymptomParams`.

Drivers (ref: "the exposure that causes it"):
- constipation: plasma morphine equivalents plus swallowed drug still in the gut; no
  tolerance;
- nausea (and vomiting from it): supraspinal exposure (area postrema), complete adaptation
  over days, returning after increases;
- somnolence: the day's mean sedation of the step model (partial tolerance);
  confusion: the same exposure at twice its C50;
- pruritus and urinary retention: spinal exposure, 90% adaptation over about a week;
- fatigue, lack of appetite, disturbed sleep: the cancer's own burden plus what opioid
  effects and pain at night add;
- respiratory depression: graded from the day's lowest respiratory rate (only below 10/min).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

from idds.physiology.parameters import SYMPTOMS, SymptomParams
from idds.physiology.pd import Sensitivity, hill

Array = NDArray[np.float64]
_MIN_PER_DAY = 1440.0


class Symptom(IntEnum):
    """The treatment-related toxicities graded in trials of implanted pumps against CMM (ref);
    the composite toxicity is the sum of their grades. Row order of every symptom array."""

    CONSTIPATION = 0
    NAUSEA = 1
    VOMITING = 2
    SOMNOLENCE = 3
    FATIGUE = 4
    CONFUSION = 5
    ANOREXIA = 6
    PRURITUS = 7
    URINARY_RETENTION = 8
    RESPIRATORY_DEPRESSION = 9

    @property
    def label(self) -> str:
        return self.name.lower()


N_SYMPTOMS = len(Symptom)
#: Symptoms whose CTCAE scale has a grade 4 (life-threatening) from intensity alone.
_GRADE4 = (Symptom.CONSTIPATION, Symptom.SOMNOLENCE)


class Item(IntEnum):
    """Items of the weekly symptom inventory, modelled on the MDASI (ref): the core items the
    model represents and two interference items. Row order of every inventory array."""

    PAIN = 0
    FATIGUE = 1
    NAUSEA = 2
    DISTURBED_SLEEP = 3
    LACK_OF_APPETITE = 4
    DROWSINESS = 5
    VOMITING = 6
    DIFFICULTY_REMEMBERING = 7
    GENERAL_ACTIVITY = 8
    MOOD = 9

    @property
    def label(self) -> str:
        return self.name.lower()


N_ITEMS = len(Item)


@dataclass(frozen=True)
class SymptomTraits:
    """Per-patient susceptibilities (multipliers or maximal intensities) and the cancer's own
    burden (0-10), arrays (n,). The `*_rotated` ones apply after an opioid rotation (each
    opioid has its own side-effect profile in a patient: the reason rotation helps)."""

    constipation_max: Array
    nausea_max: Array
    somnolence: Array
    confusion: Array
    pruritus_max: Array
    urinary_max: Array
    fatigue_cancer: Array
    anorexia_cancer: Array
    sleep_cancer: Array
    nausea_max_rotated: Array
    somnolence_rotated: Array
    confusion_rotated: Array

    def take(self, index: NDArray[np.intp]) -> SymptomTraits:
        return SymptomTraits(**{k: v[index] for k, v in self.__dict__.items()})


@dataclass(frozen=True)
class SymptomState:
    """Adaptation levels (ng/mL of the driving exposure) of nausea and of the spinal effects,
    arrays (n,): the exposure each has adapted to."""

    nausea_adapted: Array
    spinal_adapted: Array

    @staticmethod
    def adapted_to(supraspinal: Array, spinal: Array) -> SymptomState:
        """Fully adapted to the given exposures (a stable prior regimen)."""
        return SymptomState(supraspinal.copy(), spinal.copy())


@dataclass(frozen=True)
class IntervalExposure:
    """Means over an interval, arrays (n,).

    supraspinal, spinal, plasma: morphine-equivalent ng/mL (as `pd.SiteExposure`); gut_mg:
    morphine-equivalent mg in the gut depot; sedation: mean of the step model's sedation
    (0-1); respiratory_rate_min: lowest rate, breaths/min; woken_night: 1 if pain woke the
    patient in the night (0-1)."""

    supraspinal: Array
    spinal: Array
    plasma: Array
    gut_mg: Array
    sedation: Array
    respiratory_rate_min: Array
    woken_night: Array


@dataclass(frozen=True)
class Care:
    """Supportive care in force, arrays (n,) of bool: intensified laxatives, antiemetic,
    psychostimulant, and a rotation to another opioid. Usual laxatives are given to every
    patient on opioids (always on)."""

    laxative_intensified: NDArray[np.bool_]
    antiemetic: NDArray[np.bool_]
    psychostimulant: NDArray[np.bool_]
    rotated: NDArray[np.bool_]

    @staticmethod
    def usual(n: int) -> Care:
        no = np.zeros(n, dtype=bool)
        return Care(no, no.copy(), no.copy(), no.copy())


@dataclass(frozen=True)
class SymptomInterval:
    """Symptoms over one interval, arrays (n,) unless noted.

    intensity: (N_SYMPTOMS, n), 0-10 (respiratory depression: 10 x the fall of the lowest rate
    below the patient's own); vomiting_episodes: a day; disturbed_sleep 0-10; intake: share of
    usual eating, 0-1."""

    intensity: Array
    vomiting_episodes: Array
    disturbed_sleep: Array
    intake: Array


def _adapt(level: Array, exposure: Array, dt_min: float, half_life_days: float) -> Array:
    """Adaptation level after dt: first-order approach to the exposure."""
    keep = float(np.exp(-np.log(2.0) * dt_min / (half_life_days * _MIN_PER_DAY)))
    out: Array = exposure + (level - exposure) * keep
    return out


def advance(
    state: SymptomState,
    exposure: IntervalExposure,
    sensitivity: Sensitivity,
    traits: SymptomTraits,
    care: Care,
    dt_min: float,
    p: SymptomParams = SYMPTOMS,
) -> tuple[SymptomState, SymptomInterval]:
    """Symptoms over an interval of dt_min minutes and the adaptation state after it.

    sensitivity: the patients' PD parameters (the analgesic supraspinal C50 x chronic
    tolerance factor scales nausea; the tolerance factor gives spinal cross-tolerance; the
    drug-free respiratory rate grades breathing). Intensities use the adaptation at the start
    of the interval.
    """
    e = exposure
    tolerance_factor = sensitivity.tolerance_factor
    c50_supraspinal_tolerant = sensitivity.c50_supraspinal_ng_per_ml * tolerance_factor
    # constipation: no tolerance
    drive = e.plasma + p.constipation_gut_ng_per_ml_per_mg * e.gut_mg
    laxative = np.where(care.laxative_intensified, p.laxative_intensified_relief,
                        p.laxative_relief)
    constipation = traits.constipation_max * hill(drive, p.constipation_c50_ng_per_ml, 1.0)
    constipation *= 1.0 - laxative
    # nausea: adapts completely over days
    new_naus = e.supraspinal - p.nausea_adapted_fraction * state.nausea_adapted
    nausea_max = np.where(care.rotated, traits.nausea_max_rotated, traits.nausea_max)
    nausea = nausea_max * hill(new_naus, p.nausea_c50_multiple * c50_supraspinal_tolerant,
                                p.hill_nausea)
    nausea *= np.where(care.antiemetic, 1.0 - p.antiemetic_relief, 1.0)
    vomiting = np.maximum(nausea - p.vomiting_from_nausea, 0.0) * p.vomiting_episodes_per_point
    # somnolence and confusion: the step model's sedation (partial tolerance); a patient's
    # susceptibility scales the odds (its C50), so deep sedation is 10 in everyone
    sed = np.clip(e.sedation, 0.0, 1.0 - 1e-12)
    odds = sed / (1.0 - sed)
    som = odds * np.where(care.rotated, traits.somnolence_rotated, traits.somnolence)
    somnolence = 10.0 * som / (1.0 + som)
    somnolence *= np.where(care.psychostimulant, 1.0 - p.psychostimulant_relief, 1.0)
    conf = odds * np.where(care.rotated, traits.confusion_rotated, traits.confusion)
    conf /= p.confusion_c50_multiple**2  # Hill 2 at a C50 k times higher
    confusion = 10.0 * conf / (1.0 + conf)
    # pruritus and urinary retention: spinal, adapt 90% over about a week
    new_spinal = e.spinal - p.spinal_adapted_fraction * state.spinal_adapted
    spinal_tf = tolerance_factor**p.spinal_tolerance_exponent
    pruritus = traits.pruritus_max * hill(new_spinal, p.pruritus_c50_ng_per_ml * spinal_tf,
                                           p.hill_spinal)
    urinary = traits.urinary_max * hill(
        new_spinal, p.urinary_retention_c50_ng_per_ml * spinal_tf, p.hill_spinal)
    # the cancer's own burden plus what opioid effects and pain at night add
    sleep = traits.sleep_cancer + p.sleep_from_woken_night * e.woken_night
    fatigue = (traits.fatigue_cancer + p.fatigue_from_somnolence * somnolence
               + p.fatigue_from_sleep * sleep)
    anorexia = (traits.anorexia_cancer + p.anorexia_from_nausea * nausea
                + p.anorexia_from_constipation * constipation)
    breathing = 10.0 * np.clip(
        1.0 - e.respiratory_rate_min / sensitivity.respiratory_rate_baseline_per_min, 0.0, 1.0)
    intensity = np.clip(np.stack([
        constipation, nausea, np.minimum(vomiting, 10.0), somnolence, fatigue, confusion,
        anorexia, pruritus, urinary, breathing,
    ]), 0.0, 10.0)
    intake = np.clip(1.0 - p.intake_loss_per_anorexia * intensity[Symptom.ANOREXIA]
                     - p.intake_loss_per_nausea * intensity[Symptom.NAUSEA], 0.0, 1.0)
    new_state = SymptomState(
        nausea_adapted=_adapt(state.nausea_adapted, e.supraspinal, dt_min,
                              p.nausea_adaptation_half_life_days),
        spinal_adapted=_adapt(state.spinal_adapted, e.spinal, dt_min,
                              p.spinal_adaptation_half_life_days),
    )
    return new_state, SymptomInterval(
        intensity=intensity,
        vomiting_episodes=vomiting,
        disturbed_sleep=np.clip(sleep, 0.0, 10.0),
        intake=intake,
    )


def grades(day: SymptomInterval, respiratory_rate_min: Array,
           p: SymptomParams = SYMPTOMS) -> NDArray[np.int8]:
    """CTCAE-style grade 0-4 of every symptom, shape (N_SYMPTOMS, n), int8.

    Intensity cut-points (`SymptomParams.grade*_from`) for all but vomiting (episodes a day)
    and respiratory depression (lowest rate: only below 10/min counts)."""
    x = day.intensity
    g = ((x >= p.grade1_from).astype(np.int8) + (x >= p.grade2_from) + (x >= p.grade3_from))
    g = g.astype(np.int8)
    for s in _GRADE4:
        g[s] += (x[s] >= p.grade4_from).astype(np.int8)
    g[Symptom.VOMITING] = sum(
        (day.vomiting_episodes >= k).astype(np.int8) for k in p.vomiting_grade_from_episodes)
    g[Symptom.RESPIRATORY_DEPRESSION] = sum(
        (respiratory_rate_min < rate).astype(np.int8) for rate in p.respiratory_grade_below_per_min)
    return g


def composite(grade: NDArray[np.int8]) -> Array:
    """Composite toxicity: the sum of the grades of the treatment-related toxicities, as the
    trials of implanted pumps against CMM scored it (ref). grade: (N_SYMPTOMS, ...)."""
    out: Array = grade.sum(axis=0, dtype=np.float64)
    return out


def inventory(day: SymptomInterval, pain_nrs: Array, p: SymptomParams = SYMPTOMS) -> Array:
    """The inventory items (N_ITEMS, n), 0-10, for an interval with mean pain `pain_nrs`."""
    x = day.intensity
    fatigue, drowsy = x[Symptom.FATIGUE], x[Symptom.SOMNOLENCE]
    a, m = p.activity_weights, p.mood_weights
    activity = a[0] * pain_nrs + a[1] * fatigue + a[2] * drowsy
    mood = (m[0] * pain_nrs + m[1] * fatigue + m[2] * day.disturbed_sleep
            + m[3] * x[Symptom.NAUSEA])
    out: Array = np.clip(np.stack([
        pain_nrs, fatigue, x[Symptom.NAUSEA], day.disturbed_sleep, x[Symptom.ANOREXIA], drowsy,
        x[Symptom.VOMITING], x[Symptom.CONFUSION], activity, mood,
    ]), 0.0, 10.0)
    return out


def weight_after(weight_kg: Array, intake: Array, dt_min: float,
                 p: SymptomParams = SYMPTOMS) -> Array:
    """Body weight after an interval: cancer cachexia plus the shortfall of intake."""
    days = dt_min / _MIN_PER_DAY
    loss = (p.cachexia_per_day + p.weight_loss_per_day_at_no_intake * (1.0 - intake)) * days
    out: Array = weight_kg * (1.0 - loss)
    return out


def sample_traits(z: dict[str, Array], p: SymptomParams = SYMPTOMS) -> SymptomTraits:
    """Per-patient traits from standard normal random effects keyed by `TRAIT_STREAMS`."""

    def lognormal(median: float, omega: float, name: str) -> Array:
        out: Array = median * np.exp(omega * z[name])
        return out

    def cancer(spec: tuple[float, float], name: str) -> Array:
        out: Array = np.clip(spec[0] + spec[1] * z[name], 0.0, 8.0)
        return out

    return SymptomTraits(
        constipation_max=lognormal(p.constipation_max_median, p.constipation_max_omega,
                                   "constipation"),
        nausea_max=lognormal(p.nausea_max_median, p.nausea_max_omega, "nausea"),
        somnolence=lognormal(p.somnolence_median, p.somnolence_omega, "somnolence"),
        confusion=lognormal(p.confusion_median, p.confusion_omega, "confusion"),
        pruritus_max=lognormal(p.pruritus_max_median, p.pruritus_max_omega, "pruritus"),
        urinary_max=lognormal(p.urinary_max_median, p.urinary_max_omega, "urinary"),
        fatigue_cancer=cancer(p.fatigue_cancer, "fatigue"),
        anorexia_cancer=cancer(p.anorexia_cancer, "anorexia"),
        sleep_cancer=cancer(p.sleep_cancer, "sleep"),
        nausea_max_rotated=lognormal(p.nausea_max_median, p.nausea_max_omega, "nausea_rotated"),
        somnolence_rotated=lognormal(p.somnolence_median, p.somnolence_omega,
                                     "somnolence_rotated"),
        confusion_rotated=lognormal(p.confusion_median, p.confusion_omega, "confusion_rotated"),
    )


#: Random-effect names of `sample_traits`; the position is the stream offset (do not reorder).
TRAIT_STREAMS = (
    "constipation", "nausea", "somnolence", "confusion", "pruritus", "urinary", "fatigue",
    "anorexia", "sleep", "nausea_rotated", "somnolence_rotated", "confusion_rotated",
)
