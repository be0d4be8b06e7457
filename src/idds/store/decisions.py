"""Controller recommendations with the clinician's decision, candidacy assessments and
screening trials.

A recommendation's content is JSON data without floats (doses as text with their unit,
`idds.store.canonical`); the decision is an update with optimistic concurrency, and an
accepted recommendation names the therapy program it led to (that program went through the
therapy-change path: checks, Finish screen, fresh authentication). The screening dose is whole
ng; pain scores are 0-10.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

from sqlalchemy import select

from idds.selection import CandidacyVerdict
from idds.selection.screening_rules import ScreeningMethod, ScreeningVerdict
from idds.store.canonical import canonical_json
from idds.store.database import Database
from idds.store.errors import StoreError
from idds.store.model import (
    CandidacyRecord,
    Patient,
    RecommendationRecord,
    ScreeningRecord,
    TherapyProgram,
)
from idds.store.permissions import Action, Actor
from idds.store.quantities import ng_of
from idds.store.rows import fetch
from idds.units import Quantity


class RecommendationDecision(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


def record_recommendation(db: Database, actor: Actor, patient_id: int, controller: str,
                          recommended: Mapping[str, object],
                          reasons: Sequence[str]) -> RecommendationRecord:
    """What `controller` recommended for the patient, with its reasons, before any decision."""
    with db.write(actor, Action.RECORD_RECOMMENDATION, patient_id) as w:
        fetch(w.session, Patient, patient_id)
        return w.create(RecommendationRecord(
            patient_id=patient_id, controller=controller,
            recommended=canonical_json(dict(recommended), "recommendation"),
            reasons=canonical_json(list(reasons), "reasons"), made_at=w.now))


def decide(db: Database, actor: Actor, recommendation_id: int, expected_version: int,
           decision: RecommendationDecision, reason: str, program_id: int | None = None
           ) -> RecommendationRecord:
    """The clinician accepts or rejects a recommendation, once, with a reason. An accepted one
    that changed the therapy names its program."""
    if not reason.strip():
        raise StoreError("a decision on a recommendation needs a reason")
    if decision is RecommendationDecision.REJECTED and program_id is not None:
        raise StoreError("a rejected recommendation leads to no program")
    with db.write(actor, Action.DECIDE_RECOMMENDATION) as w:
        row = fetch(w.session, RecommendationRecord, recommendation_id)
        if row.decision is not None:
            raise StoreError(f"recommendation {recommendation_id} was already {row.decision} "
                             f"by {row.decided_by}")
        if program_id is not None and fetch(w.session, TherapyProgram,
                                            program_id).patient_id != row.patient_id:
            raise StoreError(f"program {program_id} is another patient's")
        return w.update(row, {"decision": decision.value, "decided_by": actor.username,
                              "decided_at": w.now, "decision_reason": reason.strip(),
                              "program_id": program_id}, expected_version, reason.strip())


def _finding(finding: object) -> dict[str, str]:
    fields = ("criterion", "kind", "status", "value", "threshold", "reason", "source",
              "assumption", "fix")
    return {name: str(getattr(finding, name)) for name in fields}


def record_candidacy(db: Database, actor: Actor, patient_id: int,
                     verdict: CandidacyVerdict) -> CandidacyRecord:
    """A candidacy assessment (`idds.selection.assess`) with every finding."""
    with db.write(actor, Action.RECORD_SELECTION, patient_id) as w:
        fetch(w.session, Patient, patient_id)
        return w.create(CandidacyRecord(
            patient_id=patient_id, outcome=str(verdict.outcome), summary=verdict.summary,
            criteria_name=verdict.criteria_name, criteria_version=verdict.criteria_version,
            findings=canonical_json([_finding(f) for f in verdict.findings], "findings"),
            assessed_at=w.now, assessed_by=actor.username))


def record_screening(db: Database, actor: Actor, patient_id: int, method: ScreeningMethod,
                     drug: str, dose: Quantity, baseline_pain: int, lowest_pain: int,
                     verdict: ScreeningVerdict, reasons: Sequence[str]) -> ScreeningRecord:
    """A screening trial in the clinic: the test dose (a mass, stored in whole ng), pain
    before and the lowest after (0-10), the verdict and its reasons."""
    for name, pain in (("baseline pain", baseline_pain), ("lowest pain", lowest_pain)):
        if isinstance(pain, bool) or not 0 <= pain <= 10:
            raise StoreError(f"{name} must be 0 to 10, not {pain!r}")
    with db.write(actor, Action.RECORD_SELECTION, patient_id) as w:
        fetch(w.session, Patient, patient_id)
        return w.create(ScreeningRecord(
            patient_id=patient_id, method=method.value, drug=drug.strip().lower(),
            dose_ng=ng_of(dose, "screening dose"), baseline_pain=baseline_pain,
            lowest_pain=lowest_pain, verdict=verdict.value,
            reasons=canonical_json(list(reasons), "reasons"), screened_at=w.now,
            screened_by=actor.username))


def recommendations_of(db: Database, actor: Actor,
                       patient_id: int) -> list[RecommendationRecord]:
    with db.read(actor, Action.READ_RECORD, patient_id) as session:
        return list(session.scalars(select(RecommendationRecord)
                                    .where(RecommendationRecord.patient_id == patient_id)
                                    .order_by(RecommendationRecord.id)))
