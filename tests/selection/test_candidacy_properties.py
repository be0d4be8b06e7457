"""Properties of the decision over many records: an absolute contraindication always
excludes, every verdict carries its deciding criteria with reasons, a deferred patient always
has something to fix, and the decision is a pure function of its inputs."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from idds.selection import (
    CandidacyOutcome,
    CandidateRecord,
    Coagulation,
    Conditions,
    CriterionKind,
    CriterionStatus,
    CurrentRegimen,
    Infection,
    Pain,
    PainDistribution,
    PainType,
    PriorScreen,
    Psychosocial,
    SideEffects,
    assess,
    load_criteria,
)
from idds.units import Quantity

CRITERIA = load_criteria()
GRADES = ("constipation", "nausea", "sedation", "confusion", "respiratory_depression")
ELIGIBLE = {CandidacyOutcome.IMPLANTED_PUMP, CandidacyOutcome.EXTERNAL_CATHETER,
            CandidacyOutcome.SCREENING_TRIAL_FIRST}

days = st.integers(1, 1000).map(lambda d: Quantity.of(d, "day"))


@st.composite
def side_effects(draw: st.DrawFn) -> SideEffects:
    grades = {name: draw(st.integers(0, 4)) for name in GRADES}
    persistent = draw(st.sets(st.sampled_from([n for n, g in grades.items() if g >= 2]))
                      if any(g >= 2 for g in grades.values()) else st.just(set()))
    return SideEffects(grades, frozenset(persistent))


@st.composite
def records(draw: st.DrawFn) -> CandidateRecord:
    drug = draw(st.sampled_from(["none", "apixaban", "warfarin"]))
    ecog = draw(st.none() | st.integers(0, 4))
    return CandidateRecord(
        label="generated", diagnosis="cancer", sites_of_disease=("bone",),
        life_expectancy=draw(days), ecog=ecog,
        karnofsky=draw(st.integers(0, 10).map(lambda k: k * 10)) if ecog is None else None,
        pain=Pain(draw(st.integers(0, 10)), draw(st.integers(0, 10)),
                  draw(st.sampled_from(list(PainType))),
                  draw(st.sampled_from(list(PainDistribution)))),
        regimen=CurrentRegimen(Quantity.of(draw(st.integers(0, 2000)), "mg/day")),
        side_effects=draw(side_effects()),
        coagulation=Coagulation(Fraction(draw(st.integers(8, 40)), 10),
                                draw(st.integers(0, 500)), drug,
                                drug != "none" and draw(st.booleans()), draw(st.booleans())),
        infection=Infection(draw(st.booleans()), draw(st.booleans())),
        conditions=Conditions(*(draw(st.booleans()) for _ in range(5)),
                              mao_inhibitor_last_dose=draw(st.none() | st.integers(0, 30).map(
                                  lambda d: Quantity.of(d, "day")))),
        psychosocial=Psychosocial(*(draw(st.booleans()) for _ in range(3))),
        screen=draw(st.none() | st.builds(
            PriorScreen, st.integers(-100, 100), st.integers(1, 72).map(
                lambda h: Quantity.of(h, "h")), st.booleans(), st.booleans())),
    )


def absolute_contraindication(r: CandidateRecord) -> bool:
    """The reference file's absolute contraindications, written out independently."""
    return (r.coagulation.bleeding_diathesis_uncontrolled
            or r.conditions.significant_respiratory_depression
            or r.side_effects.grade("respiratory_depression") >= 3
            or r.conditions.gi_obstruction or r.conditions.csf_flow_obstruction
            or r.conditions.epidural_disease_at_catheter_level)


@settings(max_examples=400, deadline=None)
@given(records())
def test_an_absolute_contraindication_always_excludes(record: CandidateRecord) -> None:
    verdict = assess(record, CRITERIA)
    if absolute_contraindication(record):
        assert verdict.outcome not in ELIGIBLE
        assert verdict.outcome is CandidacyOutcome.NOT_A_CANDIDATE
        absolute = {f.criterion for f in verdict.findings
                    if f.kind is CriterionKind.ABSOLUTE and f.status is CriterionStatus.MET}
        assert absolute and set(verdict.deciding) == absolute


@settings(max_examples=400, deadline=None)
@given(records())
def test_the_reasons_always_include_the_deciding_criteria(record: CandidateRecord) -> None:
    verdict = assess(record, CRITERIA)
    assert verdict.deciding
    assert len(verdict.reasons) == len(verdict.deciding)
    for criterion, reason in zip(verdict.deciding, verdict.reasons, strict=True):
        finding = verdict.finding(criterion)
        assert reason == f"{criterion}: {finding.reason}" and finding.reason
        assert finding.source
    assert {f.criterion for f in verdict.findings} == set(CRITERIA.criteria)
    if verdict.outcome in ELIGIBLE:  # a candidate always has an indication met
        assert CriterionStatus.MET in verdict.indication.values()
        assert set(verdict.deciding) & {c for c, s in verdict.indication.items()
                                        if s is CriterionStatus.MET}


@settings(max_examples=300, deadline=None)
@given(records())
def test_deferred_means_something_to_fix_and_nothing_absolute(record: CandidateRecord) -> None:
    verdict = assess(record, CRITERIA)
    relative = [f for f in verdict.findings
                if f.kind is CriterionKind.RELATIVE and f.status is CriterionStatus.MET]
    if verdict.outcome is CandidacyOutcome.DEFERRED:
        assert not absolute_contraindication(record)
        assert verdict.to_fix and len(verdict.to_fix) == len(relative)
    if verdict.outcome in ELIGIBLE:
        assert relative == []
    if verdict.outcome is CandidacyOutcome.EXTERNAL_CATHETER:
        assert record.life_expectancy < Quantity.of(90, "day")


@settings(max_examples=300, deadline=None)
@given(records())
def test_a_valid_negative_screen_always_excludes(record: CandidateRecord) -> None:
    s = record.screen
    negative = (s is not None and s.monitored and s.observed >= Quantity.of(24, "h")
                and (s.pain_reduction_percent < 50 or s.intolerable_side_effects))
    if negative:
        assert assess(record, CRITERIA).outcome not in ELIGIBLE


@settings(max_examples=100, deadline=None)
@given(records())
def test_the_decision_is_pure(record: CandidateRecord) -> None:
    assert assess(record, CRITERIA) == assess(record, CRITERIA)
