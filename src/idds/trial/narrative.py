"""The report's words: methods, the arms in plain language, and an interpretation generated
from the trial's numbers (never written in advance: every sentence reads an estimate, and
"no clear difference" is said whenever a 95% interval includes zero).
"""

from __future__ import annotations

import math

from idds import __version__
from idds.physiology import ARCHETYPES
from idds.trial.calibration import CHECK_EVERY_DAYS
from idds.trial.controlled_arms import PLUGIN_PREFIX
from idds.trial.flow import flow_lines, predictive_lines
from idds.trial.metrics import Estimate, paired_difference
from idds.trial.referral import NOTHING_AGAINST
from idds.trial.registry import ARMS
from idds.trial.registry import arm as named_arm
from idds.trial.runner import TrialConfig, TrialResult
from idds.trial.screened import ScreenedArm
from idds.trial.summary import ArmResult
from idds.trial.tables import fmt

#: Each arm in a sentence or two (the code's docstrings in idds.trial.arms and
#: idds.trial.controlled_arms give every parameter and its source).
ARM_WORDS: dict[str, str] = {
    "cmm": "comprehensive medical management without a pump: oral morphine around the clock "
    "with rescue doses, titrated at clinic visits (after 1 and 2 weeks, then every 2 weeks), "
    "one opioid rotation when side effects limit, and supportive care of side effects.",
    "it-standard": "an intrathecal pump implanted on day 0: the start dose is the oral "
    "morphine equivalent divided by the drug library's start ratio (near 100:1), oral "
    "morphine tapered off over a week, patient remote boluses, and titration by the "
    "clinician at scheduled visits (days 3, 7, 14, 21, 28, then every 4 weeks).",
    "it-intelligent": "the same pump, with the dose advised every day by the estimating "
    "controller behind the safety supervisor (which enforces the library's limits and "
    "step sizes).",
    "it-rule-based": "the same pump, with a daily rule-based titration behind the same "
    "safety supervisor.",
    "it-daily-target": "the same pump, with the diary reviewed every day by a careful "
    "clinician treating to target: the library's step up when pain is above NRS 3 and side "
    "effects do not limit (no sooner than the library's interval and the supervisor's "
    "monitoring window), down on sedation, slow breathing or limiting side effects, behind "
    "the same safety supervisor; each program change counts as a clinic visit.",
    PLUGIN_PREFIX: "a researcher's own controller (a plug-in), daily, on the same pump and "
    "behind the same safety supervisor as it-intelligent.",
    "oracle": "evaluation only: a controller that knows each virtual patient's hidden "
    "parameters picks the smallest dose meeting the same pain target, behind the same "
    "supervisor. No real clinician can do this; it bounds what better control could gain.",
}

REFERENCE_ARM = "cmm"


def arm_words(name: str) -> str:
    """The arm in a sentence or two (a screened arm: the intake, then its inner arm's)."""
    if name.startswith(PLUGIN_PREFIX):
        return ARM_WORDS[PLUGIN_PREFIX]
    found = named_arm(name)
    if isinstance(found, ScreenedArm):
        return ("from referral, by intention to treat: each patient's record at referral is "
                "assessed against the candidacy criteria; those sent to a screening trial are "
                "screened, and implanted if it is positive; those with a short life "
                "expectancy receive an external catheter without screening; everyone "
                "receiving intrathecal therapy is then treated as in "
                f"{found.inner.name} ({arm_words(found.inner.name)}); everyone else "
                "continues cmm.")
    return ARM_WORDS[name]


def reproduce_command(result: TrialResult) -> str:
    """The command that gives the same numbers (a trial run to a precision: a plain trial of
    the patients it ran, which the stopping rule guarantees is the same)."""
    c = result.config
    return (f"idds trial --patients {c.patients} --days {c.days} --arms {','.join(c.arms)} "
            f"--seed {c.seed} --archetype {c.archetype} --batch-size {c.batch_size}"
            + ("" if c.histories == TrialConfig.histories else f" --histories {c.histories}")
            + ("" if c.scenario is None else f" --scenario {c.scenario}")
            + ("" if not c.screened_arms() else
               f" --screening {c.screening} --screening-days {c.screening_days}"
               + ("" if c.criteria is None else f" --criteria {c.criteria}")))


