"""The trial engine: reproducible, independent of batching and workers, arms as specified."""

from __future__ import annotations

import numpy as np
import pytest

from idds.control.prescription import Prescription
from idds.drugs import load_library
from idds.physiology import sample_cohort
from idds.trial import LocalExecutor, TrialConfig, TrialError, TrialSettings, run_trial
from idds.trial.batch import simulate_batch
from idds.trial.engine import run_in
from idds.trial.metrics import Estimate
from idds.trial.pumping import DeviceLimitError, PumpSetup
from idds.trial.registry import ARMS

LIBRARY = load_library()


def _json(metrics: dict[str, Estimate]) -> dict[str, object]:
    return {key: est.as_json() for key, est in metrics.items()}


def _same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_same_seed_same_numbers_whatever_the_batches_and_workers() -> None:
    base = dict(patients=12, days=3, arms=("cmm", "it-standard"), seed=5)
    one = run_trial(TrialConfig(**base, batch_size=12))  # type: ignore[arg-type]
    split = run_trial(TrialConfig(**base, batch_size=5), LocalExecutor(2))  # type: ignore[arg-type]
    for arm in one.arms:
        _same(one.arms[arm].history, split.arms[arm].history)
        np.testing.assert_array_equal(one.arms[arm].grades, split.arms[arm].grades)
        assert _json(one.arms[arm].metrics) == _json(split.arms[arm].metrics)
    other = run_trial(TrialConfig(**{**base, "seed": 6}, batch_size=12))  # type: ignore[arg-type]
    assert not np.array_equal(one.arms["cmm"].history["pain_mean"],
                              other.arms["cmm"].history["pain_mean"])


def test_arms_share_the_run_in_baseline() -> None:
    result = run_trial(TrialConfig(patients=6, days=1, arms=("cmm", "it-standard"), seed=1))
    _same(result.arms["cmm"].baseline.row, result.arms["it-standard"].baseline.row)
    np.testing.assert_array_equal(result.arms["cmm"].baseline.grades,
                                  result.arms["it-standard"].baseline.grades)


def test_it_standard_starts_at_the_library_ratio_and_tapers() -> None:
    cohort = sample_cohort(8, seed=2)
    [run] = simulate_batch(cohort, [ARMS["it-standard"]], LIBRARY, TrialSettings(days=9))
    prior = cohort.prior_oral_morphine_mg_per_day
    ratio = float(LIBRARY.conversion.start_ratio_oral_to_intrathecal)
    np.testing.assert_allclose(run.history["it_programmed_mg_per_day"][0], prior / ratio,
                               rtol=1e-6)
    np.testing.assert_allclose(run.history["oral_programmed_mg_per_day"][0], prior * 0.5,
                               rtol=1e-6)
    assert np.all(run.history["oral_programmed_mg_per_day"][7:] == 0)
    assert np.all(run.history["it_mg"] > 0)


def test_cmm_never_uses_a_pump_and_escalates_only_at_reviews() -> None:
    cohort = sample_cohort(8, seed=3)
    [run] = simulate_batch(cohort, [ARMS["cmm"]], LIBRARY, TrialSettings(days=8))
    assert np.nansum(run.history["it_mg"]) == 0  # NaN: days after a death
    assert np.nansum(run.history["presses"]) == 0
    oral = run.history["oral_programmed_mg_per_day"]
    alive = np.floor(run.death_day) >= 7  # alive at the first review (end of day 6)
    assert np.array_equal(oral[0, alive], oral[6, alive])  # no change before day 7
    assert np.all(run.visits[alive] == 1)
    assert np.all(run.visits[~alive] == 0)


def test_patient_boluses_respect_lockout_and_daily_maximum() -> None:
    cohort = sample_cohort(30, seed=4)
    [run] = simulate_batch(cohort, [ARMS["it-standard"]], LIBRARY, TrialSettings(days=4))
    arm = ARMS["it-standard"]
    assert np.all(run.history["given"] <= arm.max_boluses_per_day)  # type: ignore[attr-defined]
    assert np.all(run.history["given"] + run.history["refused"] == run.history["presses"])
    assert run.history["refused"].sum() > 0  # some presses meet the lockout


def test_concentration_respects_the_library_and_device() -> None:
    setup = PumpSetup()
    n = 4
    therapy = Prescription.oral(np.zeros(n), np.zeros(n)).with_(
        it_mg_per_day=np.array([0.1, 1.0, 10.0, 100.0]),
        bolus_mg=np.array([0.01, 0.1, 0.5, 0.5]),
        max_boluses_per_day=np.full(n, 4, dtype=np.int64),
    )
    strength = setup.concentration(therapy, 20.0)
    assert np.all(strength <= 20.0)
    assert strength[0] < strength[2] <= strength[3] == 20.0
    lasts = (setup.reservoir_ml - setup.alarm_ml) / (therapy.daily_it_mg() / strength)
    assert np.all(lasts[:3] >= setup.min_days_per_fill)


