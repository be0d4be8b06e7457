"""The server's own syncs: every implanted pump interrogated and its log, reading and
alarms stored every `every_s` seconds (`idds.api.sync.sync_all`), so the dashboard and the
live alarm stream stay current without anyone pressing "sync". Off unless asked for
(`idds console --sync-every S`; the demo clinic syncs on its own period)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

from idds.api.clinic import Clinic
from idds.api.sync import sync_all
from idds.errors import IddsError
from idds.store import Actor, UserRole

LOG = logging.getLogger("idds.console")
#: Who the server's syncs are recorded as in the audit trail.
SYNC_ACTOR = Actor("console-sync", UserRole.NURSE)


async def sync_forever(clinic: Clinic, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        try:
            for result in await sync_all(clinic, SYNC_ACTOR):
                if result.error:
                    LOG.warning("sync of pump %s: %s", result.pump_serial, result.error)
        except IddsError as exc:  # the record itself refused (busy, unreachable): next time
            LOG.warning("clinic sync: %s", exc)
        except Exception:  # a fault: logged, and the syncs go on (the dashboard never goes
            LOG.exception("clinic sync failed")  # stale silently)


def periodic_sync(clinic: Clinic, every_s: float | None
                  ) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """A lifespan that runs `sync_forever` while the server runs (None: no syncs)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = None if not every_s else asyncio.create_task(sync_forever(clinic, every_s))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()

    return lifespan
