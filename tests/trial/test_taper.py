"""The systemic taper and the oral rescue rule have one home (`idds.trial.taper`): every arm
that tapers gives the same oral therapy on the same observations."""

from __future__ import annotations

import numpy as np

from idds.control.reasons import Reason
from idds.drugs import load_library
from idds.physiology import sample_cohort
from idds.trial.arms import ArmContext
from idds.trial.registry import ARMS
from idds.trial.taper import RESCUE_FRACTION, Taper, rescue_mg
from tests.control.helpers import observations, therapy

LIBRARY = load_library()


def test_rescue_is_a_sixth_of_the_daily_dose() -> None:
    assert RESCUE_FRACTION == 1.0 / 6.0
    assert np.allclose(rescue_mg(np.array([60.0, 0.0])), [10.0, 0.0])


def test_taper_step_reviews_the_rescue_weekly_and_leaves_its_inputs() -> None:
    taper = Taper()
    prior = np.array([300.0, 300.0])
    keep = taper.start(2)
    cur = taper.therapy(therapy(n=2), prior, 6, keep)
    obs = observations(n=2, day=6, diary_mean_nrs=[2.0, 6.0])  # day 7 is a review
    out, after, reasons = taper.step(obs, cur, prior, keep)
    assert list(keep) == [True, True] and after is not keep
    assert list(after) == [False, True]
    assert list(out.oral_mg_per_day) == [0.0, 0.0]
    assert np.allclose(out.oral_rescue_mg, [0.0, 300.0 * 0.25 / 6])
    assert list(reasons) == [Reason.TAPER_SYSTEMIC] * 2  # the oral therapy changed


def test_every_tapering_arm_gives_the_same_oral_therapy() -> None:
    cohort = sample_cohort(5, seed=3)
    context = ArmContext(prior_oral_mg_per_day=cohort.prior_oral_morphine_mg_per_day.copy(),
                         policy=LIBRARY.conversion, morphine=LIBRARY.drug("morphine"),
                         hidden_cohort=cohort)
    arms = [ARMS[name] for name in ("it-standard", "it-intelligent", "it-rule-based", "oracle")]
    state = [(a.start(context), None) for a in arms]
    for day in range(15):
        obs = observations(n=5, day=day, diary_mean_nrs=[2.0, 3.5, 4.5, 6.0, None])
        decisions = [a.decide(obs, t, context, m) for a, (t, m) in zip(arms, state, strict=True)]
        for d in decisions[1:]:
            assert np.array_equal(d.therapy.oral_mg_per_day, decisions[0].therapy.oral_mg_per_day)
            assert np.array_equal(d.therapy.oral_rescue_mg, decisions[0].therapy.oral_rescue_mg)
        state = [(d.therapy, d.memory) for d in decisions]
