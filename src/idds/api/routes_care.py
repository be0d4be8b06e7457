"""What the care team and the patient record between visits: the pain diary, side-effect
assessments, the pump's alarms (seen, acknowledged), and the controllers' recommendations with
the clinician's decision."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from idds.api.auth import ClinicDep, Reader, permitted
from idds.api.errors import RESPONSES, ApiError, RefusalCode
from idds.api.records import (
    AcknowledgeIn,
    AlarmOut,
    DecisionIn,
    DiaryIn,
    DiaryOut,
    RecommendationOut,
    SeenIn,
    SideEffectsIn,
    SideEffectsOut,
)
from idds.api.schemas import PatientId, RowId
from idds.api.views import alarm_out, diary_out, recommendation_out, side_effects_out
from idds.selection.record import SideEffects
from idds.store import Action, Actor
from idds.store.alarms import acknowledge, alarms_of, mark_seen
from idds.store.decisions import RecommendationDecision, decide, recommendations_of
from idds.store.diary import add_diary_entry, assess_side_effects, assessments_of, diary_of

router = APIRouter(tags=["care"], responses=RESPONSES)


@router.get("/patients/{patient_id}/diary", response_model=list[DiaryOut])
def diary(clinic: ClinicDep, patient_id: PatientId, actor: Reader) -> list[DiaryOut]:
    """The pain diary, in the order the pain was felt."""
    return [diary_out(e) for e in diary_of(clinic.db, actor, patient_id)]


@router.post("/patients/{patient_id}/diary", response_model=DiaryOut, status_code=201)
def write_diary(clinic: ClinicDep, patient_id: PatientId, given: DiaryIn,
                actor: Annotated[Actor, Depends(permitted(Action.WRITE_DIARY))]) -> DiaryOut:
    """A pain score 0-10 (a patient: in their own diary only)."""
    if given.felt_at.tzinfo is None:
        raise ApiError(422, RefusalCode.INVALID, "felt_at has no time zone: give it with one, "
                       "like 2026-12-01T08:00:00Z", "felt_at")
    return diary_out(add_diary_entry(clinic.db, actor, patient_id, given.felt_at, given.pain,
                                     given.note))


@router.get("/patients/{patient_id}/side-effects", response_model=list[SideEffectsOut])
def side_effects(clinic: ClinicDep, patient_id: PatientId,
                 actor: Reader) -> list[SideEffectsOut]:
    return [side_effects_out(a) for a in assessments_of(clinic.db, actor, patient_id)]


@router.post("/patients/{patient_id}/side-effects", response_model=SideEffectsOut,
             status_code=201)
def assess(clinic: ClinicDep, patient_id: PatientId, given: SideEffectsIn,
           actor: Annotated[Actor, Depends(permitted(Action.ASSESS_SIDE_EFFECTS))]
           ) -> SideEffectsOut:
    """Side-effect grades 0-4 by name and, when counted, the respiratory rate per minute."""
    return side_effects_out(assess_side_effects(
        clinic.db, actor, patient_id, SideEffects(dict(given.grades)),
        given.respiratory_rate_per_min, given.note))


@router.get("/patients/{patient_id}/alarms", response_model=list[AlarmOut])
def alarms(clinic: ClinicDep, patient_id: PatientId, actor: Reader) -> list[AlarmOut]:
    return [alarm_out(a) for a in alarms_of(clinic.db, actor, patient_id)]


@router.post("/alarms/{alarm_id}/seen", response_model=AlarmOut)
def seen(clinic: ClinicDep, alarm_id: RowId, given: SeenIn,
         actor: Annotated[Actor, Depends(permitted(Action.ACKNOWLEDGE_ALARM))]) -> AlarmOut:
    """The caller saw the alarm (the first sight is kept)."""
    return alarm_out(mark_seen(clinic.db, actor, alarm_id, given.expected_version))


@router.post("/alarms/{alarm_id}/acknowledge", response_model=AlarmOut)
def acknowledge_alarm(clinic: ClinicDep, alarm_id: RowId, given: AcknowledgeIn,
                      actor: Annotated[Actor, Depends(permitted(Action.ACKNOWLEDGE_ALARM))]
                      ) -> AlarmOut:
    """Acknowledge the alarm, with a reason (what was done)."""
    return alarm_out(acknowledge(clinic.db, actor, alarm_id, given.expected_version,
                                 given.reason))


@router.get("/patients/{patient_id}/recommendations", response_model=list[RecommendationOut])
def recommendations(clinic: ClinicDep, patient_id: PatientId,
                    actor: Reader) -> list[RecommendationOut]:
    return [recommendation_out(r) for r in recommendations_of(clinic.db, actor, patient_id)]


@router.post("/recommendations/{recommendation_id}/decision",
             response_model=RecommendationOut)
def decide_recommendation(clinic: ClinicDep, recommendation_id: RowId, given: DecisionIn,
                          actor: Annotated[Actor, Depends(
                              permitted(Action.DECIDE_RECOMMENDATION))]) -> RecommendationOut:
    """Accept (naming the program it led to, if any) or reject, with a reason; once."""
    try:
        decision = RecommendationDecision(given.decision)
    except ValueError:
        raise ApiError(422, RefusalCode.INVALID, f"decision {given.decision!r}: use accepted or "
                       "rejected", "decision") from None
    return recommendation_out(decide(clinic.db, actor, recommendation_id,
                                     given.expected_version, decision, given.reason,
                                     given.program_id))
