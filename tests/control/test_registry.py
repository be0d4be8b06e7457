"""The controller registry: every controller built one way, from the clinician's bounds and the
drug library (its per-change step and its oral:IT ratio)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from idds.control.bounds import ClinicianBounds, LibraryLimits
from idds.control.intelligent import IntelligentController
from idds.control.registry import (
    CONTROLLERS,
    ControllerSettings,
    UnknownController,
    build_controller,
    oral_to_it_ratio,
    settings_for,
)
from idds.control.rules import RuleBasedController
from idds.drugs import DrugEntry, Route, load_library
from idds.errors import IddsError
from tests.control.helpers import observations, therapy

LIBRARY = load_library()
MORPHINE = LIBRARY.drug("morphine")


def with_it_factor(drug: DrugEntry, it_mg_per_mg: int) -> DrugEntry:
    """A hospital library's morphine entry with another oral:IT ladder."""
    assert drug.oral_morphine_mg_per_mg is not None
    factors = {**drug.oral_morphine_mg_per_mg, Route.INTRATHECAL: Fraction(it_mg_per_mg)}
    return drug.model_copy(update={"oral_morphine_mg_per_mg": factors})


def test_the_choices_and_an_unknown_name() -> None:
    assert CONTROLLERS == ("intelligent", "rule-based")
    settings = settings_for(MORPHINE, ClinicianBounds())
    assert isinstance(build_controller("intelligent", settings), IntelligentController)
    assert isinstance(build_controller("rule-based", settings), RuleBasedController)
    for name in ("oracle", "pid", ""):
        with pytest.raises(UnknownController, match="intelligent, rule-based") as err:
            build_controller(name, settings)
        assert isinstance(err.value, IddsError)


@pytest.mark.parametrize(("clinician", "allowed", "step"), [
    (0.5, frozenset(), 0.2),  # the library's soft +20% per change binds
    (0.1, frozenset(), 0.1),  # the clinician's smaller step
    (0.5, frozenset({"max_increase_percent"}), 0.5),  # the clinician allows the soft limit
])
def test_the_step_is_the_clinicians_within_the_library(clinician: float,
                                                         allowed: frozenset[str],
                                                         step: float) -> None:
    bounds = ClinicianBounds(max_increase_per_day=clinician, allowed_soft_limits=allowed)
    settings = settings_for(MORPHINE, bounds)
    intelligent = build_controller("intelligent", settings)
    rules = build_controller("rule-based", settings)
    assert isinstance(intelligent, IntelligentController)
    assert isinstance(rules, RuleBasedController)
    assert intelligent.max_increase_per_day == step and rules.titration.increase == step


def test_the_bounds_reach_the_controller() -> None:
    bounds = ClinicianBounds(min_daily_mg=1.0, max_bolus_mg=0.3, max_boluses_per_day=3,
                             min_rate_mg_per_day=0.96)
    ctl = build_controller("intelligent", settings_for(MORPHINE, bounds))
    assert isinstance(ctl, IntelligentController)
    assert (ctl.min_daily_mg, ctl.max_bolus_mg, ctl.max_boluses_per_day,
            ctl.min_rate_mg_per_day) == (1.0, 0.3, 3, 0.96)


def test_the_intelligent_controller_uses_the_librarys_ratio() -> None:
    assert oral_to_it_ratio(MORPHINE) == 300.0  # the reference library's ladder
    hospital = with_it_factor(MORPHINE, 100)
    assert oral_to_it_ratio(hospital) == 100.0
    bounds = ClinicianBounds()
    ladder = build_controller("intelligent", settings_for(MORPHINE, bounds))
    local = build_controller("intelligent", settings_for(hospital, bounds))
    assert isinstance(ladder, IntelligentController) and isinstance(local, IntelligentController)
    assert ladder.oral_per_it_mg == 300.0 and local.oral_per_it_mg == 100.0
    # Same patient, same five days of observations, 240 mg/day oral morphine still taken: at
    # 300:1 it is worth 0.8 mg/day IT, at 100:1 2.4 mg/day, so the estimate differs: the same
    # pain at a larger IT-equivalent dose means a less potent drug (a higher ED50).
    cur = therapy(it_mg=1.0, oral_mg=240.0)
    ed50 = []
    for ctl in (ladder, local):
        state = ctl.initial(cur)
        for day in range(5):
            _, state = ctl.recommend(state, observations(day=day, diary_mean_nrs=3.0), cur)
        w = state.response.weights[0]
        ed50.append(float(np.exp(np.sum(w * np.log(ctl.model.theta)))))
    assert ed50[1] > 1.05 * ed50[0]


def test_settings_are_plain_values() -> None:
    limits = LibraryLimits.from_drug(MORPHINE)
    settings = ControllerSettings(bounds=ClinicianBounds(), library=limits, oral_to_it_ratio=300.0)
    assert settings == settings_for(MORPHINE, ClinicianBounds())
