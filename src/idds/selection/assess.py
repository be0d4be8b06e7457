"""The candidacy decision: a pure function of the record and the criteria (no clock, no I/O).

Order (docs/selection.md, "Verdicts"), as a multidisciplinary team would weigh it:

1. any absolute contraindication met -> NOT_A_CANDIDATE (every one met decides);
2. no indication met (refractory pain, intolerable side effects) -> NOT_A_CANDIDATE;
3. any relative contraindication met -> DEFERRED, with what to fix first for each;
4. a valid screening trial already done (observed long enough, monitored) that was negative
   -> NOT_A_CANDIDATE, whatever the route;
5. life expectancy below the route cut (about 3 months) -> EXTERNAL_CATHETER;
   a valid positive trial -> IMPLANTED_PUMP; a trial that does not count (too short,
   unmonitored) -> SCREENING_TRIAL_FIRST;
6. no trial yet: IMPLANTED_PUMP only where the criteria allow skipping the trial for a short
   prognosis and the prognosis is below that cut; otherwise SCREENING_TRIAL_FIRST.

Every criterion in the file gets a `Finding` (met, not met, not applicable) with the value,
the threshold and the source, so the finish screen shows what was weighed, not only what
decided.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from idds.selection.criteria import CandidacyCriteria, Criterion, CriterionKind
from idds.selection.record import CandidateRecord
from idds.selection.verdict import CandidacyOutcome, CandidacyVerdict, CriterionStatus, Finding
from idds.units import Quantity

MET, NOT_MET, NA = CriterionStatus.MET, CriterionStatus.NOT_MET, CriterionStatus.NOT_APPLICABLE
INDICATIONS = ("refractory-pain", "intolerable-side-effects")


def _f(c: Criterion, status: CriterionStatus, value: str, threshold: str, reason: str,
       fix: str = "") -> Finding:
    relative = c.kind is CriterionKind.RELATIVE and status is MET
    return Finding(c.id, c.kind, status, value, threshold, reason, c.source, c.assumption,
                   fix if relative else "")


def _flag(field: str, present: bool, what: str, fix: str) -> Callable[
        [CandidateRecord, Criterion], Finding]:
    """A yes/no contraindication read from one record field."""
    def judge(r: CandidateRecord, c: Criterion) -> Finding:
        del r
        return _f(c, MET if present else NOT_MET, _yes(present), "present",
                  f"{what} {'present' if present else 'absent'}", fix)
    return judge


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _inr(value: Fraction) -> str:
    """An INR with at least one decimal ("1.0", "1.25")."""
    text = f"{float(value):.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def _days(q: Quantity) -> str:
    return q.display("day")


def refractory_pain(r: CandidateRecord, c: Criterion) -> Finding:
    nrs, ome = c.score("pain_nrs_at_least"), c.quantity("ome_at_least")
    worst, dose = r.pain.worst, r.regimen.oral_morphine_equivalent
    value = (f"NRS {worst} (rest {r.pain.nrs_rest}, movement {r.pain.nrs_movement}) on "
             f"{dose.display('mg/day')} OME")
    threshold = f"NRS >= {nrs} despite >= {ome.display('mg/day')} OME"
    pain_ok, dose_ok = worst >= nrs, dose >= ome
    reason = (f"worst pain NRS {worst} {'>=' if pain_ok else '<'} {nrs}; oral morphine "
              f"equivalent {dose.display('mg/day')} {'>=' if dose_ok else '<'} "
              f"{ome.display('mg/day')}")
    return _f(c, MET if pain_ok and dose_ok else NOT_MET, value, threshold, reason)


def intolerable_side_effects(r: CandidateRecord, c: Criterion) -> Finding:
    severe, lasting = c.score("grade_at_least"), c.score("persistent_grade_at_least")
    se = r.side_effects
    shown = ", ".join(f"{name} {grade}" + (" persistent" if name in se.persistent else "")
                      for name, grade in sorted(se.grades.items()) if grade > 0) or "none"
    threshold = f"any grade >= {severe}, or grade >= {lasting} persisting"
    hits = [f"{name} grade {grade} >= {severe}" for name, grade in sorted(se.grades.items())
            if grade >= severe]
    hits += [f"{name} grade {se.grade(name)} >= {lasting} persisting" for name in
             sorted(se.persistent) if lasting <= se.grade(name) < severe]
    if not r.regimen.oral_morphine_equivalent.is_positive():
        return _f(c, NOT_MET, shown, threshold, "no current opioid regimen (0 mg/day OME): "
                  "side effects of an effective dose cannot be judged")
    if hits:
        return _f(c, MET, shown, threshold, "; ".join(hits))
    return _f(c, NOT_MET, shown, threshold, f"no side effect at grade >= {severe} and none at "
              f"grade >= {lasting} persisting")


def coagulation_values(r: CandidateRecord, c: Criterion) -> Finding:
    inr_cut, plt_cut = c.ratio("inr_above"), c.score("platelets_below")
    k = r.coagulation
    inr_text = _inr(k.inr)
    value = f"INR {inr_text}, platelets {k.platelets_e9_per_l} x10^9/L"
    threshold = f"INR > {_inr(inr_cut)} or platelets < {plt_cut} x10^9/L"
    bad = []
    if k.inr > inr_cut:
        bad.append(f"INR {inr_text} > {_inr(inr_cut)}")
    if k.platelets_e9_per_l < plt_cut:
        bad.append(f"platelets {k.platelets_e9_per_l} < {plt_cut} x10^9/L")
    return _f(c, MET if bad else NOT_MET, value, threshold,
              "; ".join(bad) or "INR and platelets within the procedure's limits",
              "correct the INR / platelet count and recheck before the procedure")


def anticoagulant(r: CandidateRecord, c: Criterion) -> Finding:
    k = r.coagulation
    if not k.on_anticoagulant:
        return _f(c, NOT_MET, "anticoagulant: none", "taken and not stopped", "no anticoagulant")
    state = "stopped" if k.anticoagulant_stopped else "not stopped"
    return _f(c, NOT_MET if k.anticoagulant_stopped else MET, f"{k.anticoagulant}, {state}",
              "taken and not stopped", f"{k.anticoagulant} {state}",
              f"pause {k.anticoagulant} before the neuraxial procedure as the site's "
              "anticoagulation guidance says (the prescriber decides on bridging)")


def respiratory(r: CandidateRecord, c: Criterion) -> Finding:
    grade, cut = r.side_effects.grade("respiratory_depression"), c.score(
        "side_effect_grade_at_least")
    flagged = r.conditions.significant_respiratory_depression
    met = flagged or grade >= cut
    return _f(c, MET if met else NOT_MET,
              f"significant {_yes(flagged)}; grade {grade}",
              f"significant, or grade >= {cut}",
              "significant respiratory depression" if flagged else
              (f"respiratory depression grade {grade} {'>=' if met else '<'} {cut}"))


def mao_inhibitor(r: CandidateRecord, c: Criterion) -> Finding:
    washout, last = c.quantity("washout"), r.conditions.mao_inhibitor_last_dose
    threshold = f"last dose < {_days(washout)} ago"
    if last is None:
        return _f(c, NOT_MET, "none taken", threshold, "no MAO inhibitor")
    value = "taking one now" if not last.is_positive() else f"last dose {_days(last)} ago"
    if last >= washout:
        return _f(c, NOT_MET, value, threshold, f"{value} >= {_days(washout)}")
    return _f(c, MET, value, threshold, f"{value} < {_days(washout)}",
              f"stop the MAO inhibitor; eligible {_days(washout - last)} from now "
              f"({_days(washout)} after the last dose)")


def csf_flow(r: CandidateRecord, c: Criterion) -> Finding:
    k = r.conditions
    met = k.csf_flow_obstruction or k.epidural_disease_at_catheter_level
    value = (f"CSF obstruction {_yes(k.csf_flow_obstruction)}; epidural disease "
             f"{_yes(k.epidural_disease_at_catheter_level)}")
    return _f(c, MET if met else NOT_MET, value, "either present",
              "drug will not spread past the obstruction or epidural disease" if met
              else "no CSF flow obstruction, no epidural disease at the catheter level")


def refills(r: CandidateRecord, c: Criterion) -> Finding:
    p = r.psychosocial
    missing = [what for what, ok in (("no one to bring the patient to refills",
                                      p.social_support),
                                     ("cannot keep refill appointments", p.can_attend_refills))
               if not ok]
    return _f(c, MET if missing else NOT_MET,
              f"support {_yes(p.social_support)}; can attend {_yes(p.can_attend_refills)}",
              "either missing",
              "; ".join(missing) or "support and refill attendance in place",
              "arrange someone to bring the patient to refills, or refills at home")


def vertebral(r: CandidateRecord, c: Criterion) -> Finding:
    present = r.conditions.vertebral_metastases
    return _f(c, MET if present else NA, _yes(present),
              "never decides alone",
              "vertebral metastases alone are not a contraindication (weighed with "
              "csf-flow-obstruction)" if present else "no vertebral metastases")


def performance(r: CandidateRecord, c: Criterion) -> Finding:
    value = f"ECOG {r.ecog}" if r.ecog is not None else f"Karnofsky {r.karnofsky}"
    return _f(c, NA, value, "no cut in the sources",
              f"{value}: weighed by the team with the medical status")


def life_expectancy(r: CandidateRecord, c: Criterion) -> Finding:
    cut, left = c.quantity("external_below"), r.life_expectancy
    below = left < cut
    return _f(c, MET if below else NOT_MET, _days(left),
              f"< {_days(cut)}: external catheter; otherwise implanted pump",
              f"life expectancy {_days(left)} {'<' if below else '>='} {_days(cut)}: "
              f"{'external (tunnelled) catheter' if below else 'totally implanted pump'}")


def screen_result(r: CandidateRecord, c: Criterion) -> str:
    """"none" (no trial yet), "invalid" (too short or unmonitored), "positive", "negative"."""
    hours, pct = c.quantity("observe_at_least"), c.score("pain_reduction_at_least_percent")
    s = r.screen
    if s is None:
        return "none"
    if s.observed < hours or not s.monitored:
        return "invalid"
    return ("positive" if s.pain_reduction_percent >= pct and not s.intolerable_side_effects
            else "negative")


def screening(r: CandidateRecord, c: Criterion) -> Finding:
    hours, pct = c.quantity("observe_at_least"), c.score("pain_reduction_at_least_percent")
    result = screen_result(r, c)
    threshold = (f"observed >= {hours.display('h')} monitored; pain falls >= {pct}% without "
                 "intolerable side effects")
    s = r.screen
    if s is None:
        return _f(c, NA, "no trial yet", threshold, "no screening trial done yet")
    value = (f"pain -{s.pain_reduction_percent}%, observed {s.observed.display('h')}"
             f"{' monitored' if s.monitored else ' unmonitored'}"
             f"{', intolerable side effects' if s.intolerable_side_effects else ''}")
    if result == "invalid":
        return _f(c, NOT_MET, value, threshold, "the trial does not meet the observation rule "
                  f"(>= {hours.display('h')} in a monitored setting): repeat it")
    if result == "positive":
        return _f(c, MET, value, threshold, f"positive: pain fell {s.pain_reduction_percent}% "
                  f">= {pct}% without intolerable side effects")
    why = (f"pain fell {s.pain_reduction_percent}% < {pct}%" if s.pain_reduction_percent < pct
           else "intolerable side effects")
    return _f(c, NOT_MET, value, threshold, f"negative: {why}")


def trial_skip(r: CandidateRecord, c: Criterion) -> Finding:
    cut, allowed = c.quantity("life_expectancy_below"), c.flag("allowed")
    threshold = f"allowed = {str(allowed).lower()}; life expectancy < {_days(cut)}"
    if not allowed:
        return _f(c, NOT_MET, _days(r.life_expectancy), threshold,
                  "these criteria do not allow skipping the screening trial")
    below = r.life_expectancy < cut
    return _f(c, MET if below else NOT_MET, _days(r.life_expectancy), threshold,
              f"life expectancy {_days(r.life_expectancy)} {'<' if below else '>='} "
              f"{_days(cut)}: the trial {'may be skipped' if below else 'is needed'}")


def _judges(r: CandidateRecord) -> dict[str, Callable[[CandidateRecord, Criterion], Finding]]:
    k, i, p = r.conditions, r.infection, r.psychosocial
    return {
        "refractory-pain": refractory_pain,
        "intolerable-side-effects": intolerable_side_effects,
        "site-infection": _flag("infection at the site", i.at_site, "infection at the site",
                                "treat the infection at the site, then assess again"),
        "systemic-infection": _flag("systemic infection", i.systemic, "systemic infection",
                                    "treat the systemic infection, then assess again"),
        "bleeding-diathesis": _flag("uncontrolled bleeding diathesis",
                                    r.coagulation.bleeding_diathesis_uncontrolled,
                                    "uncontrolled bleeding diathesis",
                                    "bring the bleeding diathesis under control"),
        "anticoagulant-not-stopped": anticoagulant,
        "coagulation-values": coagulation_values,
        "respiratory-depression": respiratory,
        "gi-obstruction": _flag("GI obstruction", k.gi_obstruction,
                                "GI obstruction (paralytic ileus)",
                                "resolve the obstruction or ileus, then assess again"),
        "mao-inhibitor": mao_inhibitor,
        "csf-flow-obstruction": csf_flow,
        "psychological-stability": _flag("untreated major psychiatric disorder",
                                         p.untreated_major_psychiatric_disorder,
                                         "untreated major psychiatric disorder",
                                         "psychiatric assessment and treatment first"),
        "refill-attendance": refills,
        "vertebral-metastases": vertebral,
        "performance-status": performance,
        "life-expectancy-route": life_expectancy,
        "screening-trial": screening,
        "trial-skip-short-prognosis": trial_skip,
    }


def assess(record: CandidateRecord, criteria: CandidacyCriteria) -> CandidacyVerdict:
    """The candidacy verdict for `record` under `criteria`, with every finding and reason."""
    judges = _judges(record)
    findings = tuple(judges[cid](record, c) for cid, c in criteria.criteria.items())
    by_id = {f.criterion: f for f in findings}

    def verdict(outcome: CandidacyOutcome, summary: str, deciding: list[str],
                to_fix: tuple[str, ...] = ()) -> CandidacyVerdict:
        return CandidacyVerdict(outcome, summary, tuple(deciding), findings, to_fix,
                                criteria.name, criteria.version)

    met = [f for f in findings if f.status is MET]
    absolute = [f.criterion for f in met if f.kind is CriterionKind.ABSOLUTE]
    if absolute:
        return verdict(CandidacyOutcome.NOT_A_CANDIDATE,
                       "absolute contraindication: " + ", ".join(absolute), absolute)
    indicated = [cid for cid in INDICATIONS if by_id[cid].status is MET]
    if not indicated:
        return verdict(CandidacyOutcome.NOT_A_CANDIDATE, "no indication: pain is not "
                       "refractory and side effects are not intolerable", list(INDICATIONS))
    relative = [f for f in met if f.kind is CriterionKind.RELATIVE]
    if relative:
        return verdict(CandidacyOutcome.DEFERRED, "not now: fix first, then assess again",
                       [f.criterion for f in relative],
                       tuple(f"{f.criterion}: {f.fix}" for f in relative))
    result = screen_result(record, criteria["screening-trial"])
    if result == "negative":
        return verdict(CandidacyOutcome.NOT_A_CANDIDATE, "negative screening trial",
                       ["screening-trial"])
    route = [*indicated, "life-expectancy-route"]
    if by_id["life-expectancy-route"].status is MET:
        return verdict(CandidacyOutcome.EXTERNAL_CATHETER, "short life expectancy: external "
                       "(tunnelled) catheter system", route)
    if result == "positive":
        return verdict(CandidacyOutcome.IMPLANTED_PUMP, "positive screening trial: totally "
                       "implanted pump", [*route, "screening-trial"])
    if result == "invalid":
        return verdict(CandidacyOutcome.SCREENING_TRIAL_FIRST, "the screening trial done "
                       "does not count: repeat it", [*route, "screening-trial"])
    if by_id["trial-skip-short-prognosis"].status is MET:
        return verdict(CandidacyOutcome.IMPLANTED_PUMP, "totally implanted pump; these "
                       "criteria allow skipping the trial for this prognosis",
                       [*route, "trial-skip-short-prognosis"])
    return verdict(CandidacyOutcome.SCREENING_TRIAL_FIRST, "a candidate: screening trial "
                   "first, implanted pump if it is positive", [*route, "screening-trial"])
