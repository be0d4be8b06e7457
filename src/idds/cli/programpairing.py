"""`idds program pair | pairings | unpair`: the programmer's side of the pump's pairing table.

- `idds program pair --port P --wand STATE_DIR`: the wand over the pump (a one-time secret over
  the near-field channel, `idds.link.nearfield`), then SPAKE2 pairing over the radio.
- `idds program pairings [--json]`: the devices paired with the pump (clinician only).
- `idds program unpair DEVICE_OR_KEY [--yes] [--json]`: revoke a pairing by device id or key
  id; the pump, its security log and this programmer's device log record it.

Registered on the `idds program` app by `idds.cli.program`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from idds.cli.devices import confirm, device_dir, hold_wand, one_line_errors, run_with
from idds.cli.output import JsonOption, console, print_json
from idds.link import Role
from idds.programmer import Programmer

MakeProgrammer = Callable[..., Programmer]
DEFAULT_DEVICE = Path("~/.idds/programmer")
Device = Annotated[Path, typer.Option(help="Programmer directory (pairing, audit log).")]
Port = Annotated[int | None, typer.Option(help="Emulator TCP port (default: the stored one).")]


def register(app: typer.Typer, make: MakeProgrammer) -> None:
    """Add the three commands to `app`; `make(device, port, pair_port=...)` builds the
    programmer the way the rest of `idds program` does."""

    @app.command("pair")
    def pair_command(port: Annotated[int, typer.Option(help="Emulator TCP port.")],
                     wand: Annotated[Path, typer.Option(
                         help="The pump's state directory: the programmer's wand over it.")],
                     device: Device = DEFAULT_DEVICE, as_json: JsonOption = False) -> None:
        """Pair this programmer: the wand over the pump, then SPAKE2 over the radio."""
        with one_line_errors():
            dev = device_dir(device, "programmer")
            prog = make(device, None, pair_port=port)
            secret = hold_wand(wand, Role.CLINICIAN)
            pairing = run_with(prog.client, lambda: prog.pair(dev.device_id, secret))
        if as_json:
            print_json({"pump_id": pairing.pump_id, "device_id": pairing.device_id,
                        "role": "clinician", "key_id": pairing.key_id.hex()})
            return
        console().print(f"Paired with {pairing.pump_id} as a clinician programmer "
                        f"(key {pairing.key_id.hex()}).", markup=False)

    @app.command("pairings")
    def pairings_command(device: Device = DEFAULT_DEVICE, port: Port = None,
                         as_json: JsonOption = False) -> None:
        """List the devices paired with the pump (clinician only)."""
        with one_line_errors():
            prog = make(device, port)
            listed = run_with(prog.client, prog.pairings)
        if as_json:
            print_json({"pairings": listed})
            return
        table = Table(title="Paired devices")
        for column in ("device", "role", "key id", "paired at (link s)"):
            table.add_column(column)
        for p in listed:
            table.add_row(str(p.get("device_id")), str(p.get("role")), str(p.get("key_id")),
                          f"{p.get('paired_at')}")
        console().print(table)

    @app.command("unpair")
    def unpair_command(
        target: Annotated[str, typer.Argument(help="Device id or key id (hex) to revoke.")],
        yes: Annotated[bool, typer.Option("--yes", help="Confirm without asking.")] = False,
        device: Device = DEFAULT_DEVICE, port: Port = None, as_json: JsonOption = False,
    ) -> None:
        """Revoke a pairing (clinician only; logged by the pump and by this programmer)."""
        with one_line_errors():
            confirm(f"Unpair {target} from the pump?", yes or as_json)
            prog = make(device, port)
            removed = run_with(prog.client, lambda: prog.unpair(target))
        if as_json:
            print_json({"unpaired": removed})
            return
        names = ", ".join(f"{p.get('device_id')} ({p.get('role')})" for p in removed)
        console().print(f"Unpaired: {names}.", markup=False)
