"""`idds pump simulate` and `idds pump trumpet`, through CliRunner and a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from idds.cli.pump import app, demo_program, show_demo_run
from idds.units import Quantity

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "programs"
MORPHINE = EXAMPLES / "morphine-continuous.toml"
runner = CliRunner()


def run_json(*args: str) -> dict[str, object]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def test_simulate_json_continuous_with_presses() -> None:
    data = run_json("simulate", "--program", str(MORPHINE), "--days", "3",
                    "--press", "1:08:00", "--press", "1:09:00", "--press", "2:20:30")
    per_day = data["delivered_mg_per_day"]
    assert isinstance(per_day, list) and len(per_day) == 3
    assert 1.5 * 0.85 < per_day[1] < 1.5 * 1.15 + 0.1
    boluses = data["boluses"]
    assert isinstance(boluses, list)
    assert [b["outcome"] for b in boluses] == ["given", "refused", "given"]
    assert "lockout" in boluses[1]["reason"]
    assert data["alarms"] == [] and data["log_verified"] is True


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.toml")))
def test_every_example_program_runs(name: str) -> None:
    data = run_json("simulate", "--program", str(EXAMPLES / name), "--days", "2")
    assert all(isinstance(v, float) and v > 0 for v in data["delivered_mg_per_day"])  # type: ignore[attr-defined]


def test_simulate_reports_alarms_with_priority(tmp_path: Path) -> None:
    program = MORPHINE.read_text().replace('fill = "20 mL"', 'fill = "2.5 mL"')
    path = tmp_path / "short.toml"
    path.write_text(program)
    data = run_json("simulate", "--program", str(path), "--days", "20")
    alarms = data["alarms"]
    assert isinstance(alarms, list)
    assert {(a["kind"], a["priority"]) for a in alarms} == {
        ("low reservoir", "medium"), ("empty reservoir", "high")}


def test_simulate_table_output() -> None:
    result = runner.invoke(app, ["simulate", "--program", str(MORPHINE), "--days", "2",
                                 "--press", "2:10:00"])
    assert result.exit_code == 0
    assert "Delivered" in result.stdout and "given" in result.stdout


@pytest.mark.parametrize(("args", "needle"), [
    (["--program", "missing.toml"], "cannot read program file"),
    (["--program", str(MORPHINE), "--press", "9:08:00", "--days", "2"], "outside the 2-day run"),
    (["--program", str(MORPHINE), "--press", "8am"], "DAY:HH:MM"),
    (["--program", str(MORPHINE), "--days", "0"], "1 to 3650 days"),
])
def test_bad_input_exits_2_one_line(args: list[str], needle: str) -> None:
    result = runner.invoke(app, ["simulate", *args])
    assert result.exit_code == 2
    assert needle in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("replace", "by", "needle"), [
    ('dose = "1.5 mg/day"', 'dose = "1.5 mg/hour"', "unknown unit"),
    ('dose = "1.5 mg/day"', 'dose = "1.5 mg/mL"', "dose rate"),
    ('dose = "1.5 mg/day"', "dose = 1.5", "must be text with a unit"),
    ("[therapy]", "[therapy\n", "not valid TOML"),
    ('mode = "continuous"', 'mode = "turbo"', "mode 'turbo'"),
    ('dose = "1.5 mg/day"', 'dose = "300 mg/day"', "above the hard limit 15 mg/day"),
    ('dose = "1.5 mg/day"', 'dose = "0.0001 mg/day"', "device flow range"),
    ('reservoir = "20 mL"', 'reservoir = "30 mL"', "20 or 40 mL"),
])
def test_malformed_program_exits_2(tmp_path: Path, replace: str, by: str, needle: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(MORPHINE.read_text().replace(replace, by, 1))
    result = runner.invoke(app, ["simulate", "--program", str(path)])
    assert result.exit_code == 2, result.output
    assert needle in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_simulate_through_a_real_subprocess() -> None:
    cmd = [sys.executable, "-c", "from idds.cli.pump import app; app()", "simulate",
           "--program", str(MORPHINE), "--days", "2", "--press", "1:12:00", "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["boluses"][0]["outcome"] == "given"
    bad = subprocess.run([*cmd[:-1], "--press", "7:00:00"], capture_output=True, text=True,
                         check=False, cwd=ROOT)
    assert bad.returncode == 2
    assert bad.stderr.strip().startswith("idds: error:") and "Traceback" not in bad.stderr


def test_trumpet_writes_table_and_plot(tmp_path: Path) -> None:
    result = runner.invoke(app, ["trumpet", "--rate", "0.5 mL/day", "--seed", "1",
                                 "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "trumpet.json").read_text())
    windows = data["windows"]
    assert [w["window_min"] for w in windows] == [2, 5, 11, 19, 31]
    # the funnel: short windows deviate far more than long ones (pulsatile 2 uL strokes)
    spread = [w["max_deviation_pct"] - w["min_deviation_pct"] for w in windows]
    assert spread[0] > spread[-1]
    assert data["hours"] > 2  # a low rate gets a longer run
    assert (tmp_path / "trumpet.png").stat().st_size > 1000
    assert (tmp_path / "trumpet.csv").read_text().startswith("window_min,")


@pytest.mark.parametrize("rate", ["0.5 mL/h/day", "0.5 mg/day", "100 mL/day"])
def test_trumpet_bad_rate_exits_2(rate: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["trumpet", "--rate", rate, "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.startswith("idds: error:")


def test_show_demo_run_runs_the_plan_it_is_given() -> None:
    console = Console(record=True, width=120)
    program = demo_program(Quantity.of("3.6", "mg/day"), Quantity.of("0.3", "mg"), 4,
                           Quantity.of(20, "mL"), Quantity.of(2, "mL"))
    show_demo_run(console, program)
    text = console.export_text()
    assert "refused" in text and "Last log entries" in text
    assert "3.6 mg/day" in text  # the dose just calculated, not another one
    assert "No alarms." in text  # 20 mL lasts far longer than 4 days at 0.36 mL/day