def methods(result: TrialResult) -> list[str]:
    """Paragraphs: the cohort, the arms, the model and how to reproduce the run."""
    c = result.config
    archetype = ARCHETYPES[c.archetype]
    arms = [f"Arm {name}: {arm_words(name)}" for name in c.arms]
    if c.screened_arms():
        length = f" over {c.screening_days} day(s)" if c.screening == "infusion" else ""
        criteria = "the reference set" if c.criteria is None else str(c.criteria)
        arms.append(f"Intake of the screened arms: screening by {c.screening}{length}, "
                    f"candidacy criteria {criteria}; day 0 is the day of the decision. "
                    f"{NOTHING_AGAINST.capitalize()}.")
    scenario = c.loaded_scenario()
    events = ([] if scenario is None else
              [f"Scenario '{scenario.name}' ({c.scenario}): "
               f"{scenario.description or 'no description'} ({len(scenario.breakthrough)} "
               f"scheduled breakthrough-pain events, {len(scenario.missing_diary)} "
               "missing-diary events, on top of the model's own)."])
    found = result.precision
    stopped = ([] if found is None else [
        f"Sample size: set by a stopping rule. Batches ran in patient order until the exact "
        f"95% interval of {found.precision.outcome} was no wider than "
        f"{100 * found.precision.width:.0f}% of the rate in every arm, within a budget of "
        f"{found.patients_budget:,} patients: "
        + ("reached" if found.reached else "not reached, the budget was spent")
        + f" after {found.patients_run:,}. A stop that depends on the events counted makes "
        "the interval's coverage approximate rather than exact (slightly, at the tens of "
        "events such a target needs)."])
    return [
        f"Cohort: {c.patients} virtual patients of the archetype '{c.archetype}' "
        f"({archetype.description}), sampled with seed {c.seed}. Every arm treats the same "
        "patients with the same random events (common random numbers), so differences "
        "between arms are paired.",
        *arms,
        f"Simulation: {c.days} days in steps of {c.dt_min:g} min after one run-in day on each "
        f"patient's prior oral morphine (the baseline). Model: IDDS {__version__}; the "
        "pharmacology, side-effect grading and survival assumptions are documented with "
        "their sources in docs/physiology.md and docs/trial.md.",
        *events,
        *stopped,
        f"Reproduce this report: {reproduce_command(result)}",
    ]


def _interval(est: Estimate) -> str:
    if not (math.isfinite(est.low) and math.isfinite(est.high)):
        return "interval not estimable"
    return f"95% CI {fmt(est.low)} to {fmt(est.high)}"


def _compare(what: str, unit: str, est: Estimate, better: str, worse: str) -> str:
    """One paired comparison in words; 'better'/'worse' name the direction of a positive
    difference and a negative one."""
    what = what[0].upper() + what[1:]
    if not math.isfinite(est.mean):
        return f"{what}: not estimable."
    if math.isfinite(est.low) and math.isfinite(est.high) and est.low <= 0 <= est.high:
        return (f"{what}: no clear difference ({fmt(est.mean)} {unit}, {_interval(est)}).")
    direction = better if est.mean > 0 else worse
    return f"{what}: {fmt(est.mean)} {unit} ({_interval(est)}), {direction}."


def _against(reference: ArmResult, arm: ArmResult) -> str:
    ref, out = reference.outcomes, arm.outcomes
    parts = [
        _compare("time in target (pain controlled while awake, no grade >= 2 side effect "
                 "of the opioid)", "percentage points",
                 paired_difference(ref, out, "time_in_target_percent"),
                 "more time in target", "less time in target"),
        _compare("time with pain controlled", "percentage points",
                 paired_difference(ref, out, "time_controlled_percent"),
                 "more time controlled", "less time controlled"),
        _compare("pain change from baseline", "percentage points",
                 paired_difference(ref, out, "pain_change_percent"),
                 "less relief", "more relief"),
        _compare("composite toxicity change from baseline", "percentage points",
                 paired_difference(ref, out, "toxicity_change_percent"),
                 "more side effects", "fewer side effects"),
        _compare("total opioid (oral morphine equivalent)", "mg/day",
                 paired_difference(ref, out, "ome_mg_per_day"),
                 "more opioid", "less opioid"),
    ]
    return (f"{arm.name} against {reference.name}, the same patients (arm minus "
            f"{reference.name}). " + " ".join(parts))


def _pump_dose(arm: ArmResult) -> str | None:
    ratio = arm.metrics["prior_oral_per_it"]
    if not math.isfinite(ratio.mean) or ratio.mean <= 0:
        return None
    return (f"In {arm.name} the intrathecal dose was 1/{ratio.mean:.0f} of the same patients' "
            f"prior oral dose ({_interval(ratio)}).")


def _refusals(arm: ArmResult) -> str | None:
    presses = arm.metrics["presses_per_day"].mean
    refused = arm.metrics["refused_per_day"].mean
    if not (math.isfinite(presses) and presses > 0):
        return None
    settings = ARMS.get(arm.name)
    lockout = getattr(settings, "lockout_min", None)
    most = getattr(settings, "max_boluses_per_day", None)
    rule = (f"within the {lockout / 60:g} h lockout after a bolus or beyond {most} a day"
            if lockout is not None and most is not None else "by the lockout or daily maximum")
    text = (f"In {arm.name}, patients pressed the remote {fmt(presses)} times a day and the "
            f"pump refused {fmt(refused)} of them ({fmt(100 * refused / presses)}%): a "
            f"refused press gives no drug; the pump refuses presses {rule}.")
    if refused / presses > 0.5:
        text += (" Most presses being refused means breakthrough pain came more often than "
                 "the bolus settings allow: a clinician would review the lockout, the bolus "
                 "size or the basal dose.")
    if lockout is not None:
        text += (" These bolus settings are IDDS assumptions from patient-remote practice "
                 "(10% of the daily dose per bolus), not figures from a published protocol.")
    return text


