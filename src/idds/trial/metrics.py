"""Trial metrics per arm, with 95% confidence intervals across the cohort.

Definitions (documented key by key in docs/trial.md):
- baseline: the run-in day on the prior oral regimen (the same for every arm);
- death is censoring: a patient counts only on the days alive (the history holds NaN after
  death), "the end" is a patient's last 7 days alive, and patients who died before day 1
  have no outcome;
- end of trial: the last 7 days alive (or all of them if fewer);
- pain change (%): per patient, (mean pain at the end - baseline) / baseline x 100;
- time in target (%), the primary metric: share of waking time alive (06:00-22:00) with NRS
  <= 3 on days without a treatment-related side effect at grade >= 2
  (`idds.trial.history.TARGET_SIDE_EFFECTS`), as diabetes systems are judged by time in range;
- time controlled / severe (%): share of all trial time alive with NRS <= 3 / >= 7;
- doses: mean daily oral and intrathecal morphine actually taken or delivered, and the oral
  morphine equivalent (OME) = oral + intrathecal x the library's intrathecal factor (300 mg
  oral per mg IT, the 300:1 ladder); the intrathecal dose is also said as a fraction of the
  same patients' prior oral dose (prior oral mg/day per IT mg/day: "1/N");
- composite toxicity: the sum of the CTCAE grades of the ten treatment-related toxicities
  (`idds.physiology.symptoms`); its change (%) as pain change;
- respiratory depression events per 100 patient-days (onsets of a rate below 8/min);
- severe side-effect days per 100 patient-days: days with a treatment-related side effect at
  CTCAE grade >= 3;
- clinical success (as in trials of these pumps): a >= 20% fall in pain, or no rise in pain
  with a >= 20% fall in toxicity;
- drug per unit of relief: mean OME (mg/day) divided by the mean fall in pain (NRS points),
  both over the whole trial (the same days: drug given early is weighed against the relief it
  gave early, not against the pain of the last week only).
Means use a t interval; shares use the Wilson interval; the event rate uses the exact Poisson
(Garwood) interval (the rare outcomes: respiratory depression, withdrawal, severe side
effects); the ratio uses a seeded bootstrap.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

END_DAYS = 7
SUCCESS_PAIN_FALL_PERCENT = 20.0
SUCCESS_TOXICITY_FALL_PERCENT = 20.0
BOOTSTRAP_RESAMPLES = 1000
#: Resampled patients drawn at once by a bootstrap (16 MB of indices): the memory of a
#: bootstrap interval stays bounded for a cohort of any size.
BOOTSTRAP_CELLS = 2_000_000


@dataclass(frozen=True)
class Estimate:
    """A mean (or share, or ratio) with its 95% confidence interval and sample size."""

    mean: float
    low: float
    high: float
    n: int

    def as_json(self) -> dict[str, float | int | None]:
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in asdict(self).items()}


def mean_ci(values: Array, confidence: float = 0.95) -> Estimate:
    """Mean and t interval of the finite values."""
    finite = values[np.isfinite(values)]
    n = int(finite.size)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    from scipy import stats  # imported here: scipy.stats is slow to load

    mean = float(finite.mean())
    if n == 1:
        return Estimate(mean, math.nan, math.nan, 1)
    sem = float(finite.std(ddof=1)) / math.sqrt(n)
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sem
    return Estimate(mean, mean - half, mean + half, n)


def share_ci(successes: NDArray[np.bool_], confidence: float = 0.95) -> Estimate:
    """Share in percent with the Wilson score interval."""
    n = int(successes.size)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    from scipy import stats

    p = float(successes.mean())
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Estimate(100 * p, 100 * (centre - half), 100 * (centre + half), n)


def _resamples(rng: np.random.Generator, n: int) -> Iterator[NDArray[np.int64]]:
    """The patient indices of `BOOTSTRAP_RESAMPLES` bootstrap resamples of n patients, in
    blocks of resamples (k, n) of at most `BOOTSTRAP_CELLS` indices: bounded memory at any
    size, and the same draws as one block of all of them."""
    chunk = max(1, BOOTSTRAP_CELLS // n)
    for done in range(0, BOOTSTRAP_RESAMPLES, chunk):
        yield rng.integers(0, n, size=(min(chunk, BOOTSTRAP_RESAMPLES - done), n))


def ratio_ci(numerator: Array, denominator: Array, seed: int = 0) -> Estimate:
    """mean(numerator) / mean(denominator) with a seeded percentile bootstrap interval."""
    n = int(numerator.size)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)

    def ratio(num: Array, den: Array) -> Array:
        """num / den where den > 0, else NaN (no relief: the ratio is undefined)."""
        out: Array = np.full(num.shape, np.nan)
        np.divide(num, den, out=out, where=den > 0)
        return out

    point = float(ratio(np.array([numerator.mean()]), np.array([denominator.mean()]))[0])
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x7A710]))
    nums, dens = [], []
    for picks in _resamples(rng, n):
        nums.append(numerator[picks].mean(axis=1))
        dens.append(denominator[picks].mean(axis=1))
    boot = ratio(np.concatenate(nums), np.concatenate(dens))
    if np.isnan(boot).mean() > 0.025:  # relief is often absent: no meaningful interval
        return Estimate(point, math.nan, math.nan, n)
    low, high = np.nanpercentile(boot, [2.5, 97.5])
    return Estimate(point, float(low), float(high), n)


def count_ci(values: Array, seed: int = 0) -> Estimate:
    """Mean of a per-patient count (visits, refills, presses) with a seeded percentile
    bootstrap interval: it never goes below zero, unlike a t interval on skewed counts."""
    finite = values[np.isfinite(values)]
    n = int(finite.size)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = float(finite.mean())
    if n == 1:
        return Estimate(mean, math.nan, math.nan, 1)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xC0047]))
    means = np.concatenate([finite[picks].mean(axis=1) for picks in _resamples(rng, n)])
    low, high = np.percentile(means, [2.5, 97.5])
    return Estimate(mean, float(low), float(high), n)


def event_rate_ci(events: int, patient_days: float, per: float = 100.0,
                  confidence: float = 0.95) -> Estimate:
    """Events per `per` patient-days with the exact (Garwood) Poisson interval: never below 0,
    and honest when events are rare."""
    from scipy import stats

    if patient_days <= 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    alpha = 1.0 - confidence
    low = 0.0 if events == 0 else float(stats.chi2.ppf(alpha / 2, 2 * events)) / 2
    high = float(stats.chi2.ppf(1 - alpha / 2, 2 * events + 2)) / 2
    scale = per / patient_days
    return Estimate(events * scale, low * scale, high * scale, round(patient_days))


def _percent_change(end: Array, base: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        out: Array = np.where(base > 0, (end - base) / base * 100.0, np.nan)
    return out


def alive_mean(values: Array, where: NDArray[np.bool_] | None = None, axis: int = 0) -> Array:
    """Mean along `axis` of the finite values (and `where`): over the days or patients alive,
    since the history holds NaN after death. NaN where there are none."""
    ok = np.isfinite(values) if where is None else np.isfinite(values) & where
    count = ok.sum(axis=axis)
    total = np.where(ok, values, 0.0).sum(axis=axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: Array = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return out


def end_window(alive: NDArray[np.bool_], days: int = END_DAYS) -> NDArray[np.bool_]:
    """Per patient the last `days` days alive (alive days are a prefix: death censors the
    rest), mask of shape alive.shape (days_total, n)."""
    alive_days = alive.sum(axis=0)
    index = np.arange(alive.shape[0])[:, None]
    out: NDArray[np.bool_] = alive & (index >= alive_days[None, :] - days)
    return out


@dataclass(frozen=True)
class PatientOutcomes:
    """Per-patient summaries of one arm (arrays (n,)), from which the metrics follow."""

    pain_change_percent: Array
    #: Baseline pain minus mean pain over the whole trial, NRS points (the days of the doses).
    pain_fall_nrs: Array
    toxicity_change_percent: Array
    time_in_target_percent: Array
    time_controlled_percent: Array
    time_severe_percent: Array
    oral_mg_per_day: Array
    it_mg_per_day: Array
    ome_mg_per_day: Array
    respiratory_events_per_100_patient_days: Array
    presses_per_day: Array
    refused_per_day: Array
    clinic_visits: Array
    refills: Array
    #: Clinical success; only defined (`has_outcome`) for patients alive on day 1.
    success: NDArray[np.bool_]
    has_outcome: NDArray[np.bool_]
    respiratory_events: Array
    #: Days with a treatment-related side effect at CTCAE grade >= 3, per patient.
    severe_side_effect_days: Array
    #: Days alive in the trial per patient.
    alive_days: Array
    toxicity_composite: Array
    nights_without_waking_percent: Array
    weight_change_percent: Array
    withdrawal_episodes: Array
    off_systemic_end: NDArray[np.bool_]
    prior_oral_mg_per_day: Array
    days: int

    @staticmethod
    def concatenate(parts: list[PatientOutcomes]) -> PatientOutcomes:
        """The outcomes of several batches of one arm, in order (the same days)."""
        joined: dict[str, Any] = {k: np.concatenate([getattr(p, k) for p in parts])
                                  for k, v in parts[0].__dict__.items()
                                  if isinstance(v, np.ndarray)}
        return replace(parts[0], **joined)

    def take(self, mask: NDArray[np.bool_]) -> PatientOutcomes:
        """The outcomes of the patients where `mask` (n,) is true."""
        taken: dict[str, Any] = {k: v[mask] for k, v in self.__dict__.items()
                                 if isinstance(v, np.ndarray)}
        return replace(self, **taken)


def patient_outcomes(
    history: dict[str, NDArray[np.float32]],
    baseline: dict[str, Array],
    visits: Array,
    refills: Array,
    it_to_oral: float,
    prior_oral_mg_per_day: Array | None = None,
) -> PatientOutcomes:
    """Per-patient outcomes from daily records (days, n; NaN after death) and the run-in
    baseline (n,). Means are over each patient's days alive; the end is the last 7 of them."""
    from idds.physiology.parameters import SYMPTOMS

    days, n = history["pain_mean"].shape
    alive = np.isfinite(history["pain_mean"].astype(np.float64))
    end = end_window(alive)

    def field(name: str, default: float = 0.0) -> Array:
        if name not in history:
            return np.where(alive, default, np.nan)
        out: Array = history[name].astype(np.float64)
        return out

    def mean(name: str, where: NDArray[np.bool_] | None = None) -> Array:
        return alive_mean(field(name), where)

    pain_end, tox_end = mean("pain_mean", end), mean("toxicity_composite", end)
    pain_change = _percent_change(pain_end, baseline["pain_mean"])
    tox_change = _percent_change(tox_end, baseline["toxicity_composite"])
    oral, it = mean("oral_mg"), mean("it_mg")
    has_outcome: NDArray[np.bool_] = np.asarray(alive.any(axis=0))
    success = has_outcome & ((pain_change <= -SUCCESS_PAIN_FALL_PERCENT) | (
        (pain_change <= 0.0) & (tox_change <= -SUCCESS_TOXICITY_FALL_PERCENT)))
    alive_days = alive.sum(axis=0).astype(np.float64)
    weight = field("weight_kg", np.nan)
    last_weight = alive_mean(weight, end_window(alive, 1))
    base_weight = baseline.get("weight_kg", np.full(n, np.nan))
    withdrawal = field("withdrawal_max")
    oral_daily = field("oral_mg")
    with np.errstate(invalid="ignore"):
        off_end = has_outcome & ~np.any(end & (oral_daily > 0), axis=0)
    prior = (np.full(n, np.nan) if prior_oral_mg_per_day is None
             else prior_oral_mg_per_day.astype(np.float64))
    return PatientOutcomes(
        pain_change_percent=pain_change,
        pain_fall_nrs=baseline["pain_mean"] - mean("pain_mean"),
        toxicity_change_percent=tox_change,
        time_in_target_percent=100.0 * mean("time_in_target"),
        time_controlled_percent=100.0 * mean("controlled_fraction"),
        time_severe_percent=100.0 * mean("severe_fraction"),
        oral_mg_per_day=oral,
        it_mg_per_day=it,
        ome_mg_per_day=oral + it * it_to_oral,
        respiratory_events_per_100_patient_days=100.0 * mean("respiratory_events"),
        presses_per_day=mean("presses"),
        refused_per_day=mean("refused"),
        clinic_visits=visits.astype(np.float64),
        refills=refills.astype(np.float64),
        success=success,
        has_outcome=has_outcome,
        respiratory_events=np.nansum(field("respiratory_events"), axis=0),
        severe_side_effect_days=np.nansum(field("severe_side_effect"), axis=0),
        alive_days=alive_days,
        toxicity_composite=tox_end,
        nights_without_waking_percent=100.0 * (1.0 - mean("woken_night")),
        weight_change_percent=_percent_change(last_weight, base_weight),
        withdrawal_episodes=(alive & (np.nan_to_num(withdrawal)
                                      >= SYMPTOMS.withdrawal_episode_from)).sum(axis=0)
        .astype(np.float64),
        off_systemic_end=off_end,
        prior_oral_mg_per_day=prior,
        days=days,
    )


