"""`idds program`: the clinician programmer against a running pump emulator.

- `idds program pair --port P --wand STATE_DIR` (the wand over the pump: near-field secret,
  then SPAKE2), `idds program pairings`, `idds program unpair DEVICE_OR_KEY`
  (`idds.cli.programpairing`)
- `idds program interrogate [--json]`
- `idds program therapy --drug D --concentration C --dose "1 mg/day" [--mode continuous|flex
  --flex "HH:MM=DOSE,..."] [--bolus X --bolus-duration "10 min" --lockout "2 h"
  --max-boluses N] [--override "reason"] [--tolerant] [--yes [--confirm-override]] [--json]`
- `idds program refill --withdrawn V --volume V --concentration C [--drug D] [--no-bridge]
  [--yes] [--json]`
- `idds program advise --observations FILE [--controller intelligent|rule-based] [--accept |
  --reject "reason"] [--clinician NAME] [--now ISO] [--yes] [--json]` (advisory mode)
- `idds program prime --reason implant|catheter-revision|drug-change [--yes] [--json]`,
  `idds program alarm-test [--json]`, `idds program log [--verify] [--json]`

Every command takes `--device DIR` (default ~/.idds/programmer: pairing, target, audit log)
and `--port P` (the emulator's port; remembered). Nothing changes the pump until the finish
screen is confirmed (interactive, or `--yes`). Bad input: one line on stderr, exit 2.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from idds.cli.advice_screen import show_advice
from idds.cli.confirmations import AGAIN_HELP, OVERRIDE_HELP, confirm_override, show_prime
from idds.cli.devices import (
    client_for,
    confirm,
    device_dir,
    one_line_errors,
    pairing_client,
    run_with,
)
from idds.cli.druglib import LibraryOption, open_library
from idds.cli.output import JsonOption, console, print_json
from idds.cli.programpairing import register as register_pairing
from idds.errors import IddsError
from idds.programmer import (
    Programmer,
    RefillRequest,
    TherapyPlan,
    TherapyRequest,
)
from idds.programmer.advisory import (
    Choice,
    VisitRequest,
    check_controller,
    close_visit,
    load_observations,
    open_visit,
    parse_time,
)
from idds.programmer.anchor import AnchorStore
from idds.programmer.entry import TherapyFields, therapy_of
from idds.programmer.priming import PrimePlan, prime_reason
from idds.programmer.screens import (
    finish_table,
    log_table,
    refill_table,
    status_table,
)
from idds.programmer.status import PumpStatus
from idds.units import Kind, parse_quantity

DEFAULT_DEVICE = Path("~/.idds/programmer")

app = typer.Typer(
    help="Clinician programmer: pair (with the wand), list and revoke pairings, interrogate, "
    "program therapy, refill, prime, alarm test, "
    "read the log. Research and training software, not a medical device.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

Device = Annotated[Path, typer.Option(help="Programmer directory (pairing, audit log).")]
Port = Annotated[int | None, typer.Option(help="Emulator TCP port (default: the stored one).")]
Yes = Annotated[bool, typer.Option("--yes", help="Confirm without asking (scripts).")]


class OptionError(IddsError):
    """Options that do not go together."""


def _programmer(device: Path, port: int | None, library: Path | None = None, *,
                pair_port: int | None = None) -> Programmer:
    """The one way this CLI builds the programmer: its device directory, the link (to the
    stored pump, or to `pair_port` for pairing), the drug library and the calendar."""
    dev = device_dir(device, "programmer")
    client = pairing_client(dev, pair_port) if pair_port is not None else client_for(dev, port)
    return Programmer(client, dev.log, open_library(library, None), date.today,
                      sleep=asyncio.sleep, anchors=AnchorStore(dev.path))


def _out() -> Console:
    return console()


def _json_needs_yes(refused: bool, flags: str) -> None:
    """JSON output has no interactive confirm: a command that sends needs --yes with it."""
    if refused:
        raise OptionError(f"{flags} needs --yes (there is no interactive confirm in JSON)")


def _show_finish(out: Console, plan: TherapyPlan) -> None:
    """The finish screen of a therapy: the old and new settings, then the plan's notes."""
    out.print(finish_table(plan))
    for note in plan.notes:
        out.print(f"  {note}", markup=False)


