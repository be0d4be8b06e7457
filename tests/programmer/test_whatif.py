"""What-if (issue 17): the estimate fitted to one patient's record forecasts the program in
force and a proposed one, 7 and 14 days ahead, with its interval; on the fixture scenarios
(the pump on the in-memory link, the clinician's observations file)."""

from __future__ import annotations

import tomllib
from fractions import Fraction
from pathlib import Path

import pytest

from idds.programmer.advisory import gather, parse_observations
from idds.programmer.advisory.whatif import HORIZONS, WhatIf, what_if
from idds.pump import Continuous, Therapy
from tests.programmer.rig import LIBRARY, Rig, run
from tests.programmer.test_advice_fixtures import FIXTURES, _pump_on, _when


def _outlook(name: str, tmp: Path, dose_factor: Fraction) -> WhatIf:
    folder = FIXTURES / name
    scenario = tomllib.loads((folder / "scenario.toml").read_text())
    rig = Rig(tmp)
    status, log = run(gather(_pump_on(rig, scenario["pump"], 0)))
    running = status.therapy
    assert isinstance(running.basal, Continuous)
    proposed = Therapy(Continuous(running.basal.dose_rate * dose_factor),
                       running.demand)
    clinical = parse_observations(tomllib.loads((folder / "observations.toml").read_text()),
                                  folder)
    return what_if(status, log, clinical, LIBRARY, _when(scenario["visit"]["now"]), proposed)


@pytest.mark.parametrize("name", ["uncontrolled_intelligent", "uncontrolled_rule_based"])
def test_more_dose_is_predicted_to_lower_pain_with_an_interval(name: str,
                                                              tmp_path: Path) -> None:
    result = _outlook(name, tmp_path, Fraction(3, 2))
    assert [o.horizon_days for o in result.outlooks] == list(HORIZONS) == [7.0, 14.0]
    for o in result.outlooks:
        for f in (o.current, o.proposed):
            assert 0 <= f.nrs_low <= f.nrs <= f.nrs_high <= 10
            assert 0 <= f.in_target <= 1
        assert o.proposed.dose_mg_per_day == pytest.approx(1.5 * o.current.dose_mg_per_day)
        assert o.proposed.nrs < o.current.nrs
        assert o.proposed.in_target >= o.current.in_target
        # side effects forecast too: more dose, more expected burden, and the later day the
        # wider interval
        for f in (o.current, o.proposed):
            assert 0 <= f.burden_low <= f.burden <= f.burden_high <= 10
            assert 0 <= f.limiting <= 1 and f.time_in_target <= f.in_target
        assert o.proposed.burden > o.current.burden
        assert o.proposed.limiting >= o.current.limiting
    week, fortnight = result.outlooks
    assert (fortnight.current.burden_high - fortnight.current.burden_low
            > week.current.burden_high - week.current.burden_low)
    assert result.beliefs.max_relief.low <= result.beliefs.max_relief.median <= \
        result.beliefs.max_relief.high


def test_the_same_program_is_predicted_the_same(tmp_path: Path) -> None:
    result = _outlook("uncontrolled_intelligent", tmp_path, Fraction(1))
    for o in result.outlooks:
        assert o.proposed == o.current
