"""Differential: the supervisor's increase rule against the drug library's own.

The library's rule (`idds.drugs.checks._increase`, through `check_therapy`) refuses a daily
dose more than `max_increase_percent` (and, where set, `max_increase` mg/day) above the
current one. The supervisor derives its per-change limit from the same library fields
(`LibraryLimits.from_drug`, `per_change_step`, `stages.limit_step`). On random current and
proposed doses it never delivers an increase the library refuses. Where they differ, by
design:
- round-off: the supervisor computes in binary floats and lets a change within a relative
  1e-9 pass unchanged (`stages.EPS`); the library reads a float through its shortest decimal
  and compares exactly. A delivered dose may so sit up to ~1e-9 (relative) above the
  library's bound, far below what a pump can be programmed to (the programmer rounds doses
  down, `idds.programmer.advisory.pump_therapy`);
- a soft limit the clinician allows: the supervisor passes it; the library reports it as a
  soft breach, for which the clinician's allowance is the override;
- a stopped pump: the supervisor never increases from zero (a restart is the clinician's);
  the library has no relative rule from zero (its check refuses a zero current dose);
- the supervisor is stricter elsewhere on purpose (the clinician's own step, the per-week
  limit, the monitoring window and gates, the bolus allowance): never looser.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from idds.control.bounds import ClinicianBounds, LibraryLimits, per_change_step
from idds.control.recommendation import Recommendation
from idds.control.supervisor import Check, SupervisorState, supervise
from idds.drugs import DrugEntry, LimitKind, Proposal, check_therapy, load_library
from idds.units import Quantity
from idds.units.quantity import exact
from tests.control.helpers import observations, therapy

LIB = load_library()
MORPHINE = LIB.drug("morphine")
ZICONOTIDE = LIB.drug("ziconotide")  # an absolute hard step: 2.4 mcg/day per change
INCREASE_RULE = {"max_increase_percent", "max_increase"}
#: Relative round-off the supervisor tolerates by design (stages.EPS), with float slack.
ROUND_OFF = Fraction(2, 10**9)


def deliver(drug: DrugEntry, current_mg: float, proposed_mg: float, bounds: ClinicianBounds
            ) -> tuple[float, int]:
    """The supervisor's delivered basal dose (mg/day) and checks for one proposal, everything
    but the increase rule out of the way (calm day, last increase long ago, no bolus)."""
    cur = therapy(it_mg=current_mg, bolus_mg=0.0, max_boluses=0)
    rec = Recommendation(cur.with_(it_mg_per_day=np.array([proposed_mg])),
                         np.zeros(1, dtype=np.int64), np.full(1, np.nan))
    decision, _ = supervise(SupervisorState.start(cur, day=-10), observations(day=10), cur,
                            rec, bounds, LibraryLimits.from_drug(drug))
    return float(decision.therapy.it_mg_per_day[0]), int(decision.checks[0])


def library_increase_breaches(drug: DrugEntry, current_mg: float, new_mg: float) -> list[str]:
    proposal = Proposal(daily_dose=Quantity.of(new_mg, "mg/day"),
                        current_daily_dose=Quantity.of(current_mg, "mg/day"))
    return [f"{b.limit_name}:{b.kind.value}" for b in check_therapy(drug, proposal).breaches
            if b.limit_name in INCREASE_RULE]


def within_round_off(drug: DrugEntry, current_mg: float, new_mg: float) -> bool:
    """Whether `new_mg` exceeds the library's increase bounds by round-off only."""
    old, new = exact(current_mg), exact(new_mg)
    ok = True
    if drug.max_increase_percent is not None:
        most = 1 + Fraction(drug.max_increase_percent.value, 100)
        ok &= new <= old * most * (1 + ROUND_OFF)
    if drug.max_increase is not None:
        step = drug.max_increase.value.value_in("mg/day")
        ok &= new - old <= step + (old + step) * ROUND_OFF
    return ok


LAX = dict(max_daily_mg=1000.0, max_increase_per_week=100.0)
doses = st.floats(0.001, 14.0)
factors = st.one_of(st.floats(1.0, 3.0), st.sampled_from([1.2, 1.2000000001, 1.2 + 1e-15]))


