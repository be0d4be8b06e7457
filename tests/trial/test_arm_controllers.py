"""The closed-loop arms build their controllers through the registry, from the library."""

from __future__ import annotations

import numpy as np

from idds.control.intelligent import IntelligentController
from idds.control.oracle import OracleController
from idds.control.registry import build_controller, settings_for
from idds.drugs import load_library
from idds.physiology import sample_cohort
from idds.trial.arms import ArmContext
from idds.trial.controlled_arms import IntelligentArm, OracleArm, RuleBasedArm
from tests.control.test_registry import with_it_factor

LIBRARY = load_library()
MORPHINE = LIBRARY.drug("morphine")


def test_the_trial_arms_build_their_controllers_through_the_registry() -> None:
    cohort = sample_cohort(3, seed=1)
    hospital = with_it_factor(MORPHINE, 100)
    context = ArmContext(prior_oral_mg_per_day=cohort.prior_oral_morphine_mg_per_day.copy(),
                         policy=LIBRARY.conversion, morphine=hospital, hidden_cohort=cohort)
    arm = IntelligentArm()
    bounds = arm.run_bounds(context)
    ctl = arm.controller(context, bounds)
    expected = build_controller("intelligent", settings_for(hospital, bounds),
                                prior_oral_mg_per_day=context.prior_oral_mg_per_day)
    assert isinstance(ctl, IntelligentController) and isinstance(expected, IntelligentController)
    assert ctl.oral_per_it_mg == 100.0
    assert ctl.prior_oral_mg_per_day is not None
    assert np.array_equal(ctl.prior_oral_mg_per_day, context.prior_oral_mg_per_day)
    assert ctl.max_increase_per_day == expected.max_increase_per_day
    rules = RuleBasedArm().controller(context, bounds)
    assert rules == build_controller("rule-based", settings_for(hospital, bounds))
    oracle = OracleArm().controller(context, bounds)
    assert isinstance(oracle, OracleController)
    assert oracle.max_increase_per_day == expected.max_increase_per_day
