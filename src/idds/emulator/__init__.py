"""The pump emulator: one implanted-pump firmware model you can connect to over the secure link.

`run_emulator(EmulatorOptions(...), announce)` serves a pump on 127.0.0.1 (TCP), paced from
the wall clock (`PacedClock`: the only place pump time comes from a real clock), persisted in
a state directory (`StateDir`) so a kill -9 loses no acknowledged command. `PumpService` maps
link commands to the firmware. The programmer's wand (near-field channel) is a file in the
state directory (`idds.link.nearfield`). See docs/programmer.md.
"""

from idds.emulator.pacing import PacedClock
from idds.emulator.replies import CommandError
from idds.emulator.server import EmulatorOptions, run_emulator
from idds.emulator.service import PumpService
from idds.emulator.statedir import StateDir, StateDirError

__all__ = [
    "CommandError",
    "EmulatorOptions",
    "PacedClock",
    "PumpService",
    "StateDir",
    "StateDirError",
    "run_emulator",
]