register_pairing(app, _programmer)


@app.command("interrogate")
def interrogate_command(device: Device = DEFAULT_DEVICE, port: Port = None,
                        as_json: JsonOption = False) -> None:
    """Read therapy, reservoir estimate, battery, alarms and the last events."""
    with one_line_errors():
        prog = _programmer(device, port)
        status = run_with(prog.client, prog.interrogate)
    if as_json:
        print_json({**status.raw, "log_warning": status.log_warning})
        return
    show_status(_out(), status)


def show_status(out: Console, status: PumpStatus) -> None:
    """The interrogation screen (a log the programmer's anchor finds truncated, rewritten or
    rolled back is a WARNING first)."""
    if status.log_warning:
        out.print(f"[bold red]WARNING[/bold red] {status.log_warning}", highlight=False)
    out.print(status_table(status))
    out.print("[bold]Last events[/bold]")
    for line in status.last_events:
        out.print(f"  {line}", markup=False)


@app.command("therapy")
def therapy_command(
    drug: Annotated[str, typer.Option(help="Drug (library name) in the pump.")],
    concentration: Annotated[str, typer.Option(help='Concentration in the pump, "10 mg/mL".')],
    dose: Annotated[str | None, typer.Option(help='Basal dose per day, "1 mg/day".')] = None,
    mode: Annotated[str, typer.Option(help="continuous or flex.")] = "continuous",
    flex: Annotated[str | None, typer.Option(
        help='Flex steps "HH:MM=DOSE,..." (first at 00:00), every day.')] = None,
    bolus: Annotated[str | None, typer.Option(help='Patient bolus dose, "0.1 mg".')] = None,
    bolus_duration: Annotated[str | None, typer.Option(
        help='Time over which one bolus is given, "10 min".')] = None,
    lockout: Annotated[str | None, typer.Option(
        help='Lockout from the start of the last bolus, "2 h".')] = None,
    max_boluses: Annotated[int | None, typer.Option(
        help="Maximum patient boluses per rolling 24 h.")] = None,
    override: Annotated[str | None, typer.Option(help=OVERRIDE_HELP)] = None,
    again: Annotated[bool, typer.Option("--confirm-override", help=AGAIN_HELP)] = False,
    tolerant: Annotated[bool, typer.Option(
        "--tolerant", help="Opioid-tolerant patient (starting-dose range).")] = False,
    yes: Yes = False, as_json: JsonOption = False, device: Device = DEFAULT_DEVICE,
    port: Port = None, library: LibraryOption = None,
) -> None:
    """Program a therapy: library checks, finish screen, confirm, send."""
    with one_line_errors():
        _json_needs_yes(as_json and not yes, "--json")
        therapy = therapy_of(TherapyFields(mode, dose, flex, bolus, bolus_duration, lockout,
                                           max_boluses), prefix="--")
        request = TherapyRequest(drug, parse_quantity(concentration, Kind.CONCENTRATION,
                                                      "--concentration"),
                                 therapy, override, tolerant)
        prog = _programmer(device, port, library)

        async def go() -> tuple[TherapyPlan, dict[str, Any]]:
            plan = await prog.plan_therapy(request)
            if not as_json:
                _show_finish(_out(), plan)
            confirm("Send this therapy to the pump?", yes)
            plan = confirm_override(None if as_json else _out(), plan, yes, again)
            return plan, await prog.send_therapy(plan)

        plan, result = run_with(prog.client, go)
    if as_json:
        print_json({"finish": plan.as_json(), "result": result})
        return
    _out().print(f"Sent and confirmed by the pump: {result.get('new')} "
                 f"(was: {result.get('old')}).", markup=False)


