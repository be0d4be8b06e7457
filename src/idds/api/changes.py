"""Sending a confirmed change to a pump and recording it: the one home of that sequence, for
the API's confirm steps and the demo clinic. Everything happens inside the pump's lock
(`idds.api.linked.talking_to`), so two confirms on one pump never interleave:

1. interrogate; refuse (409, nothing sent) unless the pump answering is the implant's and
   still as the change was planned on (the same drug, concentration and therapy in force,
   and no refill since: the reservoir not above the planned estimate); for a therapy, also
   unless the record's program in force is still the one the Finish screen showed;
2. send; then read the pump back (a lost answer is decided by the read-back; a command the
   read-back shows was not applied, the pump unchanged, is sent once more after the link's
   retry wait: a pump over its command budget drops a frame silently);
3. record only when the pump runs exactly what was sent. When the pump cannot be read back,
   its state is unknown: 502 `pump_state_unknown`, interrogate or sync before anything else.
"""

from __future__ import annotations

from collections.abc import Coroutine
from datetime import date
from typing import Any

from starlette.concurrency import run_in_threadpool

from idds.api.clinic import Clinic
from idds.api.errors import PUMP_REFUSALS, ApiError, RefusalCode
from idds.api.linked import same_pump, talking_to
from idds.errors import IddsError
from idds.link import LinkError
from idds.programmer import Programmer, PumpStatus, RefillChange, TherapyPlan
from idds.programmer.api import READ_RETRY_S
from idds.store import Actor, StaleWriteError
from idds.store.model import Implant, Refill, TherapyProgram
from idds.store.readings import refill_due
from idds.store.refills import record_refill
from idds.store.therapy import latest_program, record_program

#: Sends of one change at most: the first, and one more when the read-back shows the pump
#: did not take it and is unchanged.
SEND_ATTEMPTS = 2


def _unchanged(planned: PumpStatus, now: PumpStatus) -> None:
    """Refuse when the pump moved on since the change was planned."""
    if (now.drug, now.concentration, now.therapy, now.therapy_drug) != (
            planned.drug, planned.concentration, planned.therapy, planned.therapy_drug) or \
            now.reservoir_estimate > planned.reservoir_estimate:
        raise StaleWriteError(f"the pump changed since this was planned (now {now.drug_text}, "
                              f"{now.therapy_text}, reservoir {now.reservoir_estimate}): "
                              "plan it again; nothing was sent")


async def _send(command: Coroutine[Any, Any, object]) -> None:
    """Send; an answer lost or garbled on the way back (any link fault but the pump's own
    refusal) is left to the read-back to decide."""
    try:
        await command
    except LinkError as exc:
        if exc.code in PUMP_REFUSALS:
            raise  # the pump said no: nothing changed
        return


async def _read_back(programmer: Programmer, implant: Implant) -> PumpStatus:
    try:
        return same_pump(implant, await programmer.interrogate())
    except IddsError as exc:
        raise ApiError(502, RefusalCode.PUMP_STATE_UNKNOWN,
                       f"the change was sent but the pump could not be read back ({exc}): "
                       "its state is unknown; interrogate or sync it before anything else"
                       ) from None


async def send_therapy(clinic: Clinic, actor: Actor, implant: Implant, plan: TherapyPlan,
                       replaces: int | None, library_version_id: int, reason: str
                       ) -> tuple[TherapyProgram, PumpStatus]:
    """Send a confirmed therapy plan and record it (see the module docstring)."""
    request = plan.request
    drug = request.drug.strip().lower()
    async with talking_to(clinic, implant) as programmer:
        _unchanged(plan.status, same_pump(implant, await programmer.interrogate()))
        current = await run_in_threadpool(latest_program, clinic.db, actor, implant.patient_id,
                                          implant.id)
        if (None if current is None else current.id) != replaces:
            raise StaleWriteError(f"program {current.id if current else 'none'} was recorded "
                                  "for this pump since the change was planned: plan it again")
        wanted = (request.therapy, drug, request.concentration, True)
        for attempt in range(SEND_ATTEMPTS):
            await _send(programmer.send_therapy(plan))
            status = await _read_back(programmer, implant)
            running = (status.therapy, status.therapy_drug, status.concentration,
                       status.confirmed)
            if running == wanted or status.therapy != plan.status.therapy or \
                    attempt == SEND_ATTEMPTS - 1:
                break
            await programmer.sleep(READ_RETRY_S)
        if running != wanted:
            raise ApiError(502, RefusalCode.PUMP_STATE_UNKNOWN,
                           f"the pump reads back {status.therapy_text} ({status.drug_text}, "
                           f"{'confirmed' if status.confirmed else 'not confirmed'}), not the "
                           "therapy sent: nothing was recorded; interrogate it and plan again")
        row = await run_in_threadpool(record_program, clinic.db, actor, implant.id, plan,
                                      library_version_id, reason, replaces=replaces)
    return row, status


async def send_refill(clinic: Clinic, actor: Actor, implant: Implant, change: RefillChange,
                      lot: str, today: date) -> Refill:
    """Send a confirmed refill and record it with the next refill date the pump then gives."""
    async with talking_to(clinic, implant) as programmer:
        _unchanged(change.status, same_pump(implant, await programmer.interrogate()))
        request = change.request
        for attempt in range(SEND_ATTEMPTS):
            await _send(programmer.send_refill(change))
            status = await _read_back(programmer, implant)
            near = abs(status.reservoir_estimate.value_in("mL") - request.volume.value_in("mL"))
            filled = (status.drug, status.concentration) == (change.drug,
                                                             request.concentration) and (
                near <= change.tolerance.value_in("mL"))
            if filled or attempt == SEND_ATTEMPTS - 1:
                break
            await programmer.sleep(READ_RETRY_S)
        if not filled:
            raise ApiError(502, RefusalCode.PUMP_STATE_UNKNOWN,
                           "the refill was sent but the pump does not show it: nothing was "
                           "recorded; interrogate or sync it before anything else")
        return await run_in_threadpool(record_refill, clinic.db, actor, implant.id, change,
                                       lot, refill_due(status, today))
