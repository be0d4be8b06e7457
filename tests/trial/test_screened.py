"""Trials from referral (issue 15, part 4): the intake, the screened arm by intention to treat
and as treated, the flow of patients, and the screen's predictive value at 4 weeks."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from idds.drugs import load_library
from idds.physiology import archetype, sample_cohort, typical_cohort
from idds.physiology.survival import death_days, prognosis_days
from idds.selection import CandidacyOutcome, assess, load_criteria
from idds.selection.screening_rules import ScreeningVerdict
from idds.trial import TrialConfig, TrialError, run_trial
from idds.trial.engine import TrialSettings, run_in
from idds.trial.intake import (
    INTRATHECAL,
    NOT_EVALUABLE,
    VERDICT_CODES,
    IntakeSettings,
    Pathway,
    refer,
)
from idds.trial.registry import arm
from idds.trial.report import metrics_json
from idds.trial.runner import TrialResult
from idds.trial.screened import SUCCESS_DAY, ScreenedArm
from tests.cli.helpers import assert_clean_refusal, idds

LIBRARY = load_library()
CRITERIA = load_criteria()


@lru_cache(maxsize=4)
def trial(arms: tuple[str, ...], patients: int = 60, days: int = SUCCESS_DAY, seed: int = 2,
          batch_size: int = 500, archetype_name: str = "typical-tolerant") -> TrialResult:
    return run_trial(TrialConfig(patients=patients, days=days, arms=arms, seed=seed,
                                 batch_size=batch_size, archetype=archetype_name))


def test_each_patient_of_the_screened_arm_follows_the_arm_they_received() -> None:
    """Intention to treat: the implanted and the external-catheter patients have exactly the
    it-standard course of the same virtual patient, everyone else the cmm course."""
    result = trial(("cmm", "it-standard", "it-screened"))
    screened = result.arms["it-screened"]
    assert screened.selection is not None
    it = screened.selection.intake.intrathecal
    assert 0 < it.sum() < it.size
    for key, values in screened.history.items():
        expected = np.where(it, result.arms["it-standard"].history[key],
                            result.arms["cmm"].history[key])
        np.testing.assert_array_equal(values, expected, err_msg=key)
    np.testing.assert_array_equal(screened.grades, np.where(
        it[None, None, :], result.arms["it-standard"].grades, result.arms["cmm"].grades))


def test_the_flow_accounts_for_every_referred_patient() -> None:
    f = trial(("cmm", "it-standard", "it-screened")).arms["it-screened"].flow
    assert f is not None
    assert f.referred == 60
    assert (sum(f.excluded.values()) + f.external_catheter + f.implanted_without_screening
            + f.screened) == f.referred
    assert sum(f.screen_results.values()) == f.screened
    assert f.implanted_after_screening + f.not_implanted_after_screening == f.screened
    assert f.received["intrathecal"] == (f.external_catheter + f.implanted_without_screening
                                         + f.implanted_after_screening)
    assert sum(f.received.values()) == f.referred
    assert f.analysed_itt == sum(f.analysed_as_treated.values())


def test_only_a_positive_screen_leads_to_an_implant_under_the_reference_criteria() -> None:
    intake = trial(("cmm", "it-standard", "it-screened")).arms["it-screened"].selection
    assert intake is not None
    i = intake.intake
    positive = i.screen == VERDICT_CODES.index(ScreeningVerdict.POSITIVE)
    assert np.array_equal(positive, i.route == Pathway.SCREENED_IMPLANTED)
    # relief at the threshold of the criteria (50%) on the sustained entries
    assert np.all(i.screen_relief_percent[positive] >= 50)
    assert np.all(np.isnan(i.screen_relief_percent[~i.screened]))


def test_the_intake_is_the_candidacy_assessment_of_each_record() -> None:
    """The route comes from the signed criteria: a patient whose estimated life expectancy
    is below the route cut (90 days) gets an external catheter, never a screening."""
    cohort = sample_cohort(40, 4)
    _, baseline = run_in(cohort, TrialSettings(days=1))
    intake = refer(cohort, baseline.row["pain_mean"], baseline.grades, LIBRARY, CRITERIA,
                   IntakeSettings())
    short = cohort.prognosis_days < 90
    assert short.any() and (~short).any()
    assert np.all(intake.route[short] == Pathway.EXTERNAL_CATHETER)
    assert not intake.screened[short].any()
    assert np.all(intake.screened[~short])  # this refractory cohort: all candidates


def test_patients_without_an_indication_are_excluded_and_continue_cmm() -> None:
    """Opioid-naive patients on no systemic opioid have neither refractory pain nor
    intolerable side effects: not candidates, so the screened arm is cmm for them."""
    result = trial(("cmm", "it-screened"), patients=8, days=3, archetype_name="opioid-naive")
    f = result.arms["it-screened"].flow
    assert f is not None
    assert sum(f.excluded.values()) == 8 and f.screened == 0
    assert any("no indication" in why for why in f.excluded)
    for key, values in result.arms["it-screened"].history.items():
        np.testing.assert_array_equal(values, result.arms["cmm"].history[key], err_msg=key)
    assert result.arms["it-screened"].predictive is None


def test_predictive_value_counts_every_evaluable_screened_patient() -> None:
    a = trial(("cmm", "it-standard", "it-screened")).arms["it-screened"]
    p, s = a.predictive, a.selection
    assert p is not None and s is not None
    assert p.true_positive + p.false_positive + p.false_negative + p.true_negative == p.evaluable
    assert p.evaluable + p.not_evaluable == int(s.intake.screened.sum())
    tested = s.it_success[s.intake.screened]
    assert int(np.sum(tested != NOT_EVALUABLE)) == p.evaluable
    assert np.all(s.it_success[~s.intake.screened] == NOT_EVALUABLE)
    if p.positive_predictive_value.n:
        assert p.positive_predictive_value.mean == pytest.approx(
            100 * p.true_positive / (p.true_positive + p.false_positive))
    # the dead are not evaluable: nobody who died before day 28 has an outcome
    dead = a.death_day < SUCCESS_DAY
    assert np.all(s.it_success[dead] == NOT_EVALUABLE)


def test_a_short_trial_reports_no_predictive_value() -> None:
    result = trial(("it-screened",), patients=20, days=5)
    assert result.arms["it-screened"].predictive is None
    assert result.arms["it-screened"].flow is not None


def test_the_same_seed_gives_the_same_screened_arm_whatever_the_batches() -> None:
    one = trial(("it-screened",), patients=24, days=4, batch_size=500).arms["it-screened"]
    many = trial(("it-screened",), patients=24, days=4, batch_size=7).arms["it-screened"]
    assert one.flow == many.flow
    for key, values in one.history.items():
        np.testing.assert_array_equal(values, many.history[key], err_msg=key)
    assert one.metrics == many.metrics


def test_any_intrathecal_arm_can_start_from_referral() -> None:
    found = arm("it-intelligent+screened")
    assert isinstance(found, ScreenedArm) and found.inner.name == "it-intelligent"
    result = trial(("it-intelligent+screened",), patients=10, days=3)
    assert result.arms["it-intelligent+screened"].flow is not None
    with pytest.raises(TrialError, match="intrathecal arm"):
        TrialConfig(patients=5, days=3, arms=("cmm+screened",))
    with pytest.raises(TrialError, match="intrathecal arm"):
        TrialConfig(patients=5, days=3, arms=("it-screened+screened",))


def test_the_json_carries_both_analyses_and_the_flow() -> None:
    data = metrics_json(trial(("cmm", "it-standard", "it-screened")))
    intake = data["arms"]["it-screened"]["intake"]
    assert set(intake) == {"flow", "as_treated", "predictive_value"}
    assert set(intake["as_treated"]) == {"intrathecal", "cmm"}
    assert intake["flow"]["referred"] == 60
    assert "intake" not in data["arms"]["cmm"]
    json.dumps(data)  # serialisable


def test_prognosis_is_the_patients_own_median_survival() -> None:
    """The team's estimate: ln 2 / the patient's hazard; over a cohort its median is near the
    archetype's, a shorter estimate goes with an earlier death on average, and the typical
    patient of a story gets the archetype's median."""
    cohort = sample_cohort(4000, 9)
    median = archetype("typical-tolerant").median_survival_days
    assert median is not None
    assert np.median(cohort.prognosis_days) == pytest.approx(median, rel=0.08)
    short = cohort.prognosis_days < np.median(cohort.prognosis_days)
    assert np.median(cohort.death_day[short]) < np.median(cohort.death_day[~short])
    assert typical_cohort("typical-tolerant").prognosis_days[0] == median
    keys = cohort.keys[:5]
    assert np.all(np.isinf(prognosis_days(keys, None)))
    assert np.all(np.isinf(death_days(keys, None)))