@app.command("refill")
def refill_command(
    withdrawn: Annotated[str, typer.Option(help='Volume withdrawn, measured, "12.4 mL".')],
    volume: Annotated[str, typer.Option(help='Volume filled, "20 mL".')],
    concentration: Annotated[str, typer.Option(help='New concentration, "10 mg/mL".')],
    drug: Annotated[str | None, typer.Option(help="Drug (default: the one in the pump).")] = None,
    no_bridge: Annotated[bool, typer.Option(
        "--no-bridge", help="No bridge bolus after a concentration change.")] = False,
    yes: Yes = False, as_json: JsonOption = False, device: Device = DEFAULT_DEVICE,
    port: Port = None, library: LibraryOption = None,
) -> None:
    """Refill: expected versus withdrawn, new volume and concentration, bridge bolus."""
    with one_line_errors():
        _json_needs_yes(as_json and not yes, "--json")
        request = RefillRequest(parse_quantity(withdrawn, Kind.VOLUME, "--withdrawn"),
                                parse_quantity(volume, Kind.VOLUME, "--volume"),
                                parse_quantity(concentration, Kind.CONCENTRATION,
                                               "--concentration"),
                                drug, keep_dose=True, bridge=not no_bridge)
        prog = _programmer(device, port, library)

        async def go() -> tuple[Any, dict[str, Any]]:
            change = await prog.plan_refill(request)
            if not as_json:
                out = _out()
                out.print(refill_table(change))
                for warning in change.warnings:
                    out.print(f"[bold red]WARNING[/bold red] {warning}", highlight=False)
            question = "Mismatch: fill anyway?" if change.mismatch else "Send this refill?"
            confirm(question, yes)
            return change, await prog.send_refill(change)

        change, result = run_with(prog.client, go)
    if as_json:
        print_json({"warnings": list(change.warnings), "result": result})
        return
    _out().print(f"Refilled: {result.get('drug')}; infusing: "
                 f"{'yes' if result.get('infusing') else 'NO'}; bridge bolus: "
                 f"{'yes' if result.get('bridge_bolus') else 'no'}.", markup=False)


@app.command("prime")
def prime_command(
    reason: Annotated[str, typer.Option(
        help="Why the catheter is empty: implant, catheter-revision or drug-change.")],
    yes: Yes = False, as_json: JsonOption = False, device: Device = DEFAULT_DEVICE,
    port: Port = None, library: LibraryOption = None,
) -> None:
    """Priming bolus: fill the EMPTY catheter once (after implant, revision or drug change)."""
    with one_line_errors():
        _json_needs_yes(as_json and not yes, "--json")
        why = prime_reason(reason)
        prog = _programmer(device, port, library)

        async def go() -> tuple[PrimePlan, dict[str, Any]]:
            plan = show_prime(None if as_json else _out(), await prog.plan_prime(why), yes)
            return plan, await prog.prime(plan)

        plan, result = run_with(prog.client, go)
    if as_json:
        print_json({"caution": plan.lines()[1], **result})
        return
    _out().print(f"Priming bolus started: {result.get('volume')} = {result.get('mass')} over "
                 f"{result.get('minutes')} min.", markup=False)


@app.command("alarm-test")
def alarm_test_command(as_json: JsonOption = False, device: Device = DEFAULT_DEVICE,
                       port: Port = None) -> None:
    """Sound each alarm tone once (logged)."""
    with one_line_errors():
        prog = _programmer(device, port)
        result = run_with(prog.client, prog.alarm_test)
    if as_json:
        print_json(result)
        return
    tones = result.get("tones")
    _out().print("Alarm test: " + "; ".join(str(t) for t in tones)
                 if isinstance(tones, list) else "Alarm test done.", markup=False)


