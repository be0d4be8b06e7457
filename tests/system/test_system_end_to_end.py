"""End to end with real processes: emulator, wand, programmer and remote CLIs, therapy with
patient boluses, lockout, refill with a concentration change (bridge bolus), log download."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

from idds.programmer import RefillRequest
from idds.pump.log import GENESIS
from idds.units import parse_quantity as q
from tests.system.system_helpers import (
    Emulator,
    call,
    idds,
    programmer,
)

SPEED = 30  # pump s per wall s: the 10 min lockout lasts 20 wall s


def test_program_bolus_lockout_refill_and_log(tmp_path: Path) -> None:
    state, prog_dir, rem_dir = tmp_path / "pump", tmp_path / "prog", tmp_path / "rem"
    emu = Emulator(state, SPEED)
    port = emu.start()
    try:
        done = idds("program", "pair", "--port", str(port), "--wand", str(state),
                    "--device", str(prog_dir), "--json")
        assert done.returncode == 0, done.stderr
        paired = json.loads(done.stdout)
        assert paired["role"] == "clinician" and not (state / "nearfield.json").exists()
        assert paired["device_id"] in (tmp_path / "pump.out").read_text()

        dev = ["--device", str(prog_dir)]
        prog = programmer(prog_dir, port)  # the first fill in-process (saves a start-up)
        change = call(prog, prog.plan_refill(
            RefillRequest(q("0 mL"), q("20 mL"), q("10 mg/mL"), "morphine")))
        call(prog, prog.send_refill(change))
        done = idds("program", "therapy", "--drug", "morphine", "--concentration", "10 mg/mL",
                    "--dose", "0.5 mg/day", "--bolus", "0.1 mg", "--bolus-duration",
                    "2 min", "--lockout", "10 min", "--max-boluses", "6", "--yes", "--json",
                    *dev)
        assert done.returncode == 0, done.stderr
        finish = json.loads(done.stdout)["finish"]
        rows = {r["setting"]: r["new"] for r in finish["rows"]}
        assert rows["Basal dose per DAY (mg/day)"] == "0.5 mg/day"
        assert rows["Basal dose per HOUR (mg/h)"] == "0.02083 mg/h"
        assert rows["Flow (mL/day)"] == "0.05 mL/day"

        assert idds("remote", "pair", "--port", str(port), "--wand", str(state),
                    "--device", str(rem_dir)).returncode == 0
        rdev = ["--device", str(rem_dir)]
        first = idds("remote", "bolus", "--json", *rdev)
        assert first.returncode == 0, first.stdout + first.stderr
        outcome = json.loads(first.stdout)
        assert outcome["given"] is True
        # the patient hears the dose in mg of drug, the volume only beside it
        assert outcome["message"].startswith("Bolus given: 0.1 mg (0.01 mL) over")
        wrong = idds("program", "interrogate", "--port", "1", *dev)  # nothing listens there
        assert wrong.returncode == 2
        assert json.loads((prog_dir / "target.json").read_text())["port"] == port  # kept
        declined = subprocess.run([sys.executable, "-m", "idds", "program", "prime", "--reason",
                                   "implant", *dev], input="n\n", capture_output=True,
                                  text=True, timeout=60, check=False)
        assert declined.returncode == 1  # the clinician's choice: not an error
        assert "Not confirmed: nothing was sent to the pump." in declined.stderr
        assert "error" not in declined.stderr.lower()
        given_at = time.monotonic()
        # inside the lockout but after the 2 min bolus itself has finished (a running bolus
        # is refused for that reason first, as the firmware checks it before the lockout)
        time.sleep(max(0.0, 120 / SPEED + 1 - (time.monotonic() - given_at)))
        second = idds("remote", "bolus", "--json", *rdev)
        outcome = json.loads(second.stdout)
        assert second.returncode == 1 and outcome["given"] is False
        assert outcome["reason"].startswith("lockout: next bolus allowed in")
        # wait out the lockout (10 pump min = 20 wall s), then a bolus is given again
        time.sleep(max(0.0, 10 * 60 / SPEED + 1 - (time.monotonic() - given_at)))
        third = idds("remote", "bolus", "--json", *rdev)
        assert third.returncode == 0 and json.loads(third.stdout)["given"] is True
        time.sleep(120 / SPEED + 1)  # let the 2 min bolus finish before the refill

        status = call(programmer(prog_dir, port), programmer(prog_dir, port).interrogate())
        withdrawn = status.reservoir_estimate.display("mL")
        done = idds("program", "refill", "--withdrawn", withdrawn, "--volume", "20 mL",
                    "--concentration", "5 mg/mL", "--yes", "--json", *dev)
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        assert result["warnings"] == []
        assert result["result"]["bridge_bolus"] is True and result["result"]["confirmed"]

        done = idds("program", "log", "--verify", "--json", *dev)
        assert done.returncode == 0, done.stderr
        log = json.loads(done.stdout)
        assert log["verified"] is True and log["head"] != GENESIS
        kinds = [e["kind"] for e in log["entries"]]
        for kind in ("program changed", "bolus refused", "refill", "drug changed",
                     "refill volumes entered"):
            assert kind in kinds, kind
        starts = [e["details"]["kind"] for e in log["entries"] if e["kind"] == "bolus started"]
        assert starts.count("patient") == 2 and "bridge" in starts
        refused = [e for e in log["entries"] if e["kind"] == "bolus refused"]
        assert "lockout" in refused[0]["details"]["reason"]
        # times are calendar dates and times on the pump's clock, set at implant from the
        # wall clock (pump time 0 = that day's local midnight)
        epoch = datetime.fromisoformat(log["clock_epoch"])
        assert (epoch.hour, epoch.minute) == (0, 0) and epoch.tzinfo is not None
        assert abs((epoch.date() - date.today()).days) <= 1
        assert re.fullmatch(r"20\d\d-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{3})?",
                            log["entries"][-1]["time"]), log["entries"][-1]["time"]
        shown = idds("program", "log", *dev)
        assert shown.returncode == 0 and "day 1 " not in shown.stdout
        # the volume the clinician typed is told apart from the simulated true one
        checked = next(e for e in log["entries"] if e["kind"] == "refill volumes entered")
        assert "withdrawn_entered_by_clinician=" in checked["summary"]
        refill = next(e for e in log["entries"] if e["kind"] == "refill")
        assert "withdrawn_simulated_true=" in refill["summary"]
        screen = idds("program", "interrogate", *dev)
        assert screen.returncode == 0 and "day 1 " not in screen.stdout
        assert epoch.date().isoformat()[:4] in screen.stdout
        # the remote logged its refusal on its side
        assert "lockout" in (rem_dir / "device-log.jsonl").read_text()
    finally:
        emu.stop()