#: Current daily doses, mg/day, per drug: morphine's range, ziconotide's (mcg/day) below its
#: hard daily maximum of 19.2 mcg/day, where its absolute step is what binds.
drug_and_dose = st.one_of(st.tuples(st.just(MORPHINE), doses),
                          st.tuples(st.just(ZICONOTIDE), st.floats(0.0005, 0.016)))


@settings(max_examples=400, deadline=None)
@given(drug_dose=drug_and_dose, factor=factors, clinician_step=st.floats(0.0, 1.0))
def test_the_supervisor_never_delivers_an_increase_the_library_refuses(
        drug_dose: tuple[DrugEntry, float], factor: float, clinician_step: float) -> None:
    drug, current = drug_dose
    bounds = ClinicianBounds(max_increase_per_day=clinician_step,
                             allowed_soft_limits=frozenset({"max_daily_dose"}), **LAX)
    out, _ = deliver(drug, current, current * factor, bounds)
    if exact(out) <= exact(current):
        return
    breaches = library_increase_breaches(drug, current, out)
    assert not breaches or within_round_off(drug, current, out), breaches


@settings(max_examples=300, deadline=None)
@given(current=doses, factor=factors, clinician_step=st.floats(0.2, 1.0))
def test_where_the_library_rule_binds_the_supervisor_delivers_its_largest_increase(
        current: float, factor: float, clinician_step: float) -> None:
    """Not stricter than the library either, when the library's step is the smaller: what it
    accepts is delivered unchanged, what it refuses is reduced to its largest increase."""
    bounds = ClinicianBounds(max_increase_per_day=clinician_step,
                             allowed_soft_limits=frozenset({"max_daily_dose"}), **LAX)
    proposed = current * factor
    out, checks = deliver(MORPHINE, current, proposed, bounds)
    assert per_change_step(bounds, LibraryLimits.from_drug(MORPHINE)) == 0.2
    if not library_increase_breaches(MORPHINE, current, proposed):
        assert out == proposed and checks == 0
    elif out == proposed:  # passed within the round-off tolerance only
        assert within_round_off(MORPHINE, current, proposed) and checks == 0
    else:
        assert checks == Check.MAX_INCREASE_PER_DAY
        assert out == current * 1.2


@settings(max_examples=100, deadline=None)
@given(current=doses, factor=st.floats(1.25, 3.0), clinician_step=st.floats(0.25, 1.0))
def test_a_soft_step_the_clinician_allows_is_a_soft_breach_the_allowance_overrides(
        current: float, factor: float, clinician_step: float) -> None:
    bounds = ClinicianBounds(max_increase_per_day=clinician_step, allowed_soft_limits=frozenset(
        {"max_daily_dose", "max_increase_percent"}), **LAX)
    out, _ = deliver(MORPHINE, current, current * factor, bounds)
    assert exact(out) <= exact(current) * (1 + exact(clinician_step)) * (1 + ROUND_OFF)
    for breach in library_increase_breaches(MORPHINE, current, out):
        assert breach == f"max_increase_percent:{LimitKind.SOFT.value}"


def test_the_library_absolute_step_binds_the_supervisor_too() -> None:
    """Ziconotide: +20% of 15 mcg/day is 3 mcg/day, above the label's 2.4 mcg/day per change
    (hard): delivered 17.4 mcg/day, named as the per-change step."""
    out, checks = deliver(ZICONOTIDE, 0.015, 0.018, ClinicianBounds(**LAX))
    assert np.isclose(out, 0.0174, rtol=1e-12) and checks == Check.MAX_INCREASE_PER_DAY
    assert not library_increase_breaches(ZICONOTIDE, 0.015, out) or within_round_off(
        ZICONOTIDE, 0.015, out)


def test_no_increase_from_a_stopped_pump() -> None:
    out, checks = deliver(MORPHINE, 0.0, 2.0, ClinicianBounds(**LAX))
    assert out == 0.0 and checks == Check.RESTART
