"""What the routes that talk to a pump share: the implant (the patient's own, still
implanted), one conversation with its pump at a time, and the check that the pump that
answered is that implant's pump."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.concurrency import run_in_threadpool

from idds.api.clinic import Clinic
from idds.api.errors import ApiError, RefusalCode
from idds.programmer import Programmer, PumpStatus
from idds.store import Actor
from idds.store.model import Implant
from idds.store.patients import implants_of


async def implant_of(clinic: Clinic, actor: Actor, patient_id: int, implant_id: int,
                     *, implanted: bool = True) -> Implant:
    """The patient's implant `implant_id` (404 if the patient has none by that id; refused
    if it was explanted and `implanted` is asked)."""
    found = [i for i in await run_in_threadpool(implants_of, clinic.db, actor, patient_id)
             if i.id == implant_id]
    if not found:
        raise ApiError(404, RefusalCode.NOT_FOUND,
                       f"patient {patient_id} has no implant {implant_id}", "implant_id")
    if implanted and found[0].explanted_on is not None:
        raise ApiError(422, RefusalCode.REFUSED, f"the pump {found[0].pump_serial} was "
                       f"explanted on {found[0].explanted_on}", "implant_id")
    return found[0]


@asynccontextmanager
async def talking_to(clinic: Clinic, implant: Implant) -> AsyncIterator[Programmer]:
    """The programmer connected to the implant's pump; one conversation per pump at a time
    (a second waits), so a plan, its send and its read-back are never interleaved with
    another's."""
    lock = clinic.pump_locks.setdefault(implant.pump_serial, asyncio.Lock())
    async with lock, clinic.pumps.open(implant.pump_serial) as programmer:
        yield programmer


def same_pump(implant: Implant, status: PumpStatus) -> PumpStatus:
    """The status, once the pump that answered is the implant's (never program another)."""
    if status.pump_id != implant.pump_serial:
        raise ApiError(502, RefusalCode.PUMP_UNREACHABLE,
                       f"the pump that answered is {status.pump_id}, not the implant's "
                       f"{implant.pump_serial}: nothing was changed")
    return status
