"""The compiled day loop (`idds.trial.dayloop`) computes the readable loop's day
(`daysteps.readable_steps`): the same discrete events, the continuous values to round-off.

Day by day on random states the readable loop rarely meets (radiotherapy relief under way,
co-analgesics, a rescue pending, episodes running, reservoirs running empty, low press
thresholds so the lockout and the daily maximum refuse presses), and whole trials of every
kind of arm, compiled against readable.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from idds.control.prescription import Prescription
from idds.drugs import load_library
from idds.physiology import sample_cohort, start_radiotherapy
from idds.physiology.model import start_coanalgesics
from idds.pump.twin import PumpArrays
from idds.trial import TrialConfig, TrialSettings, dayloop, run_trial
from idds.trial.daysteps import ArmState, compiled_steps, readable_steps
from idds.trial.engine import _new_run, run_in
from idds.trial.pumping import program_pumps
from idds.trial.scenario import DayEvents

LIBRARY = load_library()
#: Sums that count events: equal, not close.
COUNTS = ("presses", "refused", "given", "respiratory_events", "diary_count", "diary_sum",
          "woken_night", "sedation_max")


def _day_pair(seed: int, n: int, pumped: bool, fill_ml: float,
              overdosed: float = 0.0) -> tuple[ArmState, ArmState]:
    """Two identical runs, one day into the trial, from a random but reachable state."""
    rng = np.random.default_rng(seed)
    cohort = sample_cohort(n, seed=seed)
    cohort = replace(cohort, press_threshold_nrs=rng.uniform(1.0, 6.0, n))
    start, _ = run_in(cohort, TrialSettings(days=1))
    state = start_radiotherapy(start.state, cohort, rng.random(n) < 0.5)
    state = replace(state, relief_start_min=np.where(
        np.isfinite(state.relief_start_min), rng.uniform(-20_000.0, 3_000.0, n), np.inf))
    state = start_coanalgesics(state, rng.random(n) < 0.3)
    state = replace(state, pending_rescue_mg=np.where(rng.random(n) < 0.2, 10.0, 0.0))
    # a share of patients far above their regimen: breathing falls below the event threshold
    scale = np.where(rng.random(n) < overdosed, 8.0, 1.0)
    state = replace(state, pk=state.pk * scale)
    start = replace(start, state=state)
    prior = cohort.prior_oral_morphine_mg_per_day
    if pumped:
        therapy = Prescription.oral(prior * 0.5, cohort.oral_rescue_mg)
        therapy = therapy.with_(it_mg_per_day=prior / 300.0 * rng.uniform(0.5, 3.0, n),
                                bolus_mg=prior / 3000.0, lockout_min=np.full(n, 60.0),
                                max_boluses_per_day=rng.integers(1, 8, n))
        pumps = PumpArrays.empty(n, rng.uniform(-0.14, 0.14, n))
        pumps.fill(rng.random(n) < 0.9, fill_ml, np.full(n, 2.0))
    else:
        therapy, pumps = Prescription.oral(prior, cohort.oral_rescue_mg), None
    run = _new_run(cohort, start, therapy, pumps, 1)
    if pumped:
        assert run.pumps is not None
        run.bolus_duration_min, _ = program_pumps(run.pumps, therapy, TrialSettings(1).pump,
                                                  "test", 25.0)
    run.previous_event = rng.random(n) < overdosed / 2
    twin = copy.deepcopy(run, {id(run.cohort): run.cohort})
    return run, twin


def _assert_same_day(readable: ArmState, compiled: ArmState, hours: tuple[object, object]) -> None:
    for part in ("values", "exposure"):
        for key, value in getattr(readable.acc, part).items():
            other = getattr(compiled.acc, part)[key]
            if key in COUNTS:
                np.testing.assert_array_equal(other, value, err_msg=key)
            else:
                np.testing.assert_allclose(other, value, rtol=1e-9, atol=1e-12, err_msg=key)
    assert (readable.acc.steps, readable.acc.waking_steps) == (compiled.acc.steps,
                                                               compiled.acc.waking_steps)
    a, b = readable.state, compiled.state
    assert (a.t_min, a.step_index) == (b.t_min, b.step_index)
    np.testing.assert_allclose(b.pk, a.pk, rtol=1e-9, atol=1e-15)
    for name in ("tol_supra", "tol_spinal", "pending_rescue_mg"):
        np.testing.assert_allclose(getattr(b, name), getattr(a, name), rtol=1e-9, atol=1e-15)
    for name in ("last_press_min", "last_rescue_min", "relief_start_min"):
        np.testing.assert_array_equal(getattr(b, name), getattr(a, name), err_msg=name)
    np.testing.assert_array_equal(b.episodes.onset_min, a.episodes.onset_min)
    for name in ("time_to_peak_min", "duration_min", "amplitude_nrs"):
        np.testing.assert_allclose(getattr(b.episodes, name), getattr(a.episodes, name),
                                   rtol=1e-12)
    np.testing.assert_array_equal(compiled.previous_event, readable.previous_event)
    np.testing.assert_array_equal(hours[1], hours[0])  # presses, refused by hour
    np.testing.assert_allclose(compiled.pain_by_hour_sum, readable.pain_by_hour_sum,
                               rtol=1e-12)
    np.testing.assert_array_equal(compiled.pain_by_hour_count, readable.pain_by_hour_count)
    np.testing.assert_array_equal(compiled.presses_by_hour, readable.presses_by_hour)
    if readable.pumps is not None:
        assert compiled.pumps is not None
        for name in ("reservoir_ml", "estimate_ml", "bolus_left_mg", "bolus_rate_mg_per_min",
                     "starts", "slot"):
            np.testing.assert_allclose(getattr(compiled.pumps, name),
                                       getattr(readable.pumps, name), rtol=1e-12, atol=1e-15,
                                       err_msg=name)


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 40), pumped=st.booleans(),
       fill_ml=st.sampled_from([0.05, 0.5, 20.0]), overdosed=st.sampled_from([0.0, 0.5]))
def test_compiled_day_equals_readable_day(seed: int, n: int, pumped: bool,
                                          fill_ml: float, overdosed: float) -> None:
    readable, compiled = _day_pair(seed, n, pumped, fill_ml, overdosed)
    settings_ = TrialSettings(days=1)
    assert dayloop.applies(compiled.cohort, settings_.dt_min, None)
    hours_a = readable_steps(readable, settings_.dt_min, pumped, None)
    hours_b = compiled_steps(compiled, settings_.dt_min, pumped)
    _assert_same_day(readable, compiled, (hours_a, hours_b))


def test_the_differential_meets_refusals_empty_pumps_and_respiratory_events() -> None:
    """The day-level states reach what the comparison must cover: given and refused presses,
    reservoirs running empty, respiratory events starting and continuing from midnight."""
    readable, compiled = _day_pair(3, 40, True, 0.05, overdosed=0.5)
    hours_a = readable_steps(readable, 5.0, True, None)
    hours_b = compiled_steps(compiled, 5.0, True)
    values = readable.acc.values
    assert values["given"].sum() > 0 and values["refused"].sum() > 0
    assert values["respiratory_events"].sum() > 0
    assert (readable.pumps is not None and (readable.pumps.reservoir_ml <= 0).any())
    _assert_same_day(readable, compiled, (hours_a, hours_b))


def test_trials_run_the_compiled_loop_unless_told_or_a_scenario(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls: list[int] = []
    real = dayloop.simulate_day

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(dayloop, "simulate_day", counting)
    config = dict(patients=4, days=2, arms=("it-standard",), seed=1)
    run_trial(TrialConfig(**config))  # type: ignore[arg-type]
    assert len(calls) == 3  # the run-in day and two trial days
    run_trial(TrialConfig(**config, compiled=False))  # type: ignore[arg-type]
    run_trial(TrialConfig(**config, scenario=Path("catheter-obstruction")))  # type: ignore[arg-type]
    assert len(calls) == 3


def test_whole_trials_agree_compiled_and_readable() -> None:
    base = dict(patients=30, days=4, arms=("cmm", "it-standard", "it-daily-target",
                                           "it-intelligent"), seed=11)
    fast = run_trial(TrialConfig(**base))  # type: ignore[arg-type]
    slow = run_trial(TrialConfig(**base, compiled=False))  # type: ignore[arg-type]
    for arm in base["arms"]:  # type: ignore[attr-defined]
        a, b = fast.arms[arm], slow.arms[arm]
        for key in b.history:
            np.testing.assert_allclose(a.history[key], b.history[key], rtol=1e-6, atol=1e-6,
                                       err_msg=f"{arm} {key}")
        np.testing.assert_array_equal(a.grades, b.grades)
        for key, est in b.metrics.items():
            mine = a.metrics[key]
            assert mine.n == est.n, key
            np.testing.assert_allclose([mine.mean, mine.low, mine.high],
                                       [est.mean, est.low, est.high], rtol=1e-6, atol=1e-9,
                                       err_msg=f"{arm} {key}")


def test_scenario_days_and_other_drugs_take_the_readable_loop() -> None:
    cohort = sample_cohort(5, seed=1)
    assert dayloop.applies(cohort, 5.0, None)
    assert not dayloop.applies(cohort, 5.0, DayEvents(onsets={}))  # a scenario's day
    other = sample_cohort(5, seed=1, drugs=("morphine", "ziconotide"))
    assert not dayloop.applies(other, 5.0, None)
    result = run_trial(TrialConfig(patients=6, days=3, arms=("it-standard",), seed=2,
                                   scenario=Path("catheter-obstruction")))
    assert result.arms["it-standard"].history["it_mg"].shape == (3, 6)


def test_a_propagator_with_a_term_the_kernel_leaves_out_takes_the_readable_loop() -> None:
    """The compiled PK step writes out `PK_TERMS`; a map with any other non-zero entry (here
    lumbar CSF into the gut) is not the kernel's to step."""
    cohort = sample_cohort(4, seed=3)
    prop = cohort.propagators(5.0)[0]
    terms = dayloop._pk_terms(prop)
    assert terms is not None and terms.shape == (4, 27)
    matrix = prop.matrix.copy()
    matrix[0, 3] = 1e-6
    assert dayloop._pk_terms(replace(prop, matrix=matrix)) is None
