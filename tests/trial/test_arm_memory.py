"""Every arm's decision is pure: it returns a new memory and leaves the one it was given (and
the therapy and observations) exactly as they were."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from idds.control.observations import Observations
from idds.drugs import load_library
from idds.physiology import sample_cohort
from idds.trial.arms import ArmContext
from idds.trial.registry import ARMS
from idds.trial.screened import ScreenedArm
from tests.control.helpers import observations

LIBRARY = load_library()
N = 6


def day_obs(day: int) -> Observations:
    """A varied cohort: controlled, borderline, uncontrolled, an alarm on days 4-5 then clear
    readings (a reset), no diary, slow breathing."""
    alarm = day in (4, 5)
    return observations(
        n=N, day=day,
        diary_mean_nrs=[1.0, 2.5, 5.0, 7.0, None, 6.0],
        presses_per_day=[0.0, 1.0, 3.0, 5.0, 0.0, 2.0],
        refused_per_day=[0.0, 0.0, 1.0, 2.0, 0.0, 1.0],
        sedation_max=[1.0, 1.0, 2.0, 4.0 if alarm else 1.0, 1.0, 3.0],
        respiratory_rate_min=[15.0, 14.0, 12.0, 7.0 if alarm else 14.0, 15.0, 9.5],
        side_effect_burden=[1.0, 2.0, 4.5, 3.0, 1.0, 6.5],
    )


#: The arms that decide day by day (a screened arm's patients follow its inner arm or cmm).
DECIDING = sorted(name for name, arm in ARMS.items() if not isinstance(arm, ScreenedArm))


@pytest.mark.parametrize("name", DECIDING)
def test_a_decision_returns_new_memory_and_changes_none_of_its_inputs(name: str) -> None:
    arm = ARMS[name]
    assert not isinstance(arm, ScreenedArm)
    cohort = sample_cohort(N, seed=5)
    context = ArmContext(prior_oral_mg_per_day=cohort.prior_oral_morphine_mg_per_day.copy(),
                         policy=LIBRARY.conversion, morphine=LIBRARY.drug("morphine"),
                         hidden_cohort=cohort)
    therapy = arm.start(context)
    memory: object = None
    for day in range(16):
        obs = day_obs(day)
        before = pickle.dumps((memory, therapy, obs))
        decision = arm.decide(obs, therapy, context, memory)
        assert pickle.dumps((memory, therapy, obs)) == before, f"{name} changed its inputs"
        if memory is not None:
            assert decision.memory is not memory
        # the same inputs again give the same decision: nothing hidden was carried over
        again = arm.decide(obs, therapy, context, memory)
        assert np.array_equal(again.reasons, decision.reasons)
        assert np.array_equal(again.therapy.it_mg_per_day, decision.therapy.it_mg_per_day)
        assert np.array_equal(again.therapy.oral_mg_per_day, decision.therapy.oral_mg_per_day)
        assert pickle.dumps(again.memory) == pickle.dumps(decision.memory)
        memory, therapy = decision.memory, decision.therapy