#: Metric keys of metrics.json, in report order, with what each one is.
METRIC_KEYS: dict[str, str] = {
    "time_in_target_percent": "time in target, the primary metric: share of waking time alive "
    "(06:00-22:00) with pain NRS <= 3 on days without a treatment-related side effect at "
    "CTCAE grade >= 2 (the opioid's own: constipation, nausea, vomiting, somnolence, "
    "confusion, pruritus, urinary retention, respiratory depression), %",
    "pain_change_percent": "change in mean pain from baseline to the last 7 days alive, %",
    "time_controlled_percent": "share of time alive with pain controlled (NRS <= 3), %",
    "time_severe_percent": "share of time alive with severe pain (NRS >= 7), %",
    "oral_mg_per_day": "oral morphine taken (around the clock + rescue), mg/day",
    "it_mg_per_day": "intrathecal morphine delivered, mg/day",
    "prior_oral_per_it": "the IT dose as a fraction of the same patients' prior oral dose: "
    "mean prior oral mg/day per mean IT mg/day (N in '1/N')",
    "ome_mg_per_day": "total oral morphine equivalent, oral + IT x 300 (the library's 300 mg "
    "oral per mg IT), mg/day",
    "toxicity_composite": "composite toxicity in the last 7 days alive: sum of the CTCAE grades "
    "of the ten treatment-related toxicities (baseline in metrics.json 'baseline')",
    "toxicity_change_percent": "change in composite toxicity from baseline to the last 7 days "
    "alive, %",
    "respiratory_events_per_100_patient_days": "respiratory depression onsets (below 8/min) "
    "per 100 patient-days alive",
    "severe_side_effect_days_per_100_patient_days": "days with a treatment-related side "
    "effect at CTCAE grade >= 3 (severe: the opioid's own, as in time in target) per 100 "
    "patient-days alive",
    "presses_per_day": "patient remote presses per day",
    "refused_per_day": "patient remote presses refused per day",
    "clinic_visits": "clinic visits per patient while alive",
    "refills": "pump refills per patient while alive",
    "clinical_success_percent": "patients with >= 20% less pain, or no more pain and >= 20% "
    "less composite toxicity, % of those alive on day 1",
    "off_systemic_end_percent": "patients taking no systemic (oral) opioid in their last 7 days "
    "alive, %",
    "nights_without_waking_percent": "nights not woken by pain, % of nights alive",
    "weight_change_percent": "body weight change from baseline to the last day alive, %",
    "withdrawal_episodes_per_100_patient_days": "days with a withdrawal score >= 3 per 100 "
    "patient-days alive",
    "ome_mg_per_nrs_point_relief": "drug per unit of pain relief: OME mg/day per NRS point of "
    "pain fall, both over the whole trial",
}


