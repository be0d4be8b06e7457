"""`idds remote`: the patient remote. One action: request a bolus.

- `idds remote pair --port P --wand STATE_DIR`: the remote held over the pump (near-field:
  a one-time secret into the pump's state directory), then SPAKE2 pairing over the radio
- `idds remote bolus [--json]`: given (exit 0) or refused with the reason in plain words
  (exit 1): lockout with minutes left, daily maximum, alarm; or, when the request went out and
  no answer came back, the truth (exit 3): the bolus may or may not have been given, check
  with `idds remote status` before pressing again.
- `idds remote status [--json]`: lockout left, boluses in the last 24 h, the last bolus.

`--device DIR` (default ~/.idds/remote) keeps the pairing and the remote's audit log. A
patient-paired key can do nothing else: the pump's role table refuses it. Bad input or a
link failure: one line on stderr, exit 2.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from idds.cli.devices import (
    client_for,
    device_dir,
    hold_wand,
    one_line_errors,
    pairing_client,
    run_with,
)
from idds.cli.output import JsonOption, console, print_json
from idds.link import Role
from idds.programmer import Remote

DEFAULT_DEVICE = Path("~/.idds/remote")

app = typer.Typer(
    help="Patient remote: request a bolus. Research and training software, not a medical "
    "device.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

Device = Annotated[Path, typer.Option(help="Remote directory (pairing, audit log).")]


@app.command("pair")
def pair_command(port: Annotated[int, typer.Option(help="Emulator TCP port.")],
                 wand: Annotated[Path, typer.Option(
                     help="The pump's state directory: the remote held over the pump.")],
                 device: Device = DEFAULT_DEVICE, as_json: JsonOption = False) -> None:
    """Pair this remote: hold it over the pump (near-field secret), then pair over the radio."""
    with one_line_errors():
        dev = device_dir(device, "remote")
        client = pairing_client(dev, port)
        remote = Remote(client, dev.log)
        secret = hold_wand(wand, Role.PATIENT)
        pairing = run_with(client, lambda: remote.pair(dev.device_id, secret))
    if as_json:
        print_json({"pump_id": pairing.pump_id, "device_id": pairing.device_id,
                    "role": "patient", "key_id": pairing.key_id.hex()})
        return
    console().print(f"Paired with {pairing.pump_id} as a patient remote.", markup=False)


@app.command("bolus")
def bolus_command(
    device: Device = DEFAULT_DEVICE,
    port: Annotated[int | None, typer.Option(help="Emulator TCP port (default: stored).")]
    = None,
    as_json: JsonOption = False,
) -> None:
    """Request a bolus: shows whether it was given, or why not."""
    with one_line_errors():
        dev = device_dir(device, "remote")
        remote = Remote(client_for(dev, port), dev.log, sleep=asyncio.sleep)
        outcome = run_with(remote.client, remote.bolus)
    if as_json:
        print_json({"given": outcome.given, "message": outcome.message, **outcome.details})
    else:
        console().print(outcome.message, markup=False)
    if outcome.given is None:
        raise typer.Exit(3)
    if not outcome.given:
        raise typer.Exit(1)


@app.command("status")
def status_command(
    device: Device = DEFAULT_DEVICE,
    port: Annotated[int | None, typer.Option(help="Emulator TCP port (default: stored).")]
    = None,
    as_json: JsonOption = False,
) -> None:
    """Bolus status: lockout left, boluses in the last 24 h, the last bolus (pump time)."""
    with one_line_errors():
        dev = device_dir(device, "remote")
        remote = Remote(client_for(dev, port), dev.log, sleep=asyncio.sleep)
        status = run_with(remote.client, remote.status)
    if as_json:
        print_json(status)
        return
    console().print(
        f"Last bolus: {status.get('last_bolus') or 'none'}; boluses in the last 24 h: "
        f"{status.get('boluses_24h')} of {status.get('max_per_24h')}; lockout: "
        f"{status.get('lockout_minutes_left')} min left; bolus running: "
        f"{'yes' if status.get('bolus_running') else 'no'}.", markup=False)
