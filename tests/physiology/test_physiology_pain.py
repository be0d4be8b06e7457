"""Pain process and behaviour against the cancer-pain figures of the reference."""

from __future__ import annotations

import numpy as np

from idds.physiology import (
    Delivery,
    initial_state,
    sample_cohort,
    start_radiotherapy,
    step,
    typical_cohort,
)


def _untreated(n: int, days: int, seed: int, dt: float = 1.0):
    cohort = sample_cohort(n, seed=seed, archetype_name="opioid-naive")
    state = initial_state(cohort, on_prior_regimen=False)
    onsets, bt = [], []
    for _ in range(int(days * 1440 / dt)):
        state, out = step(state, cohort, [], dt)
        onsets.append(out.breakthrough_onset)
        bt.append(out.breakthrough_nrs_drive)
    return cohort, np.array(onsets), np.array(bt)


def test_breakthrough_statistics() -> None:
    """Frequency, time to peak and duration of untreated episodes (Davies 2013; Portenoy 1999).

    Tolerances: cohort median episodes/day within 3-6; median time to peak within 3-10 min;
    median duration within 45-60 min (1-min steps, 200 patients x 3 days).
    """
    _, onsets, bt = _untreated(200, 3, seed=7)
    per_day = onsets.sum(axis=0) / 3.0
    assert 3.0 <= np.median(per_day) <= 6.0
    ttp, dur = [], []
    for p in range(bt.shape[1]):
        starts = np.flatnonzero(onsets[:, p])
        for s in starts:
            seg = bt[s:, p]
            ends = np.flatnonzero(seg <= 0)
            if len(ends) == 0:
                continue
            seg = seg[: ends[0]]
            ttp.append(int(np.argmax(seg)) + 1)
            dur.append(len(seg) + 1)
    assert 3.0 <= np.median(ttp) <= 10.0
    assert 45.0 <= np.median(dur) <= 60.0


def test_incident_episodes_cluster_at_activity_hours() -> None:
    """An incident-type patient's onsets concentrate near their activity times."""
    cohort = sample_cohort(1, 0, "seed-case", variability=0.0)
    state = initial_state(cohort, on_prior_regimen=False)
    minutes = []
    for _ in range(20 * 288):
        state, out = step(state, cohort, [], 5.0)
        if out.breakthrough_onset[0]:
            minutes.append(state.t_min % 1440)
    tod = np.array(minutes)
    near = np.zeros(len(tod), dtype=bool)
    for at in cohort.pain.activity_times_min[:, 0]:
        d = np.abs(tod - at)
        near |= np.minimum(d, 1440 - d) <= 60
    # 3 windows of 2 h cover 25% of the day; 80% incident episodes cluster there
    assert near.mean() > 0.6


def test_default_cohort_baseline_pain_and_refractory() -> None:
    """Default cohort on its prior regimen: median NRS 7.4-7.8, all NRS >= 5 and >= 200 mg/day."""
    cohort = sample_cohort(500, seed=1)
    assert np.all(cohort.prior_oral_morphine_mg_per_day >= 200)
    state = initial_state(cohort)
    dose = cohort.prior_oral_morphine_mg_per_day / 288
    state, out = step(state, cohort, [Delivery("morphine", gut_mg=dose)], 5.0)
    background = np.clip(out.background_nrs_drive * (1 - out.effects.relief), 0, 10)
    assert 7.4 <= np.median(background) <= 7.8
    assert np.all(background >= 5.0 - 0.05)


def test_radiotherapy_relieves_about_60_percent_after_weeks() -> None:
    cohort = sample_cohort(1000, seed=3)
    state = start_radiotherapy(initial_state(cohort), cohort)
    responders = np.isfinite(state.relief_start_min)
    assert 0.55 <= responders.mean() <= 0.65
    delay_days = state.relief_start_min[responders] / 1440
    assert 24 <= np.median(delay_days) <= 32


def test_pain_progresses_with_disease() -> None:
    fast = typical_cohort("fast-progression")
    slow = typical_cohort("typical-tolerant")
    from idds.physiology.pain import background_drive

    t = 90 * 1440.0
    none = np.full(1, np.inf)
    assert background_drive(fast.pain, t, none)[0] > background_drive(slow.pain, t, none)[0]
    assert background_drive(slow.pain, t, none)[0] > slow.pain.drive0_nrs[0]


def test_diary_remote_and_rescue_behaviour() -> None:
    cohort = sample_cohort(200, seed=4)
    state = initial_state(cohort)
    diary, presses, rescue = [], 0, 0.0
    for _ in range(288):
        dose = cohort.prior_oral_morphine_mg_per_day / 288
        state, out = step(state, cohort, [Delivery("morphine", gut_mg=dose)], 5.0)
        if np.isfinite(out.diary_nrs).any():
            diary.append(out.diary_nrs)
            assert np.all(out.diary_nrs == np.round(out.diary_nrs))
        presses += int(out.wants_bolus.sum())
        rescue += float(out.oral_rescue_mg.sum())
    assert len(diary) == 3
    assert presses > 0 and rescue > 0
    assert np.all((np.array(diary) >= 0) & (np.array(diary) <= 10))


def test_coanalgesics_lower_the_background_drive_once() -> None:
    from idds.physiology.model import start_coanalgesics
    from idds.physiology.parameters import PAIN

    cohort = sample_cohort(4, seed=9)
    state = initial_state(cohort)
    mask = np.array([True, False, True, False])
    once = start_coanalgesics(state, mask)
    twice = start_coanalgesics(once, np.ones(4, dtype=bool))
    _, before = step(state, cohort, [], 5.0)
    _, after = step(once, cohort, [], 5.0)
    ratio = after.background_nrs_drive / before.background_nrs_drive
    np.testing.assert_allclose(ratio, np.where(mask, 1 - PAIN.coanalgesic_relief_fraction, 1.0))
    assert twice.coanalgesic_factor is not None
    # each patient once: the first call's four and the second call's others
    np.testing.assert_allclose(twice.coanalgesic_factor, 1 - PAIN.coanalgesic_relief_fraction)
    assert start_coanalgesics(state, np.zeros(4, dtype=bool)) is state