#: Event rates per 100 patient-days alive (exact Garwood intervals, `event_rate_ci`): metric
#: key -> the per-patient event count of `PatientOutcomes`.
EVENT_RATES: dict[str, str] = {
    "respiratory_events_per_100_patient_days": "respiratory_events",
    "withdrawal_episodes_per_100_patient_days": "withdrawal_episodes",
    "severe_side_effect_days_per_100_patient_days": "severe_side_effect_days",
}

#: Per-patient counts: their intervals come from `count_ci`.
COUNT_METRICS = ("presses_per_day", "refused_per_day", "clinic_visits", "refills")


def arm_metrics(outcomes: PatientOutcomes, seed: int = 0) -> dict[str, Estimate]:
    """Every metric of METRIC_KEYS for one arm (patients without an outcome left out)."""
    o = outcomes
    special = (*COUNT_METRICS, *EVENT_RATES, "clinical_success_percent",
               "ome_mg_per_nrs_point_relief", "prior_oral_per_it", "off_systemic_end_percent")
    out = {name: mean_ci(getattr(o, name)[o.has_outcome]) for name in METRIC_KEYS
           if name not in special}
    for name in COUNT_METRICS:
        out[name] = count_ci(getattr(o, name)[o.has_outcome], seed)
    patient_days = float(o.alive_days.sum())
    for name, events in EVENT_RATES.items():
        out[name] = event_rate_ci(int(getattr(o, events).sum()), patient_days)
    out["clinical_success_percent"] = share_ci(o.success[o.has_outcome])
    out["off_systemic_end_percent"] = share_ci(o.off_systemic_end[o.has_outcome])
    out["ome_mg_per_nrs_point_relief"] = ratio_ci(
        o.ome_mg_per_day[o.has_outcome], o.pain_fall_nrs[o.has_outcome], seed)
    out["prior_oral_per_it"] = ratio_ci(
        o.prior_oral_mg_per_day[o.has_outcome], o.it_mg_per_day[o.has_outcome], seed)
    return {name: out[name] for name in METRIC_KEYS}


#: Per-patient outcomes compared with the oracle arm (same patients, paired differences).
ORACLE_DISTANCE_KEYS: dict[str, str] = {
    "time_in_target_percent": "time in target, arm minus oracle, percentage points",
    "time_controlled_percent": "time with pain controlled, arm minus oracle, percentage points",
    "it_mg_per_day": "intrathecal morphine, arm minus oracle, mg/day",
    "ome_mg_per_day": "oral morphine equivalent, arm minus oracle, mg/day",
    "pain_change_percent": "pain change from baseline, arm minus oracle, percentage points",
}


def paired_difference(reference: PatientOutcomes, arm: PatientOutcomes, key: str) -> Estimate:
    """Mean and interval of arm - reference per patient for one outcome (the same virtual
    patients; those with an outcome in both arms)."""
    both = arm.has_outcome & reference.has_outcome
    return mean_ci((getattr(arm, key) - getattr(reference, key))[both])


def distance_from(reference: PatientOutcomes, arm: PatientOutcomes) -> dict[str, Estimate]:
    """Paired differences arm - reference per patient (the same virtual patients)."""
    return {key: paired_difference(reference, arm, key) for key in ORACLE_DISTANCE_KEYS}
