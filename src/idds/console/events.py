"""Live updates over server-sent events: `/events` sends `alarms` whenever the record's
alarms change (one raised, one acknowledged), so an open dashboard or patient page refreshes
its alarms without a reload. The stream polls the record every `POLL_S` (a design choice: an
alarm reaches an open page within that, after the sync that records it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from idds.api.clinic import clinic_of
from idds.console.session import page_session
from idds.store import Action, Actor, Database, LoginError, authorize
from idds.store.model import Alarm
from idds.store.sessions import actor_of

router = APIRouter()
POLL_S = 2.0


def alarm_state(db: Database, actor: Actor) -> tuple[int, int]:
    """(newest alarm id, alarms not acknowledged) of what the actor may read."""
    with db.read(actor, Action.READ_RECORD, actor.patient_id) as session:
        query = select(func.coalesce(func.max(Alarm.id), 0), func.count(Alarm.id).filter(
            Alarm.acknowledged_at.is_(None)))
        if actor.patient_id is not None:
            query = query.where(Alarm.patient_id == actor.patient_id)
        newest, open_count = session.execute(query).one()
        return int(newest), int(open_count)


def _still(db: Database, token: str) -> Actor | None:
    """The session's actor now (None: it ended or expired: the stream ends too)."""
    try:
        return actor_of(db, token)
    except LoginError:
        return None


@router.get("/events")
async def stream(request: Request) -> StreamingResponse:
    """The stream of alarm changes; for roles that read records, while the session lasts."""
    session = page_session(request)
    db = clinic_of(request).db
    authorize(session.actor, Action.READ_RECORD, db.now(), session.actor.patient_id)

    async def changes() -> AsyncIterator[str]:
        last = None
        yield "retry: 5000\n\n"
        while not await request.is_disconnected():
            actor = await run_in_threadpool(_still, db, session.token)
            if actor is None:
                return
            state = await run_in_threadpool(alarm_state, db, actor)
            if state != last:
                if last is not None:
                    yield f"event: alarms\ndata: {state[1]} open\n\n"
                last = state
            await asyncio.sleep(POLL_S)

    return StreamingResponse(changes(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store"})
