"""Benchmark: the clinic's API and record on SQLite and PostgreSQL.

For each backend (PostgreSQL when it answers on 127.0.0.1:5432, database `test`; a database
is made for the run and dropped after), prints one JSON line with:
- `read_mix_per_s`: requests per second of a real `idds console` server over HTTP (one
  client, keep-alive) for a read-heavy mix: 9 reads (patients, a patient, the diary, alarms,
  programs, refills, the pump log, readings, the session) to 1 diary write;
- `proposal_ms`: the median time of one therapy proposal against a real emulated pump (`idds
  pump serve`: each proposal interrogates it over the secure link and runs the library
  checks), 8 proposals within the pump's command burst; and `proposals_per_s`, the rate
  sustained after the burst, which is the pump's own budget of 30 commands a minute per
  paired key (`idds.link.ratelimit`, a battery protection), not the server's;
- `log_import_s`: seconds to import a 100,000-record pump log in one call (the hash chain
  verified from entry 0, in-process, no HTTP).
`python bench/bench_api.py [seconds per measurement]`.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from fractions import Fraction
from pathlib import Path

import httpx
from sqlalchemy.engine import URL

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' helpers

import benchdb

from idds.link import Role
from idds.pump import EventKind, EventLog
from idds.store import Database, UserRole, migrate
from idds.store.clock import wall_clock
from idds.store.patients import ImplantDetails, record_implant, register_patient
from idds.store.pumplogs import import_log
from idds.store.users import add_user
from tests.api.server_helpers import Console
from tests.store.store_helpers import CHEAP, actor
from tests.system.system_helpers import Emulator, call, programmer

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "benchmark password 1"
LOG_RECORDS = 100_000
#: Wall seconds for the pump's command burst (10 commands, 30 a minute) to fill again.
BUCKET_REFILL_S = 21


def databases(root: Path) -> Iterator[tuple[str, URL]]:
    """SQLite, then PostgreSQL if it answers (a database made for the run, dropped after)."""
    return benchdb.databases(root, POSTGRES, "idds_bench")


def _rate(seconds: float, step: object) -> float:
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        step()  # type: ignore[operator]
        done += 1
    return done / (time.perf_counter() - t0)


def measure(url: URL, root: Path, seconds: float) -> dict[str, object]:
    db = Database.open(url, wall_clock)
    migrate.upgrade(db.engine)
    admin, nurse = actor(UserRole.ADMIN, None, "root"), actor(UserRole.NURSE)
    for name, role in (("nurse1", UserRole.NURSE), ("doc1", UserRole.CLINICIAN)):
        add_user(db, admin, name, role, PASSWORD, hasher=CHEAP)
    patient = register_patient(db, nurse, "MRN-1", "Bench Patient", date(1970, 1, 1)).id
    device = root / f"device-{url.get_backend_name()}"
    emu = Emulator(root / f"pump-{url.get_backend_name()}", speed=1)
    emu.start()
    server = Console(["--db", url.render_as_string(hide_password=False), "--device",
                      str(device)], root / f"console-{url.get_backend_name()}.out")
    try:
        prog = programmer(device, emu.port)
        pump = call(prog, prog.pair("bench-programmer", emu.wand(Role.CLINICIAN))).pump_id
        implant = record_implant(db, actor(UserRole.CLINICIAN), patient, ImplantDetails(
            pump, "IDDS emulated pump", "catheter", "T10", date(2026, 1, 1))).id
        server.start()
        base = f"/patients/{patient}"
        with httpx.Client(base_url=server.base, timeout=30,
                          headers=server.login("nurse1", PASSWORD)) as nurse_client:
            refill = nurse_client.post(f"{base}/implants/{implant}/refills/proposals", json={
                "withdrawn": "0 mL", "volume": "20 mL", "concentration": "10 mg/mL",
                "drug": "morphine"}).json()
            nurse_client.post(f"/refills/proposals/{refill['proposal_id']}/confirm",
                              json={"lot": "BENCH"})
            nurse_client.post(f"{base}/implants/{implant}/sync")
            reads = ["/patients", base, f"{base}/diary", f"{base}/alarms",
                     f"{base}/implants/{implant}/programs", f"{base}/refills",
                     f"{base}/implants/{implant}/log", f"{base}/implants/{implant}/readings",
                     "/session"]
            turn = iter(range(10**9))

            def mixed() -> None:
                i = next(turn) % 10
                if i == 9:
                    answer = nurse_client.post(f"{base}/diary", json={
                        "felt_at": datetime.now(UTC).isoformat(), "pain": 3})
                else:
                    answer = nurse_client.get(reads[i])
                assert answer.status_code < 300, answer.text

            read_mix = _rate(seconds, mixed)
        with httpx.Client(base_url=server.base, timeout=30,
                          headers=server.login("doc1", PASSWORD)) as doctor:

            def propose() -> None:
                answer = doctor.post(f"{base}/implants/{implant}/programs/proposals", json={
                    "drug": "morphine", "concentration": "10 mg/mL", "opioid_tolerant": True,
                    "therapy": {"dose": "0.5 mg/day"}})
                assert answer.status_code == 201, answer.text

            time.sleep(BUCKET_REFILL_S)  # the pump's command burst full again
            latencies = []
            for _ in range(8):
                t0 = time.perf_counter()
                propose()
                latencies.append(time.perf_counter() - t0)
            proposals = _rate(seconds, propose)
    finally:
        server.stop()
        emu.stop()
    log = EventLog()
    for i in range(LOG_RECORDS):
        log.append(Fraction(i * 60), EventKind.INTERROGATED, {"n": i})
    other = record_implant(db, actor(UserRole.CLINICIAN), patient, ImplantDetails(
        "SN-LOG", "model", "catheter", "T10", date(2026, 1, 1))).id
    t0 = time.perf_counter()
    done = import_log(db, nurse, other, log.entries, log.head)
    log_import = time.perf_counter() - t0
    assert done.stored == LOG_RECORDS
    db.dispose()
    return {"read_mix_per_s": round(read_mix, 1),
            "proposal_ms": round(1000 * statistics.median(latencies), 1),
            "proposals_per_s": round(proposals, 2),
            "log_import_s": round(log_import, 2), "log_records": LOG_RECORDS}


def main(seconds: float = 10.0) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for backend, url in databases(root):
            result = measure(url, root, seconds)
            print(json.dumps({"benchmark": "api", "backend": backend, **result,
                              "seconds_per_measurement": seconds}), flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0)