def _breathing(result: TrialResult) -> str:
    parts = []
    for name, arm in result.arms.items():
        est = arm.metrics["respiratory_events_per_100_patient_days"]
        parts.append(f"{name} {fmt(est.mean)} ({_interval(est)})")
    return ("Respiratory depression onsets per 100 patient-days: " + "; ".join(parts) + ".")


def interpretation(result: TrialResult) -> list[str]:
    """Paragraphs read from the numbers of this trial."""
    arms = result.arms
    reference = arms.get(REFERENCE_ARM) or next(iter(arms.values()))
    paragraphs = [_against(reference, arm) for name, arm in arms.items()
                  if name != reference.name and name != "oracle"]
    if not paragraphs:
        paragraphs.append(f"Only {reference.name} ran: there is no comparison to make.")
    paragraphs += [text for arm in arms.values() for text in (_pump_dose(arm), _refusals(arm))
                   if text is not None]
    paragraphs.append(_breathing(result))
    paragraphs.append("These are the model's predictions for virtual patients under stated "
                      "assumptions, not evidence about real patients; intervals are over "
                      "the virtual cohort only.")
    return paragraphs


def checks(result: TrialResult) -> list[str]:
    """The checks against the published findings (idds.trial.claims), one line each."""
    from idds.trial.claims import check

    found = check(result)
    if not found:
        return ["These checks need the arms cmm and it-standard."]
    return [f"{c.statement}: {'holds' if c.holds else 'does not hold'}. {c.evidence}"
            for c in found]


def survival(result: TrialResult) -> list[str]:
    days = result.config.days
    lines = []
    for name, arm in result.arms.items():
        median = arm.survival.median_days()
        median_text = "not reached" if math.isnan(median) else f"{median:.0f} days"
        lines.append(f"{name}: {fmt(100 * arm.survival.at(days))}% alive on day {days}; "
                     f"median survival {median_text}.")
    lines.append("Every metric treats death as censoring: a patient counts only on the days "
                 "alive. The disease hazard does not depend on pain or symptoms (hazard ratio "
                 "1.0, an assumption), so with common random numbers the same patients die on "
                 "the same days in every arm.")
    return lines


def intake(result: TrialResult) -> list[str]:
    """Each screened arm's flow, its two analyses in words and the screen's predictive value
    (empty without a screened arm)."""
    out = []
    for name, found in result.arms.items():
        if found.flow is None or found.as_treated is None:
            continue
        out += flow_lines(name, found.flow)
        out.append(f"{name} is analysed two ways: by intention to treat (every referred "
                   "patient, whatever they received: the arm's column in the outcomes) and as "
                   "treated (those who received intrathecal therapy and those who continued "
                   "cmm, separately: the as-treated table). The as-treated groups are not "
                   "comparable with each other: the workflow chose who received what.")
        out += predictive_lines(found.predictive)
    return out


def forecasts(result: TrialResult, patient: int) -> list[str]:
    """How honest each estimating controller's forecasts were (`idds.trial.calibration`), and
    what it believed about `patient` (cohort index) at its last check; empty without one."""
    out = []
    for name, arm in result.arms.items():
        found = arm.calibration.summary()
        if found is None:
            continue
        believed = arm.calibration.believed
        last = believed[patient] if patient < len(believed) else None
        level = 100 * found["interval_level"]
        out.append(
            f"{name}: every {CHECK_EVERY_DAYS} days the controller forecast the next day's "
            f"diary mean on the plan it delivered, with an {level:.0f}% predictive interval "
            "(from its beliefs about each patient: maximal relief, potency, pain drive, "
            "progression and side-effect sensitivity, with uncertainty; `idds program advise` "
            "shows them for one patient). Over "
            f"{found['forecast_patient_days']:,} patient-days the diary fell inside the "
            f"interval {100 * found['coverage']:.1f}% of the time (an honest interval: about "
            f"{level:.0f}%; less: overconfident; more: wider than it needs to be); the forecast "
            f"mean was off by {found['bias_nrs']:+.2f} NRS on average (root mean square "
            f"{found['rmse_nrs']:.2f} NRS). It expected {100 * found['in_target_predicted']:.1f}"
            f"% of the waking day with pain at or below target; the patients had "
            f"{100 * found['in_target_observed']:.1f}%. The reported side-effect burden fell "
            f"inside its {level:.0f}% interval {100 * found['burden_coverage']:.1f}% of the "
            f"time; it expected a dose-limiting side effect to limit "
            f"{100 * found['limiting_predicted']:.1f}% of the days (moderate or worse), and one "
            f"did on "
            f"{100 * found['limiting_observed']:.1f}%.")
        if last is not None:
            day, beliefs = last
            out.append(f"What {name} believed about patient {patient} (the patient of the day "
                       f"view) on the evening of day {day + 1}, from its diary, presses and "
                       "pump log only: " + "; ".join(beliefs.lines()) + ".")
    return out