def test_a_screen_just_short_of_the_threshold_never_passes_the_criteria() -> None:
    """The sustained relief is rounded down into the record, so 49.9% is not 50%."""
    from dataclasses import replace

    from idds.selection.screening_verdict import ScreeningDecision
    from idds.trial.referral import referral_record

    decision = ScreeningDecision(ScreeningVerdict.NEGATIVE, ("not enough relief",), 7.0, 55.0,
                                 14.0, 1, None, sustained_relief_percent=49.9,
                                 monitored_h=24.0)
    record = referral_record("x", "cancer", ("bone",), 7.0, 300.0, [0] * 10, 200.0)
    verdict = assess(replace(record, screen=decision.as_prior_screen()), CRITERIA)
    assert decision.as_prior_screen().pain_reduction_percent == 49
    assert verdict.outcome is CandidacyOutcome.NOT_A_CANDIDATE


def test_intrathecal_routes_are_the_ones_that_deliver() -> None:
    assert {Pathway.EXTERNAL_CATHETER, Pathway.IMPLANTED_WITHOUT_SCREENING,
                           Pathway.SCREENED_IMPLANTED} == INTRATHECAL


@pytest.mark.parametrize(("args", "fragment"), [
    (("--arms", "cmm+screened"), "intrathecal arm"),
    (("--arms", "it-screened", "--screening", "lumbar"), "--screening 'lumbar'"),
    (("--arms", "it-screened", "--screening-days", "4"), "--screening-days must be 1-3"),
    (("--arms", "it-screened", "--screening", "bolus", "--screening-days", "2"),
     "a test bolus is one dose"),
    (("--arms", "it-screened", "--criteria", "/nonexistent/criteria.toml"), "--criteria"),
])
def test_bad_screening_options_are_refused_in_one_line(args: tuple[str, ...], fragment: str,
                                                        tmp_path: Path) -> None:
    done = idds("trial", "--patients", "4", "--days", "2", "--out", str(tmp_path), *args)
    assert_clean_refusal(done, fragment)
    assert not (tmp_path / "metrics.json").exists()


def test_a_trial_from_referral_through_the_cli(tmp_path: Path) -> None:
    done = idds("trial", "--patients", "12", "--days", "3", "--arms", "cmm,it-screened",
                "--seed", "3", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "it-screened: referred 12" in done.stdout
    assert "as treated" in done.stdout
    page = (tmp_path / "report.html").read_text()
    assert "From referral to treatment" in page and "intention to treat and as treated" in page
    assert "id='fig-flow'" in page
    assert "--screening infusion --screening-days 1" in page  # the reproduce command
