"""The programming trail as FHIR `AuditEvent`s: one per audit record of the patient's
therapy programs (`idds.store.trail.program_trail`), beside the `Provenance` each program
already has. Each says what was done (the store's action, e.g. "change therapy", in IDDS's
code system `urn:idds:audit-action`; `action` C for a program created, U for one changed),
when (`recorded`, the record's UTC time), who (the agent: the user name and role, the
requestor), to what (the entities: the program's MedicationRequest and the Patient; R5 also
`patient`), the outcome (HL7 audit-event-outcome 0, success: the store audits only writes
that were made, a refused one rolls back with its record) and the record's hash in the
store's hash chain (`idds.store.audit`) and its reason, as entity details."""

from __future__ import annotations

from typing import Any

from idds.interop.codes import FHIR_AUDIT_ACTION_SYSTEM, FHIR_AUDIT_SUCCESS
from idds.interop.fhir_types import FhirVersion
from idds.interop.fhir_types import ref as _ref
from idds.store.model import AuditRecord

#: Who observed the events: the clinic's IDDS record.
OBSERVER = {"display": "IDDS clinic record (audit trail)"}


def audit_event(row: AuditRecord, patient_id: int, version: FhirVersion) -> dict[str, Any]:
    """One audit record of a therapy program as an AuditEvent of `version`."""
    patient = _ref("Patient", f"patient-{patient_id}")
    program = _ref("MedicationRequest", f"program-{row.entity_id}")
    details = [("hash", row.hash), *((("reason", row.reason),) if row.reason else ())]
    r5 = version is FhirVersion.R5
    event: dict[str, Any] = {
        "resourceType": "AuditEvent", "id": f"audit-{row.sequence}",
        "action": "C" if row.before is None else "U", "recorded": row.at.isoformat(),
        "agent": [{"who": {"display": row.actor}, "role": [{"text": row.role}],
                   "requestor": True}],
        "source": {"observer": OBSERVER},
        "entity": [{"what": program, "detail": [
            {"type": {"text": name} if r5 else name, "valueString": value}
            for name, value in details]}, {"what": patient}]}
    action = {"system": FHIR_AUDIT_ACTION_SYSTEM, "code": row.action, "display": row.action}
    if r5:
        event["code"] = {"coding": [action], "text": row.action}
        event["outcome"] = {"code": FHIR_AUDIT_SUCCESS.coding()}
        event["patient"] = patient
    else:
        event["type"] = action
        event["outcome"] = FHIR_AUDIT_SUCCESS.code
        event["agent"][0]["name"] = row.actor
    return event
