"""`idds clinic` through the real CLI: seed a demo clinic onto pumps paired with a programmer
directory (emulator processes), list the patients, sync every pump (a pump that went away is
reported, exit 1, the rest are synced), and refusals as one line with exit 2."""

from __future__ import annotations

import json
import re
import time
from datetime import date
from pathlib import Path

from idds.drugs import load_library
from idds.link import LinkClient, Role, TcpTransport
from idds.programmer import DeviceDir, Programmer
from tests.system.system_helpers import Emulator, assert_one_line_error, call, idds


def _pair(device: Path, emu: Emulator) -> None:
    """Pair one more pump into the clinic's programmer directory (filed under its own id)."""
    dev = DeviceDir(device, "programmer", lambda: "t")
    client = LinkClient(TcpTransport("127.0.0.1", emu.port), dev.capture("127.0.0.1", emu.port),
                        time.time)
    prog = Programmer(client, dev.log, load_library(), date.today)
    call(prog, prog.pair("clinic-programmer", emu.wand(Role.CLINICIAN)))


def test_seed_demo_patients_and_sync_through_the_cli(tmp_path: Path) -> None:
    device, db = tmp_path / "clinic", f"sqlite:///{tmp_path}/clinic.db"
    assert_one_line_error(idds("clinic", "seed-demo", "--db", db, "--device", str(device)),
                          "no pump is paired")
    pumps = [Emulator(tmp_path / f"pump{n}", speed=60, seed=n) for n in (1, 2)]
    try:
        for emu in pumps:
            emu.start()
            _pair(device, emu)
        seeded = idds("clinic", "seed-demo", "--db", db, "--device", str(device), timeout=120)
        assert seeded.returncode == 0, seeded.stderr
        assert "Demo clinic written (2 patients)" in seeded.stdout
        assert "clinician" in seeded.stdout and "patient2" in seeded.stdout
        again = idds("clinic", "seed-demo", "--db", db, "--device", str(device))
        assert_one_line_error(again, "already has patients")
        listed = json.loads(idds("clinic", "patients", "--db", db, "--json").stdout)
        assert [p["identifier"] for p in listed] == ["DEMO-001", "DEMO-002"]
        assert all(len(p["implants"]) == 1 for p in listed)
        synced = idds("clinic", "sync", "--db", db, "--device", str(device), "--json")
        assert synced.returncode == 0, synced.stderr
        results = json.loads(synced.stdout)
        assert [r["error"] for r in results] == [None, None]
        assert all(r["synced"]["stored"] > 0 for r in results)
        pumps[1].stop()
        partly = idds("clinic", "sync", "--db", db, "--device", str(device), timeout=120)
        assert partly.returncode == 1
        lines = partly.stdout.strip().splitlines()
        synced_line, lost = sorted(lines, key=lambda line: "NOT SYNCED" in line)
        assert "new log entries" in synced_line and "NOT SYNCED" in lost
        assert re.search(r"reservoir 19\.9\d* mL|reservoir 20 mL", synced_line), synced_line
        shown = idds("clinic", "patients", "--db", db).stdout
        assert "DEMO-002" in shown and "Demo Patient B" in shown
    finally:
        for emu in pumps:
            emu.stop()


def test_clinic_refusals_are_one_line(tmp_path: Path) -> None:
    assert_one_line_error(idds("clinic", "patients", "--db", "nope://x"), "'nope'")
    empty = idds("clinic", "patients", "--db", f"sqlite:///{tmp_path}/new.db")
    assert empty.returncode == 0 and "no patients" in empty.stdout
