"""`idds console` as a user starts it: the demo clinic on emulated pumps, logins printed, a
therapy change through real HTTP to a real pump process, and Ctrl-C stops the pumps too; bad
options are one line, exit status 2."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.api.server_helpers import Console
from tests.system.system_helpers import assert_one_line_error, idds


def test_the_demo_clinic_runs_on_emulated_pumps(tmp_path: Path) -> None:
    server = Console(["--demo"], tmp_path / "console.out")
    try:
        shown = server.start()
        logins = dict(re.findall(r"^  (\S+)\s+\w+\s+(\S+)$", shown, re.MULTILINE))
        assert {"admin", "clinician", "nurse", "researcher", "patient1"} <= set(logins)
        assert "not a medical device" in shown
        record = re.search(r"record: sqlite:///(\S+?)\)", shown)
        assert record is not None
        doctor = server.login("clinician", logins["clinician"])
        patients = httpx.get(f"{server.base}/patients", headers=doctor).json()
        assert [p["identifier"] for p in patients] == ["DEMO-001", "DEMO-002", "DEMO-003"]
        seed = patients[0]["id"]
        (implant,) = httpx.get(f"{server.base}/patients/{seed}/implants", headers=doctor).json()
        (program,) = httpx.get(f"{server.base}/patients/{seed}/implants/{implant['id']}/programs",
                               headers=doctor).json()
        assert program["daily_dose"]["value"] == "0.5"
        proposal = httpx.post(
            f"{server.base}/patients/{seed}/implants/{implant['id']}/programs/proposals",
            headers=doctor, timeout=30,
            json={"drug": "morphine", "concentration": "10 mg/mL", "opioid_tolerant": True,
                  "override_reason": "titration-agreed",
                  "therapy": {"dose": "0.6 mg/day", "bolus": "0.05 mg",
                              "bolus_duration": "10 min", "lockout": "2 h",
                              "max_boluses": 4}}).json()
        assert proposal["replaces"] == program["id"], proposal
        sent = httpx.post(f"{server.base}/programs/proposals/{proposal['proposal_id']}/confirm",
                          headers=doctor, timeout=30,
                          json={"reason": "more relief", "override_confirmed": True})
        assert sent.status_code == 201, sent.text
        assert "0.6 mg/day" in sent.json()["read_back"]
        me = server.login("patient1", logins["patient1"])
        assert [p["id"] for p in httpx.get(f"{server.base}/patients", headers=me).json()] == \
            [seed]
        assert httpx.post(f"{server.base}/patients/{seed}/implants/{implant['id']}/sync",
                          headers=me).status_code == 403
    finally:
        server.stop()
    demo_dir = Path(record.group(1)).parent
    assert not demo_dir.exists()  # the demo's directory went with it
    assert str(demo_dir) not in _processes()  # and so did its pumps


def _processes() -> str:
    """Every running process's command line."""
    lines = []
    for path in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            lines.append(path.read_text(errors="replace").replace("\0", " "))
        except OSError:  # gone meanwhile
            continue
    return "\n".join(lines)


def test_bad_console_options_are_one_line(tmp_path: Path) -> None:
    assert_one_line_error(idds("console", "--port", "70000"), "--port 70000")
    assert_one_line_error(idds("console", "--demo", "--db", f"sqlite:///{tmp_path}/x.db"),
                          "--demo makes its own database")
    assert not (tmp_path / "x.db").exists()
