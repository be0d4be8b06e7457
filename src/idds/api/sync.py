"""A sync: interrogate a pump, download its log, and store what is new: the reading
(`idds.store.readings`), the log entries after their hash chain verifies
(`idds.store.pumplogs.import_log`), and each active alarm the record has no open alarm of the
same kind for. `sync_all` does every implanted pump of the clinic and reports a pump it
cannot reach instead of stopping (the API's `POST /sync` and `idds clinic sync`)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from idds.api.clinic import Clinic
from idds.api.errors import ApiError, RefusalCode
from idds.api.linked import same_pump, talking_to
from idds.api.records import SyncedOut, SyncOut
from idds.errors import IddsError
from idds.pump import AlarmKind
from idds.store import Actor
from idds.store.alarms import alarms_of, record_alarm
from idds.store.model import Implant
from idds.store.patients import implants_of, list_patients
from idds.store.pumplogs import import_log
from idds.store.readings import record_reading


async def sync_implant(clinic: Clinic, actor: Actor, implant: Implant) -> SyncOut:
    """Sync one implant's pump (see the module docstring); refused, storing nothing, when
    the pump's log fails verification."""
    async with talking_to(clinic, implant) as programmer:
        status = same_pump(implant, await programmer.interrogate())
        download = await programmer.read_log()
    if not download.verified:
        raise ApiError(502, RefusalCode.PUMP_UNREACHABLE, f"the pump's log fails verification: "
                       f"{download.reason}; nothing was stored")
    done = await run_in_threadpool(import_log, clinic.db, actor, implant.id, download.entries,
                                   download.head)  # first: a refused log stores nothing
    reading = await run_in_threadpool(record_reading, clinic.db, actor, implant.id, status,
                                      clinic.today())
    open_kinds = {a.kind for a in await run_in_threadpool(alarms_of, clinic.db, actor,
                                                          implant.patient_id)
                  if a.implant_id == implant.id and a.acknowledged_at is None}
    known = {kind.value: kind for kind in AlarmKind}
    recorded = 0
    for name in status.alarm_kinds:
        if name in known and name not in open_kinds:
            await run_in_threadpool(record_alarm, clinic.db, actor, implant.id, known[name],
                                    clinic.db.now())
            recorded += 1
    return SyncOut(pump_id=status.pump_id, therapy=status.therapy_text,
                   reservoir=str(status.reservoir_estimate), battery=status.battery,
                   alarms=list(status.alarms), refill_due_on=reading.refill_due_on,
                   log_verified=download.verified, log_problem=download.reason,
                   stored=done.stored, duplicates=done.duplicates, gaps=list(done.gaps),
                   held_back=done.held_back, alarms_recorded=recorded)


async def sync_all(clinic: Clinic, actor: Actor) -> list[SyncedOut]:
    """Sync every implanted pump, in patient order; each result says what was stored or why
    the pump was not synced."""
    results = []
    for patient in await run_in_threadpool(list_patients, clinic.db, actor):
        for implant in await run_in_threadpool(implants_of, clinic.db, actor, patient.id):
            if implant.explanted_on is not None:
                continue
            try:
                done, error = await sync_implant(clinic, actor, implant), None
            except IddsError as exc:
                done, error = None, str(exc)
            results.append(SyncedOut(patient_id=patient.id, implant_id=implant.id,
                                     pump_serial=implant.pump_serial, synced=done,
                                     error=error))
    return results
