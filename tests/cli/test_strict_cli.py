"""The command line and program files are strict (issue 13, finding 6; What to build, item 7):
ASCII digits only, bounded numbers, no option taken for another's value, no unknown key in a
file; every refusal is exit status 2 and one line, no traceback, nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main

from idds.cli.main import app, main
from tests.cli.helpers import assert_clean_refusal, assert_refused, idds

BOGUS = "--bogus-option"


def _commands(node: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    subs = getattr(node, "commands", None)
    if not subs:
        return [(path, node)]
    return [leaf for name, sub in subs.items() for leaf in _commands(sub, (*path, name))]


COMMANDS = _commands(typer.main.get_command(app))


def _value_options(command: Any) -> list[str]:
    return [param.opts[0] for param in command.params
            if type(param).__name__.endswith("Option") and not getattr(param, "is_flag", False)]


def test_the_walk_sees_every_subcommand() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"convert", "library show", "pump serve", "program therapy", "remote bolus",
            "patient simulate", "trial"} <= names
    assert len(names) >= 25


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_subcommand_refuses_a_bogus_option(
    path: tuple[str, ...], command: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Appended, and in the place of each option's value: refused by name, nothing runs."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    for argv in ([*path, BOGUS], *([*path, option, BOGUS] for option in
                                   _value_options(command))):
        code = main(argv)
        err = capsys.readouterr().err
        assert_refused(code, err, BOGUS, argv)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_an_option_in_a_value_slot_writes_nothing(tmp_path: Path) -> None:
    """Through the real entry point: `--out --bogus-option` once wrote a folder of that name."""
    done = subprocess.run([sys.executable, "-m", "idds", "trial", "--patients", "1", "--days",
                           "1", "--out", BOGUS], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, check=False)
    assert_clean_refusal(done, f"option --out needs a value, not the option {BOGUS}")
    assert list(tmp_path.iterdir()) == []


ARABIC_105 = "1\u06605"  # 1, ARABIC-INDIC DIGIT ZERO, 5


@pytest.mark.parametrize(("args", "fragment"), [
    (["rate", "--concentration", "10 mg/mL", "--dose", f"{ARABIC_105} mg/day"], "ASCII digits"),
    (["rate", "--concentration", "10 mg/mL", "--dose", "\uff11 mg/day"], "ASCII digits"),
    (["catheter", "--length-cm", ARABIC_105], "ASCII digits"),
    (["catheter", "--length-cm", "1_000"], "not a number"),
    (["catheter", "--length-cm", "1e2"], "not a number"),
    (["rate", "--concentration", "10 mg/mL", "--dose", "1" * 1500 + " mg/day"], "digits"),
    (["rate", "--concentration", "10 mg/mL", "--dose", "0." + "0" * 12 + "1 mg/day"],
     "outside the accepted size"),
    (["pump", "trumpet", "--rate", "0.5 mL/day", "--hours", "nan"], "--hours 'nan'"),
    (["pump", "trumpet", "--rate", "0.5 mL/day", "--hours", "1" * 400], "--hours"),
    (["pump", "simulate", "--program", "x.toml", "--days", "\u0663"], "--days"),
    (["pump", "simulate", "--program", "x.toml", "--press", "1:0\u0668:00"], "DAY:HH:MM"),
    (["program", "therapy", "--drug", "morphine", "--concentration", "10 mg/mL", "--mode",
      "flex", "--flex", "00:00=1 mg/day,\u0660\u0668:00=2 mg/day", "--yes", "--port", "1"],
     "HH:MM"),
])
def test_bad_numbers_on_the_command_line(args: list[str], fragment: str, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "idds", *args], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path, check=False,
                          env={**os.environ, "HOME": str(tmp_path)})
    assert_clean_refusal(done, fragment)
    assert len(done.stderr) < 400


PROGRAM = """
[pump]
reservoir = "20 mL"
{pump}
[drug]
name = "morphine"
concentration = "{concentration}"
fill = "20 mL"
[therapy]
mode = "continuous"
dose = "1 mg/day"
"""


@pytest.mark.parametrize(("pump", "concentration", "fragment"), [
    ("catheter_trimmed_cm = inf", "10 mg/mL", "catheter_trimmed_cm must be a finite number"),
    ("catheter_trimmed_cm = nan", "10 mg/mL", "catheter_trimmed_cm must be a finite number"),
    ("systematic_error_pct = nan", "10 mg/mL", "systematic_error_pct must be a finite number"),
    ("systematic_error_pct = " + "9" * 400, "10 mg/mL", "beyond"),
    ("", "0 mg/mL", "concentration must be above zero"),
    ("", "-5 mg/mL", "concentration must be above zero"),
    ("", f"{ARABIC_105} mg/mL", "ASCII digits"),
    ("", "1" * 1500 + " mg/mL", "digits"),
    ("primee = false", "10 mg/mL", "unknown key(s) ['primee']"),
])
def test_bad_program_files_are_one_line(tmp_path: Path, pump: str, concentration: str,
                                        fragment: str) -> None:
    program = tmp_path / "program.toml"
    program.write_text(PROGRAM.format(pump=pump, concentration=concentration), encoding="utf-8")
    assert_clean_refusal(idds("pump", "simulate", "--program", str(program), "--days", "1"),
                         fragment)


def test_a_good_program_file_still_runs(tmp_path: Path) -> None:
    program = tmp_path / "program.toml"
    program.write_text(PROGRAM.format(pump="catheter_trimmed_cm = 40.5",
                                      concentration="10 mg/mL"))
    done = idds("pump", "simulate", "--program", str(program), "--days", "1", "--json")
    assert done.returncode == 0, done.stderr
