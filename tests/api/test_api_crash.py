"""Crash safety: the API process (`idds console`) killed with SIGKILL at random moments while
a client writes through it. No write the API acknowledged is lost, nothing is half-written
(every diary row has its audit record and no audit record lacks its row), and the audit
chain verifies. `CRASH_RUNS` kills per backend here; IDDS_CRASH_LONG=1 runs 100."""

from __future__ import annotations

import os
import random
import threading
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import URL

from idds.store import Database, UserRole
from idds.store.audit import verify_chain
from idds.store.clock import wall_clock
from idds.store.model import AuditRecord, DiaryEntry
from idds.store.patients import register_patient
from idds.store.users import add_user
from tests.api.api_helpers import PASSWORD
from tests.api.server_helpers import Console
from tests.store.store_helpers import CHEAP, actor

CRASH_RUNS = 100 if os.environ.get("IDDS_CRASH_LONG") == "1" else 10


def _write_until_killed(server: Console, patient: int, acknowledged: dict[int, int],
                        stop: threading.Event) -> None:
    """Write diary entries until the server is gone; every 201 is an acknowledged write."""
    try:
        headers = server.login("nurse1", PASSWORD)
        with httpx.Client(base_url=server.base, headers=headers, timeout=10) as client:
            pain = 0
            while not stop.is_set():
                pain = (pain + 1) % 11
                answer = client.post(f"/patients/{patient}/diary", json={
                    "felt_at": datetime.now(UTC).isoformat(), "pain": pain})
                if answer.status_code == 201:
                    acknowledged[int(answer.json()["id"])] = pain
    except (httpx.TransportError, AssertionError):
        return  # killed mid-request: that write was not acknowledged


def test_sigkill_during_writes_loses_no_acknowledged_write(url: URL, tmp_path: Path) -> None:
    db = Database.open(url, wall_clock)
    add_user(db, actor(UserRole.ADMIN, None, "root"), "nurse1", UserRole.NURSE, PASSWORD,
             hasher=CHEAP)
    patient = register_patient(db, actor(UserRole.NURSE), "MRN-1", "Crash Test",
                               datetime(1970, 1, 1).date()).id
    acknowledged: dict[int, int] = {}
    chooser = random.Random(16)
    for run in range(CRASH_RUNS):
        server = Console(["--db", url.render_as_string(hide_password=False),
                          "--device", str(tmp_path / "device")], tmp_path / f"run{run}.out")
        server.start()
        stop = threading.Event()
        writer = threading.Thread(target=_write_until_killed,
                                  args=(server, patient, acknowledged, stop))
        writer.start()
        threading.Event().wait(chooser.uniform(0.05, 0.6))
        server.kill()
        stop.set()
        writer.join(20)
    with db.session() as session:
        stored = {row.id: row.pain for row in session.scalars(select(DiaryEntry))}
        audited = session.scalar(select(func.count()).select_from(AuditRecord)
                                 .where(AuditRecord.entity_type == "diary_entry"))
        check = verify_chain(session)
    db.dispose()
    assert len(acknowledged) > CRASH_RUNS  # the kills came while writes were under way
    assert {k: stored.get(k) for k in acknowledged} == acknowledged  # none lost, none changed
    assert audited == len(stored)  # no row without its audit record, no record without a row
    assert check.ok, check.problem
