"""Scenario in, verdict out: each fixture under tests/fixtures/selection/ changes the base
patient and names the verdict and the criteria that must decide it (or the refusal)."""

from __future__ import annotations

import pytest

from idds.selection import (
    CandidacyOutcome,
    CandidateFileError,
    assess,
    load_criteria,
    parse_candidate,
)
from tests.selection.scenario import Scenario, scenarios

CRITERIA = load_criteria()
SCENARIOS = scenarios()


def test_there_is_a_fixture_for_every_criterion_that_can_decide() -> None:
    decided = {c for s in SCENARIOS for c in s.deciding}
    assert decided == set(CRITERIA.criteria) - {"vertebral-metastases", "performance-status",
                                                "trial-skip-short-prognosis"}
    assert {s.outcome for s in SCENARIOS} >= {o.value for o in CandidacyOutcome}


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s.refused is None],
                         ids=lambda s: s.name)
def test_scenario_verdict(scenario: Scenario) -> None:
    verdict = assess(parse_candidate(scenario.patient, f"{scenario.name}.toml"), CRITERIA)
    assert verdict.outcome.value == scenario.outcome, verdict.reasons
    assert set(verdict.deciding) == set(scenario.deciding), verdict.reasons
    for criterion in scenario.deciding:  # each deciding criterion has its reason and source
        finding = verdict.finding(criterion)
        assert finding.reason and finding.source
        assert any(reason.startswith(f"{criterion}: ") for reason in verdict.reasons)
    if verdict.outcome is CandidacyOutcome.DEFERRED:
        assert [fix.split(":")[0] for fix in verdict.to_fix] == list(verdict.deciding)
        assert all(fix.split(": ", 1)[1] for fix in verdict.to_fix)
    else:
        assert verdict.to_fix == ()


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s.refused is not None],
                         ids=lambda s: s.name)
def test_scenario_refused(scenario: Scenario) -> None:
    with pytest.raises(CandidateFileError) as caught:
        parse_candidate(scenario.patient, f"{scenario.name}.toml")
    message = str(caught.value)
    assert scenario.refused is not None and scenario.refused in message
    assert message.startswith(f"{scenario.name}.toml: ")  # names the file
    assert "\n" not in message
