"""Bad input on every new CLI command: exit 2, one line on stderr, no traceback (in-process,
through `idds.cli.main.main`, so no process start-up per case)."""

from __future__ import annotations

from pathlib import Path

import pytest

from idds.cli.main import main
from tests.cli.helpers import assert_refused


def cases(tmp: Path) -> list[tuple[list[str], str]]:
    dev = ["--device", str(tmp / "dev")]
    therapy = ["program", "therapy", "--drug", "morphine", "--concentration", "10 mg/mL"]
    return [
        (["pump", "serve", "--state", str(tmp / "s"), "--speed", "0"], "--speed 0"),
        (["pump", "serve", "--state", str(tmp / "s"), "--port", "70000"], "--port 70000"),
        (["program", "pair", "--port", "0", "--wand", str(tmp), *dev], "--port 0"),
        (["program", "pair", "--port", "abc", "--wand", str(tmp), *dev], "--port"),
        (["program", "pair", "--port", "1", "--wand", str(tmp / "none"), *dev],
         "no pump state directory"),
        (["program", "pairings", *dev], "NOT_PAIRED"),
        (["program", "unpair", "remote-1", "--yes", *dev], "NOT_PAIRED"),
        (["program", "interrogate", *dev], "NOT_PAIRED"),
        ([*therapy, "--dose", "60 mcg", *dev], "must be a dose rate"),
        ([*therapy, "--dose", "1 mg/day", "--bolus", "0.1 mg", *dev], "--lockout"),
        ([*therapy, "--mode", "flex", "--flex", "08:00-1 mg/day", *dev], "HH:MM=DOSE"),
        ([*therapy, "--dose", "1 mg/day", "--json", *dev], "--json needs --yes"),
        (["program", "refill", "--withdrawn", "x", "--volume", "20 mL", "--concentration",
          "10 mg/mL", *dev], "--withdrawn"),
        (["program", "prime", "--reason", "implant", "--yes", *dev], "NOT_PAIRED"),
        (["program", "alarm-test", *dev], "NOT_PAIRED"),
        (["program", "log", "--verify", *dev], "NOT_PAIRED"),
        (["remote", "pair", "--port", "-1", "--wand", str(tmp), "--device", str(tmp / "r")],
         "--port -1"),
        (["remote", "bolus", "--device", str(tmp / "r")], "NOT_PAIRED"),
    ]


@pytest.mark.parametrize("index", range(18))
def test_bad_input_exits_2_with_one_line(index: int, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    argv, fragment = cases(tmp_path)[index]
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "emulator.json").write_text('{"pump_id": "p", "seed": 0}')
    code = main(argv)
    assert_refused(code, capsys.readouterr().err, fragment, argv)