def test_run_in_is_the_prior_regimen() -> None:
    cohort = sample_cohort(5, seed=7)
    _, baseline = run_in(cohort, TrialSettings(days=1))
    row = baseline.row
    assert np.all(row["oral_mg"] >= cohort.prior_oral_morphine_mg_per_day - 1e-9)
    assert np.all(row["it_mg"] == 0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"patients": 0}, "--patients must be at least 1"),
        ({"days": 0}, "--days must be at least 1"),
        ({"arms": ("cmm", "laser")}, "unknown arm"),
        ({"arms": ("cmm", "cmm")}, "once"),
        ({"archetype": "astronaut"}, "unknown archetype"),
        ({"dt_min": 7.0}, "divide an hour"),
    ],
)
def test_bad_configs_are_refused(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"patients": 5, "days": 2, "arms": ("cmm",)}
    args.update(kwargs)
    with pytest.raises(TrialError, match=message):
        TrialConfig(**args)  # type: ignore[arg-type]


def test_a_dose_the_pump_cannot_deliver_at_its_strength_means_a_new_strength() -> None:
    """Halving the dose every day soon falls below the minimum flow at the filled strength:
    the pump is refilled with a weaker one (counted), never programmed outside its limits."""
    from dataclasses import dataclass

    from idds.trial.arms import Decision, Reason, StandardIntrathecal

    @dataclass(frozen=True)
    class Halving(StandardIntrathecal):
        name: str = "halving"

        def decide(self, obs, therapy, context, memory=None):  # type: ignore[no-untyped-def]
            it = therapy.it_mg_per_day * 0.5
            n = therapy.n
            return Decision(therapy.with_(it_mg_per_day=it, bolus_mg=it * 0.1,
                                          oral_mg_per_day=np.zeros(n),
                                          oral_rescue_mg=np.zeros(n)),
                            np.zeros(n, dtype=bool), np.full(n, Reason.NO_VISIT))

    cohort = sample_cohort(4, seed=8)
    [run] = simulate_batch(cohort, [Halving()], LIBRARY, TrialSettings(days=5))
    assert np.all(run.refills >= 1)
    programmed = run.history["it_programmed_mg_per_day"]
    assert np.all(programmed[-1] < programmed[0] / 7)
    # a dose no usual strength can deliver stops the trial with the reason
    with pytest.raises(DeviceLimitError, match="outside the device limits"):
        simulate_batch(cohort, [Halving()], LIBRARY, TrialSettings(days=10))


def test_rescue_follows_the_taper_and_stays_only_while_pain_is_uncontrolled() -> None:
    cohort = sample_cohort(40, seed=12)
    [run] = simulate_batch(cohort, [ARMS["it-standard"]], LIBRARY, TrialSettings(days=15))
    h = run.history
    prior = cohort.prior_oral_morphine_mg_per_day
    alive = np.isfinite(h["pain_mean"][14])  # alive throughout (death censors a suffix)
    np.testing.assert_allclose(h["rescue_prescribed_mg"][0][alive], prior[alive] * 0.5 / 6,
                               rtol=1e-6)
    np.testing.assert_allclose(h["rescue_prescribed_mg"][4][alive], prior[alive] * 0.25 / 6,
                               rtol=1e-6)
    kept = h["rescue_prescribed_mg"][7] > 0  # decided at the day-7 review
    assert 0 < kept[alive].sum() < alive.sum()
    np.testing.assert_allclose(h["rescue_prescribed_mg"][7][kept], prior[kept] * 0.25 / 6,
                               rtol=1e-6)
    # a rescue once withdrawn is not given back; nobody takes oral without one
    assert np.all(h["rescue_prescribed_mg"][14][alive & ~kept] == 0)
    assert np.all(h["oral_mg"][8:][:, ~kept & alive] == 0)


def test_cmm_rotates_once_when_side_effects_limit_and_treats_them() -> None:
    from idds.trial.arms import Reason

    cohort = sample_cohort(300, seed=13)
    [run] = simulate_batch(cohort, [ARMS["cmm"]], LIBRARY, TrialSettings(days=21))
    assert run.reasons[Reason.ROTATE_SIDE_EFFECTS] > 0
    assert run.reasons[Reason.ROTATE_SIDE_EFFECTS] <= cohort.n


def test_days_after_death_are_missing_everywhere() -> None:
    cohort = sample_cohort(200, seed=14)
    [run] = simulate_batch(cohort, [ARMS["it-standard"]], LIBRARY, TrialSettings(days=20))
    died = np.floor(run.death_day) < 20
    assert died.any()
    p = int(np.flatnonzero(died)[0])
    day = int(np.floor(run.death_day[p]))
    assert np.isnan(run.history["pain_mean"][day:, p]).all()
    assert np.isfinite(run.history["pain_mean"][:day, p]).all()
    assert (run.grades[day:, :, p] == -1).all() and (run.grades[:day, :, p] >= 0).all()


def test_the_pump_takes_away_systemic_side_effects_of_the_seed_case() -> None:
    """The seed case's story in numbers: after the implant and the taper, constipation and
    drowsiness fall and he sleeps, where escalating oral morphine keeps them."""
    from idds.trial.case import follow

    case = follow("seed-case", ("cmm", "it-standard"), 21, LIBRARY)
    oral, pump = case.days["cmm"], case.days["it-standard"]
    late = slice(15, 22)
    assert max(d.constipation_grade for d in pump[late]) < pump[0].constipation_grade
    assert min(d.constipation_grade for d in oral[late]) >= 1
    assert np.mean([d.drowsiness for d in pump[late]]) < 0.5 * np.mean(
        [d.drowsiness for d in oral[late]])
    assert all(d.slept for d in pump[late])
    assert np.mean([d.pain_mean for d in pump[late]]) < np.mean(
        [d.pain_mean for d in oral[late]])