@app.command("log")
def log_command(
    verify: Annotated[bool, typer.Option("--verify", help="Exit 2 unless the chain verifies.")]
    = False,
    as_json: JsonOption = False, device: Device = DEFAULT_DEVICE, port: Port = None,
) -> None:
    """Download the pump's hash-chained event log and verify it."""
    with one_line_errors():
        prog = _programmer(device, port)
        download = run_with(prog.client, prog.read_log)
        if verify and not download.verified:
            raise IddsError(f"the pump's log does NOT verify: {download.reason}")
    if as_json:
        print_json({"verified": download.verified, "reason": download.reason,
                    "head": download.head,
                    "clock_epoch": (download.clock_epoch.isoformat() if download.clock_epoch
                                    else None),
                    "entries": [e.as_json(download.when) for e in download.entries]})
        return
    out = _out()
    out.print(log_table(download.entries, clock=download.when))
    out.print(f"{len(download.entries)} entries; hash chain "
              + ("verified." if download.verified else f"FAILED: {download.reason}"),
              markup=False)


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown clinician"


@app.command("advise")
def advise_command(
    observations: Annotated[Path, typer.Option(
        "--observations", help="Clinician observations, TOML (examples/advice/patient.toml).")],
    controller: Annotated[str, typer.Option(help="intelligent or rule-based.")] = "intelligent",
    accept_: Annotated[bool, typer.Option(
        "--accept", help="Accept: program the advised therapy (library checks, confirm).")]
    = False,
    reject_: Annotated[str | None, typer.Option(
        "--reject", help="Reject, with this reason: nothing is sent.")] = None,
    clinician: Annotated[str | None, typer.Option(
        help="Who decides (default: the file's clinician, else the login name).")] = None,
    now: Annotated[str | None, typer.Option(
        "--now", help="Visit time, ISO 8601 (default: now; local time without an offset).")]
    = None,
    yes: Yes = False, as_json: JsonOption = False, device: Device = DEFAULT_DEVICE,
    port: Port = None, library: LibraryOption = None,
) -> None:
    """Advisory mode: observations -> controller -> safety supervisor -> advice; accept or
    reject it (the decision is logged). Research and training software, not a medical device."""
    with one_line_errors():
        if accept_ and reject_ is not None:
            raise OptionError("--accept and --reject exclude each other: choose one")
        if reject_ is not None and not reject_.strip():
            raise OptionError('--reject needs a reason, like --reject "pain acceptable"')
        _json_needs_yes(as_json and accept_ and not yes, "--json --accept")
        check_controller(controller)
        clinical = load_observations(observations)
        visit_time = parse_time(now) if now else dt.datetime.now().astimezone()
        dev = device_dir(device, "programmer")
        request = VisitRequest(clinical, controller, clinician or clinical.clinician or _login(),
                               visit_time, dev.path, dev.device_id)
        prog = _programmer(device, port, library)
        choice = Choice.ACCEPT if accept_ else Choice.REJECT if reject_ is not None else Choice.SHOW
        out = _out()

        def finish(plan: TherapyPlan) -> None:
            if not as_json:
                _show_finish(out, plan)
            confirm("Send this therapy to the pump?", yes)

        async def go() -> dict[str, Any]:
            visit = await open_visit(prog, request, prog.library)
            if not as_json:
                show_advice(out, visit.run, visit.state_note)
            report = await close_visit(prog, visit, choice, reject_, finish)
            return report.as_json()

        report = run_with(prog.client, go)
        who = request.clinician
    if as_json:
        print_json(report)
        return
    decision = report["decision"]
    if decision is None:
        out.print('Nothing sent. Decide with --accept or --reject "reason" (the advice was '
                  "logged as shown).", markup=False)
    elif decision["outcome"] == "rejected":
        out.print(f"Rejected by {who}: {decision['reason']}. Nothing was sent; the rejection "
                  "is in the device log.", markup=False)
    elif not decision["sent"]:
        out.print(f"Accepted by {who}: the advice keeps the current program; nothing to send. "
                  "Logged.", markup=False)
    else:
        result = report["result"]
        out.print(f"Accepted by {who}; sent and confirmed by the pump: {result.get('new')} "
                  f"(was: {result.get('old')}). Logged.", markup=False)
