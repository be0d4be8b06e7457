"""A clinician's first hour (issue: every command tells the truth): each of these once gave a
traceback or silently accepted a dose the pump cannot run. Through the real `idds` entry
point: exit status 2, one line on stderr naming what is wrong, no traceback, nothing written."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.cli.helpers import assert_clean_refusal, idds

REFILL = ("refill", "--volume", "18 mL", "--alarm-volume", "2 mL")


@pytest.mark.parametrize(("args", "fragment"), [
    # a dose so small the alarm date overflowed the calendar (OverflowError)
    ((*REFILL, "--concentration", "10 mg/mL", "--dose", "1 ng/day"),
     "outside the device flow range"),
    # mcg/mL where mg/mL was meant: 100 mL/day, four times the pump's largest flow
    ((*REFILL, "--concentration", "10 mcg/mL", "--dose", "1 mg/day"),
     "100 mL/day, outside the device flow range 0.048 mL/day to 24 mL/day"),
    (("rate", "--concentration", "10 mcg/mL", "--dose", "1 mg/day"),
     "100 mL/day, outside the device flow range"),
    (("rate", "--concentration", "10 mg/mL", "--flow", "30 mL/day"),
     "outside the device flow range"),
])
def test_calculators_refuse_a_rate_the_pump_cannot_run(args: tuple[str, ...],
                                                       fragment: str) -> None:
    assert_clean_refusal(idds(*args), fragment)


def test_a_deliverable_rate_is_still_calculated() -> None:
    done = idds("rate", "--concentration", "10 mg/mL", "--dose", "1 mg/day")
    assert done.returncode == 0 and "0.1 mL/day" in done.stdout


def test_a_plot_file_of_an_unknown_format_is_refused_before_simulating(tmp_path: Path) -> None:
    plot = tmp_path / "p.xyz"
    done = idds("patient", "simulate", "--drug", "morphine", "--route", "intrathecal",
                "--bolus", "0.5 mg", "--hours", "2", "--plot", str(plot))
    assert_clean_refusal(done, "--plot")
    assert ".png" in done.stderr and not plot.exists()


def test_a_scheduler_address_without_a_port_is_refused_and_nothing_written(
        tmp_path: Path) -> None:
    out = tmp_path / "trial"
    done = idds("trial", "--patients", "5", "--days", "2", "--scheduler", "localhost",
                "--out", str(out))
    assert_clean_refusal(done, "tcp://127.0.0.1:8786")
    assert not out.exists()


def test_pump_serve_on_a_port_in_use_refuses_and_leaves_no_state_folder(
        tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        state = tmp_path / "pump"
        element = tmp_path / "secure-element"
        done = idds("pump", "serve", "--state", str(state), "--port", str(port),
                    "--secure-element", str(element))
    assert_clean_refusal(done, f"port {port} on 127.0.0.1 cannot be used")
    assert not state.exists()
    assert not element.exists() or not any(element.iterdir())  # no secure element slot left


def test_version_and_short_help() -> None:
    version = idds("--version")
    assert version.returncode == 0 and version.stdout.startswith("idds 0.")
    assert "not a medical device" in version.stdout
    for args in (("-h",), ("pump", "-h"), ("refill", "-h"), ("program", "advise", "-h")):
        done = idds(*args)
        assert done.returncode == 0 and "Usage: idds" in done.stdout, args


def test_pump_help_names_serve_and_the_wand() -> None:
    done = idds("pump", "--help")
    text = " ".join(done.stdout.replace("│", " ").split())  # the help as one line of words
    assert "serve an emulated pump" in text and "idds program pair --wand" in text
    assert "magnet" not in text  # the near-field wand replaced `idds pump magnet`


@pytest.mark.parametrize("workers", ["0", "-1", "4096"])
def test_a_worker_count_the_machine_cannot_use_is_refused(workers: str, tmp_path: Path) -> None:
    out = tmp_path / "trial"
    done = idds("trial", "--patients", "5", "--days", "2", "--workers", workers,
                "--out", str(out))
    assert_clean_refusal(done, f"--workers {workers} outside 1 to")
    assert not out.exists()
