"""The audit trail, for admins: every write, who, when, why, newest first, a page at a time,
with the hash chain checked (`idds.store.trail`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from idds.api.clinic import clinic_of
from idds.console.render import page, whole
from idds.console.session import page_session
from idds.store.trail import check_trail, trail_tail

router = APIRouter()
PAGE = 100


@router.get("/audit")
async def audit(request: Request) -> Response:
    session = page_session(request)
    db = clinic_of(request).db
    before = whole(request.query_params.get("before"))
    rows = await run_in_threadpool(trail_tail, db, session.actor, PAGE, before)
    chain = await run_in_threadpool(check_trail, db, session.actor)
    return page(request, "audit.html", session, rows=rows, chain=chain,
                older=rows[-1].sequence if len(rows) == PAGE else None)
